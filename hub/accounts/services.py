"""Account operations behind the profile, privacy and deletion pages (and the API).

Law 25: the export gathers what every enabled module holds through
``hub_user_data_export``; the erasure asks every module to erase or anonymise through
``hub_user_data_erase`` and then deletes the account.

What is kept for legal reasons is anonymised, not deleted, by the modules that hold it:
service requests (the city must keep its records of work done) lose the link to the
account and the reporter's contact details; consent records of communications keep the
date and the action but no address.  The account row itself, its sessions, API tokens,
email addresses and MFA authenticators are deleted.
"""

from __future__ import annotations

import logging
import re
from typing import Any

from django.contrib.sessions.models import Session
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from hub.oidc.views import granted_applications
from hub.plugins.manager import get_plugin_manager, hooks

logger = logging.getLogger(__name__)

# Canada Post: letter digit letter digit letter digit; D, F, I, O, Q and U are never
# used, nor W or Z as the first letter.
POSTAL_CODE_RE = re.compile(
    r"[ABCEGHJ-NPRSTVXY][0-9][ABCEGHJ-NPRSTV-Z][0-9][ABCEGHJ-NPRSTV-Z][0-9]"
)


def normalise_postal_code(value: str | None) -> str:
    """``"j6t-2m2"`` → ``"J6T 2M2"``; ``""`` stays empty; anything else is refused.

    The profile form and the API both go through here, so the rule holds on every path.
    """
    compact = "".join((value or "").upper().replace("-", " ").split())
    if not compact:
        return ""
    if not POSTAL_CODE_RE.fullmatch(compact):
        raise ValidationError(_("Enter a Canadian postal code, e.g. J6T 2M2."),
                              code="invalid_postal_code")
    return f"{compact[:3]} {compact[3:]}"


def account_data(user) -> dict[str, Any]:
    """What the hub itself holds about the user."""
    return {
        "email": user.email,
        "first_name": user.first_name,
        "last_name": user.last_name,
        "phone": user.phone,
        "preferred_language": user.preferred_language,
        "civic_address": user.civic_address,
        "postal_code": user.postal_code,
        "date_joined": user.date_joined.isoformat(),
        "last_login": user.last_login.isoformat() if user.last_login else None,
        "departments": [d.name for d in user.departments.all()],
        "authorized_services": [
            {"service": grant["application"].name, "scopes": sorted(grant["scopes"])}
            for grant in granted_applications(user)
        ],
        "email_addresses": [
            {"email": a.email, "verified": a.verified, "primary": a.primary}
            for a in user.emailaddress_set.all()
        ],
    }


def export_user_data(user) -> dict[str, Any]:
    """The user's personal data as one JSON-serialisable document, module by module."""
    pm = get_plugin_manager()
    caller = hooks().hub_user_data_export
    modules: dict[str, Any] = {}
    for impl in reversed(caller.get_hookimpls()):
        result = impl.function(user=user)
        if result is not None:
            modules[pm.get_name(impl.plugin)] = result
    return {
        "generated_at": timezone.now().isoformat(),
        "account": account_data(user),
        "modules": modules,
    }


def revoke_sessions(user, keep_session_key: str | None = None) -> int:
    """Delete the user's sessions (all but ``keep_session_key``); returns how many.

    Sessions are signed blobs keyed by id, so finding a user's means decoding them; the
    hub keeps it bounded to unexpired sessions.
    """
    revoked = 0
    user_pk = str(user.pk)
    for session in Session.objects.filter(expire_date__gt=timezone.now()).iterator():
        if session.session_key == keep_session_key:
            continue
        if session.get_decoded().get("_auth_user_id") == user_pk:
            session.delete()
            revoked += 1
    return revoked


@transaction.atomic
def delete_account(user) -> None:
    """Erase the user everywhere, then delete the account.

    Modules run inside the transaction: if one fails, nothing is erased and the error
    reaches the caller, so the citizen is told instead of being half-deleted.
    """
    hooks().hub_user_data_erase(user=user)
    revoke_sessions(user)
    if hasattr(user, "auth_token"):
        user.auth_token.delete()
    logger.info("Account %s deleted at the user's request", user.pk)
    user.delete()
