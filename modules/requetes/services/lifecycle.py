"""The life of a service request: creation, the workflow's transitions, internal notes,
reopening, following and comments.  Each change records its event in the history and
tells the request's people (``telling``) inside its transaction."""

from __future__ import annotations

import datetime
import uuid
from collections.abc import Iterable
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from hub.plugins.manager import fire_event

from ..models import Category, ReferenceCounter, RequestEvent, ServiceRequest
from .answers import validate_answers
from .calendar import due_date_for
from .permissions import can_handle, is_administrator, is_intake_agent, is_staff_for_requests
from .photos import _save_photos, prepare_photos
from .telling import _changed, _created_payload, _tell_people
from .territory import place

Status = ServiceRequest.Status
Reason = ServiceRequest.ClosureReason
Channel = ServiceRequest.Channel

MAX_DESCRIPTION = 4000
REOPEN_DAYS = 14

TRANSITIONS = {
    Status.NEW: {Status.ACKNOWLEDGED, Status.ASSIGNED, Status.IN_PROGRESS, Status.CLOSED},
    Status.ACKNOWLEDGED: {Status.ASSIGNED, Status.IN_PROGRESS, Status.CLOSED},
    Status.ASSIGNED: {Status.ASSIGNED, Status.IN_PROGRESS, Status.CLOSED},
    Status.IN_PROGRESS: {Status.ASSIGNED, Status.CLOSED},
    Status.CLOSED: set(),
}


# --- creation ---------------------------------------------------------------------------

def next_reference(year: int) -> str:
    """The next reference of ``year`` (``2026-000123``).  The counter row is updated
    in the caller's transaction, so concurrent requests wait for each other's commit
    (row lock on PostgreSQL, the write lock on SQLite) and never share a number."""
    with transaction.atomic():
        if not ReferenceCounter.objects.filter(year=year).update(last=F("last") + 1):
            try:
                with transaction.atomic():
                    ReferenceCounter.objects.create(year=year, last=1)
            except IntegrityError:
                ReferenceCounter.objects.filter(year=year).update(last=F("last") + 1)
        value = ReferenceCounter.objects.get(year=year).last
    return f"{year}-{value:06d}"


def _category(category) -> Category:
    if isinstance(category, Category):
        category_obj = Category.objects.filter(pk=category.pk).first()
    else:
        category_obj = Category.objects.filter(
            Q(service_code=str(category)) | (Q(pk=category) if str(category).isdigit()
                                            else Q(pk__in=[]))).first()
    if category_obj is None:
        raise ValidationError({"category": _("Unknown category.")})
    if not category_obj.active:
        raise ValidationError({"category": _("This category no longer accepts requests.")})
    return category_obj


