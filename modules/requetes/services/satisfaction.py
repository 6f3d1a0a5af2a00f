"""The one satisfaction question after closure."""

from __future__ import annotations

from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone
from django.utils.translation import gettext as _

from ..models import ServiceRequest

Status = ServiceRequest.Status

SATISFACTION_SCORES = range(1, 6)
MAX_SATISFACTION_COMMENT = 1000


def can_answer_satisfaction(request: ServiceRequest, user) -> bool:
    """The one question after closure: only the requester, only once, only closed."""
    return bool(user and user.is_authenticated and request.citizen_id == user.pk
                and request.status == Status.CLOSED and request.satisfaction is None)


def _score(value) -> int:
    if isinstance(value, bool):
        raise ValueError
    if isinstance(value, int):
        score = value
    else:
        text = str(value).strip()
        if not text.isdigit():
            raise ValueError
        score = int(text)
    if score not in SATISFACTION_SCORES:
        raise ValueError
    return score


def record_satisfaction(request: ServiceRequest, *, actor, score, comment: str = ""
                        ) -> ServiceRequest:
    """Record the requester's answer (1 to 5, optional comment) to the satisfaction
    question of a closed request.  One answer per request: the conditional update makes
    a second answer (two tabs, a double click) change nothing."""
    if not actor or not actor.is_authenticated or request.citizen_id != actor.pk:
        raise PermissionDenied(_("Only the person who made the request may answer."))
    errors = {}
    try:
        score = _score(score)
    except (TypeError, ValueError):
        errors["satisfaction"] = _("Choose an answer from 1 to 5.")
    comment = (comment or "").strip()
    if len(comment) > MAX_SATISFACTION_COMMENT:
        errors["satisfaction_comment"] = _("The comment is limited to 1,000 characters.")
    if errors:
        raise ValidationError(errors)
    now = timezone.now()
    updated = ServiceRequest.objects.filter(
        pk=request.pk, citizen=actor, status=Status.CLOSED, satisfaction__isnull=True,
    ).update(satisfaction=score, satisfaction_comment=comment, satisfaction_at=now)
    if not updated:
        current = ServiceRequest.objects.filter(pk=request.pk).values_list(
            "status", "satisfaction").first()
        if current and current[1] is not None:
            raise ValidationError({"satisfaction": _("You already answered, thank you.")})
        raise ValidationError({"satisfaction": _(
            "The question is asked once the request is closed.")})
    request.satisfaction, request.satisfaction_comment = score, comment
    request.satisfaction_at = now
    return request
