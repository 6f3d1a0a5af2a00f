"""The staff access log (Québec's Law 25, accountability): each time a staff member reads
a resident's personal data — a request's detail with the requester's contact, an export,
a resident's account in the admin — one row is written (who, whose, what, when, why:
the route) and one structured line goes to the ``hub.security`` logger.

Modules call :func:`record_personal_data_read` from their staff views (it is part of the
hub's public surface, docs/modules.md).  Rows are append-only; administrators read them
in the admin (Settings → Personal data accesses)."""

from __future__ import annotations

import logging

logger = logging.getLogger("hub.security")


def _clean(text: str, limit: int) -> str:
    """One line, bounded: CR/LF in a path or a label cannot forge a log line."""
    return " ".join(str(text or "").split())[:limit]


def record_personal_data_read(request, *, what: str, subject=None, subject_label: str = ""):
    """Record that ``request.user`` (staff) read ``what`` about ``subject`` (an account,
    or ``None`` for a caller without one, named by ``subject_label``).  Returns the row,
    or ``None`` when the reader is not signed in."""
    from hub.models import PersonalDataAccess

    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return None
    route = _clean(f"{request.method} {request.get_full_path()}", 300)
    row = PersonalDataAccess.objects.create(
        staff=user, staff_email=user.email, subject=subject,
        subject_label=_clean(subject_label, 200), what=_clean(what, 100), reason=route)
    logger.info("personal_data_read staff=%s subject=%s record=%s what=%s route=%s",
                user.pk, getattr(subject, "pk", None) or "-", row.subject_label or "-",
                row.what, route, extra={"event": "personal_data_read", "staff_id": user.pk,
                                        "subject_id": getattr(subject, "pk", None),
                                        "record": row.subject_label, "what": row.what,
                                        "route": route})
    return row