def create_request(*, actor, category, description: str, latitude, longitude,
                   answers: dict | None = None, address: str = "",
                   channel: str = Channel.WEB, citizen=None, caller_name: str = "",
                   caller_email: str = "", caller_phone: str = "",
                   contact_channel: str = ServiceRequest.ContactChannel.EMAIL,
                   description_public: bool = False, priority: str = "normal",
                   photos: Iterable = (), submission_key=None) -> ServiceRequest:
    """Validate and create a request, record its first event, fire ``request_created``.

    The place is :func:`place`'s: ``latitude``/``longitude`` when given, else
    ``address`` found in the civic address register.

    ``channel`` web/app: ``actor`` is the signed-in citizen and becomes its requester.
    phone/counter/email: ``actor`` must be an intake agent or an administrator; the
    requester is ``citizen`` (a found account) or the caller's contact details.
    open311: ``actor`` may be ``None`` (the API key was checked by the caller).
    ``submission_key`` makes a retried submission return the first request.
    """
    if submission_key:
        try:
            submission_key = uuid.UUID(str(submission_key))
        except ValueError:
            raise ValidationError({"submission_key": _("Invalid submission key.")}) from None
        existing = ServiceRequest.objects.filter(submission_key=submission_key).first()
        if existing is not None:
            if existing.citizen_id and actor and existing.citizen_id != actor.pk \
                    and not is_staff_for_requests(actor):
                raise ValidationError({"submission_key": _("Invalid submission key.")})
            return existing
    if channel not in Channel.values:
        raise ValidationError({"channel": _("Unknown channel.")})
    if channel in (Channel.WEB, Channel.APP):
        if not actor or not actor.is_authenticated:
            raise PermissionDenied(_("Sign in to report a problem."))
        citizen = actor
    elif channel in (Channel.PHONE, Channel.COUNTER, Channel.EMAIL):
        if not (is_intake_agent(actor) or is_administrator(actor)):
            raise PermissionDenied(_("Only intake agents record requests for a caller."))
        if citizen is None and not (caller_name.strip() and (
                caller_email.strip() or caller_phone.strip())):
            raise ValidationError({"caller_name": _(
                "Find the resident's account, or give the caller's name and a phone "
                "number or email address.")})
    if priority not in ServiceRequest.Priority.values:
        raise ValidationError({"priority": _("Unknown priority.")})
    if contact_channel not in ServiceRequest.ContactChannel.values:
        raise ValidationError({"contact_channel": _("Unknown contact channel.")})

    category = _category(category)
    errors: dict[str, Any] = {}
    description = (description or "").strip()
    if not description:
        errors["description"] = _("Describe the problem.")
    elif len(description) > MAX_DESCRIPTION:
        errors["description"] = _("The description is limited to 4,000 characters.")
    lat = lon = cleaned_answers = None
    try:
        lat, lon, address = place(latitude, longitude, address)
    except ValidationError as error:
        errors.update(error.message_dict)
    try:
        cleaned_answers = validate_answers(category, answers)
    except ValidationError as error:
        errors.update(error.message_dict)
    try:
        prepared = prepare_photos(photos)
    except ValidationError as error:
        errors.update(error.message_dict)
    if errors:
        raise ValidationError(errors)

    now = timezone.now()
    try:
        with transaction.atomic():
            request = ServiceRequest.objects.create(
                reference=next_reference(timezone.localdate(now).year),
                category=category, description=description,
                description_public=bool(description_public), answers=cleaned_answers,
                latitude=lat, longitude=lon, address=(address or "").strip()[:255],
                channel=channel, citizen=citizen,
                caller_name="" if citizen else caller_name.strip()[:120],
                caller_email="" if citizen else caller_email.strip()[:254],
                caller_phone="" if citizen else caller_phone.strip()[:32],
                contact_channel=contact_channel, priority=priority,
                department=category.department, due_date=due_date_for(category, now),
                submission_key=submission_key or None, created_at=now,
            )
            if citizen is not None:
                request.followers.add(citizen)
            RequestEvent.objects.create(
                request=request, kind=RequestEvent.Kind.CREATED,
                actor=actor if actor and actor.is_authenticated else None,
                to_status=Status.NEW, by_staff=channel not in (Channel.WEB, Channel.APP),
                created_at=now)
            _save_photos(request, prepared, actor)
            fire_event("request_created", created=_created_payload(request))
    except IntegrityError:
        if submission_key:
            existing = ServiceRequest.objects.filter(submission_key=submission_key).first()
            if existing is not None:
                return existing
        raise
    return request


# --- workflow ---------------------------------------------------------------------------

def _lock(request: ServiceRequest) -> ServiceRequest:
    return ServiceRequest.objects.select_for_update().get(pk=request.pk)


DOUBLE_SUBMIT_SECONDS = 120


def _repeated(request: ServiceRequest, *, actor, kind: str, public_message: str,
              internal_note: str = "", to_status: str = "") -> RequestEvent | None:
    """The event the same person just recorded with the same words (a form sent twice:
    a double click, a browser retrying the POST), or None.  Called under the request's
    lock, so a second submission returns the first one's event instead of recording
    (and telling the residents) the same thing again."""
    last = request.events.order_by("-created_at", "-pk").first()
    if last is None or last.kind != kind or last.actor_id != getattr(actor, "pk", None):
        return None
    if (last.public_message, last.internal_note, last.to_status) != (
            public_message, internal_note, to_status):
        return None
    age = timezone.now() - last.created_at
    return last if age <= datetime.timedelta(seconds=DOUBLE_SUBMIT_SECONDS) else None


def transition(request: ServiceRequest, *, actor, to_status: str, public_message: str = "",
               internal_note: str = "", assignee=None, closure_reason: str = "",
               closure_note: str = "", duplicate_of: ServiceRequest | str | None = None
               ) -> RequestEvent:
    """Move ``request`` to ``to_status``; only an administrator or an agent of the
    request's department may.  Records the event, tells the requester and the followers
    when the step means something to them, and fires ``request_status_changed``."""
    if not can_handle(actor, request):
        raise PermissionDenied(_("Only the department handling this request may change it."))
    if to_status not in Status.values:
        raise ValidationError({"to_status": _("Unknown status.")})
    with transaction.atomic():
        request = _lock(request)
        old = request.status
        if to_status == old and (assignee is None or assignee.pk == request.assigned_to_id):
            repeated = _repeated(request, actor=actor, kind=RequestEvent.Kind.STATUS,
                                 public_message=(public_message or "").strip(),
                                 internal_note=(internal_note or "").strip(),
                                 to_status=to_status)
            if repeated is not None:
                return repeated
        if to_status not in TRANSITIONS[Status(old)]:
            raise ValidationError({"to_status": _(
                "A request cannot go from “%(old)s” to “%(new)s”.") % {
                "old": Status(old).label, "new": Status(to_status).label}})
        errors: dict[str, str] = {}
        target = None
        if to_status == Status.ASSIGNED:
            if assignee is None:
                errors["assignee"] = _("Choose the agent to assign.")
            elif not (assignee.departments.filter(pk=request.department_id).exists()
                      or is_administrator(assignee)):
                errors["assignee"] = _("This person is not an agent of the department.")
            else:
                request.assigned_to = assignee
        if to_status == Status.CLOSED:
            note = (closure_note or "").strip()
            if closure_reason not in Reason.values:
                errors["closure_reason"] = _("Choose why the request is closed.")
            elif closure_reason == Reason.NOT_CITY and not note:
                errors["closure_note"] = _("Say whose responsibility it is.")
            elif closure_reason == Reason.WONT_FIX and not note:
                errors["closure_note"] = _("Give the reason it will not be fixed.")
            elif closure_reason == Reason.DUPLICATE:
                target = duplicate_of
                if isinstance(target, str):
                    target = ServiceRequest.objects.filter(reference=target.strip()).first()
                if target is None:
                    errors["duplicate_of"] = _("Give the reference of the original request.")
                elif target.pk == request.pk:
                    errors["duplicate_of"] = _("A request cannot duplicate itself.")
                elif target.duplicate_of_id == request.pk:
                    errors["duplicate_of"] = _("That request is already a duplicate of "
                                               "this one.")
            if not errors:
                request.closure_reason = closure_reason
                request.closure_note = note
                request.duplicate_of = target
                request.closed_at = timezone.now()
        if errors:
            raise ValidationError(errors)
        request.status = to_status
        if old == Status.NEW and request.acknowledged_at is None:
            request.acknowledged_at = timezone.now()
        request.save()
        event = RequestEvent.objects.create(
            request=request, kind=RequestEvent.Kind.STATUS, actor=actor, from_status=old,
            to_status=to_status, public_message=(public_message or "").strip(),
            internal_note=(internal_note or "").strip(), by_staff=True)
        # Told before the duplicate's people move to the original request.
        _changed(request, event, old, actor=actor)
        if target is not None:
            moving = list(request.followers.all())
            if request.citizen_id:
                moving.append(request.citizen)
            target.followers.add(*moving)
            RequestEvent.objects.create(
                request=target, kind=RequestEvent.Kind.MERGED, actor=actor, by_staff=True,
                public_message=_("Request %(ref)s was merged into this one.") % {
                    "ref": request.reference})
    return event


def add_internal_note(request: ServiceRequest, *, actor, note: str) -> RequestEvent:
    if not can_handle(actor, request):
        raise PermissionDenied(_("Only the department handling this request may change it."))
    note = (note or "").strip()
    if not note:
        raise ValidationError({"internal_note": _("Write the note.")})
    return RequestEvent.objects.create(request=request, kind=RequestEvent.Kind.NOTE,
                                       actor=actor, internal_note=note[:4000], by_staff=True)


def can_reopen(request: ServiceRequest, user) -> bool:
    return bool(user and user.is_authenticated and request.citizen_id == user.pk
                and request.status == Status.CLOSED and request.closed_at
                and timezone.now() - request.closed_at <= datetime.timedelta(days=REOPEN_DAYS))


def reopen(request: ServiceRequest, *, actor, message: str) -> RequestEvent:
    """The requester says it is not fixed, within 14 days of closure: back to the
    department's queue as a new request flagged reopened."""
    if not actor or not actor.is_authenticated or request.citizen_id != actor.pk:
        raise PermissionDenied(_("Only the person who made the request may reopen it."))
    message = (message or "").strip()
    if not message:
        raise ValidationError({"message": _("Say what is still wrong.")})
    with transaction.atomic():
        request = _lock(request)
        if not can_reopen(request, actor):
            raise ValidationError({"message": _(
                "A request can be reopened only within 14 days of its closure.")})
        old = request.status
        request.status = Status.NEW
        request.reopened = True
        request.closure_reason = ""
        request.closure_note = ""
        request.closed_at = None
        request.due_date = due_date_for(request.category)
        request.save()
        event = RequestEvent.objects.create(
            request=request, kind=RequestEvent.Kind.REOPENED, actor=actor, from_status=old,
            to_status=Status.NEW, public_message=message[:4000])
        _changed(request, event, old, actor=actor)
    return event


def follow(request: ServiceRequest, *, user) -> bool:
    """"Me too": ``user`` gets the request's updates.  True when newly following."""
    if not user or not user.is_authenticated:
        raise PermissionDenied(_("Sign in to follow a request."))
    if not request.is_open:
        raise ValidationError({"request": _("This request is closed.")})
    if request.followers.filter(pk=user.pk).exists():
        return False
    request.followers.add(user)
    RequestEvent.objects.create(request=request, kind=RequestEvent.Kind.FOLLOWED, actor=user)
    return True


def unfollow(request: ServiceRequest, *, user) -> None:
    if user and user.is_authenticated and request.citizen_id != user.pk:
        request.followers.remove(user)


def add_comment(request: ServiceRequest, *, actor, message: str,
                photos: Iterable = ()) -> RequestEvent:
    """A public comment (and photos) by the requester or the handling department; the
    request's other people are told."""
    staff = can_handle(actor, request)
    if not staff and not (actor and actor.is_authenticated
                          and request.citizen_id == actor.pk):
        raise PermissionDenied(_("You cannot comment on this request."))
    message = (message or "").strip()
    errors = {}
    if not message:
        errors["message"] = _("Write your comment.")
    elif len(message) > MAX_DESCRIPTION:
        errors["message"] = _("A comment is limited to 4,000 characters.")
    prepared = []
    try:
        prepared = prepare_photos(photos, already=request.photos.count())
    except ValidationError as error:
        errors.update(error.message_dict)
    if errors:
        raise ValidationError(errors)
    with transaction.atomic():
        request = _lock(request)
        repeated = _repeated(request, actor=actor, kind=RequestEvent.Kind.COMMENT,
                             public_message=message)
        if repeated is not None:
            return repeated
        event = RequestEvent.objects.create(request=request, kind=RequestEvent.Kind.COMMENT,
                                            actor=actor, public_message=message,
                                            by_staff=staff)
        _save_photos(request, prepared, actor)
        _tell_people(request, event, request.status, actor=actor)
    return event
