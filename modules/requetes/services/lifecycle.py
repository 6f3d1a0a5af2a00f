"""Domain operations on service requests.  The web pages, the admin, the API and Open311
all go through these functions, so validation, the workflow, role checks, the history and
the events hold on every path.

Errors: ``django.core.exceptions.ValidationError`` (a dict naming the field) for bad
input, ``PermissionDenied`` when the actor may not do it.  Nothing is changed in either
case.
"""

from __future__ import annotations

import datetime
import hashlib
import io
import logging
import math
import secrets
import uuid
import warnings
from collections.abc import Iterable
from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.base import ContentFile
from django.db import IntegrityError, transaction
from django.db.models import F, Q
from django.utils import timezone, translation
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext as _
from PIL import Image, ImageOps, UnidentifiedImageError

from hub import addresses
from hub.geo import point_in_geometry
from hub.notify import Recipient, notify
from hub.plugins.manager import fire_event

from .. import notices, roles
from ..hookspecs import RequestCreated, RequestStatusChanged
from ..models import (
    Category,
    Open311ApiKey,
    Question,
    ReferenceCounter,
    RequestEvent,
    RequestPhoto,
    ServiceRequest,
)

try:  # HEIC photos from phones; pillow-heif comes with Wagtail.
    from pillow_heif import register_heif_opener

    register_heif_opener()
    HEIF_FORMATS = ("HEIF",)
except ImportError:  # pragma: no cover - optional
    HEIF_FORMATS = ()

logger = logging.getLogger(__name__)

Status = ServiceRequest.Status
Reason = ServiceRequest.ClosureReason
Channel = ServiceRequest.Channel

MAX_PHOTOS = 5
MAX_PHOTO_BYTES = 10 * 1024 * 1024
MAX_PHOTO_PIXELS = 40_000_000
PHOTO_FORMATS = ("JPEG", "PNG", "WEBP", *HEIF_FORMATS)
MAX_DESCRIPTION = 4000
REOPEN_DAYS = 14

# Salaberry-de-Valleyfield, roughly; REQUETES_TERRITORY (a GeoJSON Polygon or
# MultiPolygon) replaces it.
DEFAULT_TERRITORY = {
    "type": "Polygon",
    "coordinates": [[[-74.25, 45.18], [-73.98, 45.18], [-73.98, 45.33], [-74.25, 45.33],
                     [-74.25, 45.18]]],
}
# Recurring holidays (month, day); REQUETES_HOLIDAYS adds dated ones ("2026-04-03").
DEFAULT_RECURRING_HOLIDAYS = [(1, 1), (1, 2), (6, 24), (7, 1), (12, 24), (12, 25),
                              (12, 26), (12, 31)]

TRANSITIONS = {
    Status.NEW: {Status.ACKNOWLEDGED, Status.ASSIGNED, Status.IN_PROGRESS, Status.CLOSED},
    Status.ACKNOWLEDGED: {Status.ASSIGNED, Status.IN_PROGRESS, Status.CLOSED},
    Status.ASSIGNED: {Status.ASSIGNED, Status.IN_PROGRESS, Status.CLOSED},
    Status.IN_PROGRESS: {Status.ASSIGNED, Status.CLOSED},
    Status.CLOSED: set(),
}


# --- roles ---------------------------------------------------------------------------
# Permissions, never group names (roles.py): a renamed group keeps its access.  Django
# caches a user's permissions on the user object, so the twenty checks of one admin page
# cost the two queries of the first.

def is_administrator(user) -> bool:
    return bool(user and user.is_authenticated and user.has_perm(roles.PERM_ADMINISTER))


def is_intake_agent(user) -> bool:
    return bool(user and user.is_authenticated and user.has_perm(roles.PERM_TAKE_PHONE))


def is_department_agent(user) -> bool:
    return bool(user and user.is_authenticated
                and user.has_perm(roles.PERM_HANDLE_DEPARTMENT))


def is_staff_for_requests(user) -> bool:
    return is_administrator(user) or is_intake_agent(user) or is_department_agent(user)


def staff_queryset(user):
    """The requests a staff member may see: all for administrators and intake agents,
    their departments' for department agents, none otherwise."""
    qs = ServiceRequest.objects.all()
    if is_administrator(user) or is_intake_agent(user):
        return qs
    if is_department_agent(user):
        return qs.filter(department__in=user.departments.all())
    return qs.none()


def can_handle(user, request: ServiceRequest) -> bool:
    """May ``user`` change ``request`` (transitions, assignment, internal notes)?"""
    if is_administrator(user):
        return True
    return is_department_agent(user) and user.departments.filter(
        pk=request.department_id).exists()


def can_view_as_staff(user, request: ServiceRequest) -> bool:
    return (is_administrator(user) or is_intake_agent(user) or can_handle(user, request))


# --- territory, dates -----------------------------------------------------------------

def territory() -> dict:
    return getattr(settings, "REQUETES_TERRITORY", None) or DEFAULT_TERRITORY


def validate_location(latitude: Any, longitude: Any) -> tuple[float, float]:
    errors = {}
    try:
        lat = float(latitude)
        if not math.isfinite(lat) or not -90 <= lat <= 90:
            raise ValueError
    except (TypeError, ValueError):
        errors["latitude"] = _("Latitude must be a number between -90 and 90.")
    try:
        lon = float(longitude)
        if not math.isfinite(lon) or not -180 <= lon <= 180:
            raise ValueError
    except (TypeError, ValueError):
        errors["longitude"] = _("Longitude must be a number between -180 and 180.")
    if errors:
        raise ValidationError(errors)
    if not point_in_geometry(territory(), lat, lon):
        raise ValidationError({"latitude": _(
            "This location is outside the city's territory: place the pin inside the city.")})
    return round(lat, 6), round(lon, 6)


def place(latitude, longitude, address: str = "") -> tuple[float, float, str]:
    """Where a request is, the same on every path (web form, intake, app API, Open311):
    typed coordinates win and the address stays as typed; with no coordinates, the
    address is placed from the hub's civic address register and the register's
    spelling is kept, so staff read a clean address.  The point must be inside the
    territory either way.  Returns ``(latitude, longitude, address)``."""
    address = (address or "").strip()
    if _blank(latitude) and _blank(longitude):
        if not address:
            raise ValidationError({"latitude": _(
                "Give the latitude and longitude, or a civic address of the city.")})
        found = addresses.geocode(address)
        if found is None:
            raise ValidationError({"address": _(
                "This address is not in the city's civic address register: check the "
                "civic number and the street (for example: 41 rue Victoria), or give "
                "the place on the map or as latitude and longitude.")})
        latitude, longitude, address = found.latitude, found.longitude, found.label
    lat, lon = validate_location(latitude, longitude)
    return lat, lon, address


def is_holiday(day: datetime.date) -> bool:
    recurring = getattr(settings, "REQUETES_RECURRING_HOLIDAYS", DEFAULT_RECURRING_HOLIDAYS)
    if (day.month, day.day) in {tuple(item) for item in recurring}:
        return True
    return day.isoformat() in set(getattr(settings, "REQUETES_HOLIDAYS", ()))


def add_business_days(start: datetime.date, days: int) -> datetime.date:
    """``start`` plus ``days`` business days (no weekends, no city holidays)."""
    day = start
    remaining = days
    while remaining > 0:
        day += datetime.timedelta(days=1)
        if day.weekday() < 5 and not is_holiday(day):
            remaining -= 1
    return day


def due_date_for(category: Category, created: datetime.datetime | None = None):
    created = created or timezone.now()
    return add_business_days(timezone.localdate(created), category.service_level_days)


# --- answers ----------------------------------------------------------------------------

def _blank(value) -> bool:
    return value is None or value == "" or value == [] or (
        isinstance(value, str) and not value.strip())


def validate_answers(category: Category, answers: dict | None) -> dict:
    """Check ``answers`` ({code: value}) against the category's questions; return the
    cleaned answers or raise ``ValidationError`` keyed ``answers.<code>``."""
    answers = answers or {}
    if not isinstance(answers, dict):
        raise ValidationError({"answers": _("Answers must be given as code: value pairs.")})
    questions = {q.code: q for q in category.questions.all()}
    errors: dict[str, str] = {}
    cleaned: dict[str, Any] = {}
    for code in answers:
        if code not in questions:
            errors[f"answers.{code}"] = _("Unknown question: %(code)s.") % {"code": code}
    for code, question in questions.items():
        value = answers.get(code)
        if _blank(value):
            if question.required:
                errors[f"answers.{code}"] = _("This question is required: %(q)s") % {
                    "q": question.label}
            continue
        try:
            cleaned[code] = _clean_answer(question, value)
        except ValueError as error:
            errors[f"answers.{code}"] = str(error)
    if errors:
        raise ValidationError(errors)
    return cleaned


def _clean_answer(question: Question, value):
    kind = question.datatype
    keys = [key for key, _label in question.choice_list()]
    if kind == Question.Datatype.MULTI:
        values = value if isinstance(value, list) else [value]
        values = [str(v) for v in values if not _blank(v)]
        wrong = [v for v in values if v not in keys]
        if wrong:
            raise ValueError(_("Not one of the offered choices: %(v)s.") % {
                "v": ", ".join(wrong)})
        if not values and question.required:
            raise ValueError(_("This question is required: %(q)s") % {"q": question.label})
        return values
    if isinstance(value, list):
        raise ValueError(_("Give one answer to: %(q)s") % {"q": question.label})
    text = str(value).strip()
    if kind == Question.Datatype.SINGLE:
        if text not in keys:
            raise ValueError(_("Not one of the offered choices: %(v)s.") % {"v": text})
        return text
    if kind == Question.Datatype.NUMBER:
        try:
            number = float(text.replace(",", "."))
        except ValueError:
            raise ValueError(_("Enter a number for: %(q)s") % {"q": question.label}) from None
        if not math.isfinite(number):
            raise ValueError(_("Enter a number for: %(q)s") % {"q": question.label})
        return int(number) if number.is_integer() else number
    if kind == Question.Datatype.DATETIME:
        parsed = None
        try:
            parsed = parse_datetime(text) or (
                datetime.datetime.combine(datetime.date.fromisoformat(text), datetime.time()))
        except ValueError:
            parsed = None
        if parsed is None:
            raise ValueError(_("Enter a date (YYYY-MM-DD) or a date and time for: %(q)s")
                             % {"q": question.label})
        return parsed.isoformat()
    limit = 255 if kind == Question.Datatype.STRING else 4000
    if len(text) > limit:
        raise ValueError(_("At most %(n)d characters for: %(q)s") % {
            "n": limit, "q": question.label})
    return text


# --- photos -----------------------------------------------------------------------------

def process_photo(upload) -> tuple[ContentFile, ContentFile, int, int]:
    """Check and re-encode an uploaded photo: only its pixels are kept (no EXIF, no
    other metadata), orientation applied, pixel count bounded before decoding."""
    name = getattr(upload, "name", "") or _("photo")
    size = getattr(upload, "size", None)
    if size is not None and size > MAX_PHOTO_BYTES:
        raise ValidationError({"photos": _(
            "%(name)s is larger than 10 MB.") % {"name": name}})
    data = upload.read(MAX_PHOTO_BYTES + 1)
    if len(data) > MAX_PHOTO_BYTES:
        raise ValidationError({"photos": _("%(name)s is larger than 10 MB.") % {"name": name}})
    not_image = ValidationError({"photos": _(
        "%(name)s is not a photo: send a JPEG, PNG, WebP or HEIC image.") % {"name": name}})
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data), formats=PHOTO_FORMATS) as image:
                width, height = image.size
                if width * height > MAX_PHOTO_PIXELS or width <= 0 or height <= 0:
                    raise ValidationError({"photos": _(
                        "%(name)s has too many pixels (at most 40 megapixels).")
                        % {"name": name}})
                image.load()
                image = ImageOps.exif_transpose(image)
                if image.mode not in ("RGB", "L"):
                    image = image.convert("RGBA").convert("RGB") if "A" in image.mode \
                        else image.convert("RGB")
                out = io.BytesIO()
                image.save(out, format="JPEG", quality=85, optimize=True)
                thumb = image.copy()
                thumb.thumbnail((400, 400))
                thumb_out = io.BytesIO()
                thumb.save(thumb_out, format="JPEG", quality=80)
                width, height = image.size
    except ValidationError:
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise ValidationError({"photos": _(
            "%(name)s has too many pixels (at most 40 megapixels).") % {"name": name}}) from None
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, TypeError,
            EOFError):
        raise not_image from None
    return (ContentFile(out.getvalue(), name="photo.jpg"),
            ContentFile(thumb_out.getvalue(), name="thumb.jpg"), width, height)


def prepare_photos(uploads: Iterable, already: int = 0) -> list[tuple]:
    uploads = [u for u in uploads if u]
    if len(uploads) + already > MAX_PHOTOS:
        raise ValidationError({"photos": _("At most %(n)d photos per request.") % {
            "n": MAX_PHOTOS}})
    return [process_photo(upload) for upload in uploads]


def _save_photos(request: ServiceRequest, prepared: list[tuple], user) -> None:
    for image, thumb, width, height in prepared:
        photo = RequestPhoto(request=request, width=width, height=height,
                             uploaded_by=user if user and user.is_authenticated else None)
        photo.image.save("photo.jpg", image, save=False)
        photo.thumbnail.save("thumb.jpg", thumb, save=False)
        photo.save()


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


# --- events and notices ---------------------------------------------------------------
# Events carry plain data (hookspecs.py); the people of a request are told through the
# hub's notify (DESIGN rules 2 and 2b).  Both are queued inside the caller's transaction
# and leave once it commits: a rolled-back change tells nobody.

def _labels(choices, value: str) -> tuple[str, str]:
    """A choice's label in French and in English (empty for an empty value)."""
    if not value:
        return "", ""
    with translation.override("fr"):
        french = str(choices(value).label)
    with translation.override("en"):
        english = str(choices(value).label)
    return french, english


def _requester(request: ServiceRequest) -> Recipient | None:
    """Who made ``request``, as a notice recipient: their account, else the caller's
    contact details on the channel they preferred (a caller has no stored language:
    French); None when they asked for no follow-up or left no way to reach them."""
    if request.contact_channel == ServiceRequest.ContactChannel.NONE:
        return None
    if request.citizen_id:
        citizen = request.citizen
        return Recipient.for_user(citizen) if citizen.is_active else None
    email, phone = request.caller_email.strip(), request.caller_phone.strip()
    if request.contact_channel == ServiceRequest.ContactChannel.EMAIL and email:
        phone = ""
    elif phone:
        email = ""
    if not (email or phone):
        return None
    return Recipient(email=email, phone=phone, language="fr", name=request.caller_name)


def _followers(request: ServiceRequest) -> list[Recipient]:
    """The "me too" followers other than the requester (active accounts)."""
    followers = request.followers.filter(is_active=True)
    if request.citizen_id:
        followers = followers.exclude(pk=request.citizen_id)
    return [Recipient.for_user(user) for user in followers.order_by("pk")]


def _created_payload(request: ServiceRequest) -> RequestCreated:
    category = request.category
    status_fr, status_en = _labels(Status, request.status)
    return RequestCreated(
        reference=request.reference, category_code=category.service_code,
        category_name_fr=category.name_fr, category_name_en=category.name_en,
        department=request.department.name, status=request.status,
        status_label_fr=status_fr, status_label_en=status_en, channel=request.channel,
        latitude=request.latitude, longitude=request.longitude,
        public_url=notices.request_url(request.reference), created_at=request.created_at,
        requester=_requester(request))


def _status_payload(request: ServiceRequest, event: RequestEvent, old: str, *,
                    requester: Recipient | None, followers: list[Recipient]
                    ) -> RequestStatusChanged:
    category = request.category
    old_fr, old_en = _labels(Status, old)
    new_fr, new_en = _labels(Status, request.status)
    closed = request.status == Status.CLOSED
    reason_fr, reason_en = _labels(Reason, request.closure_reason if closed else "")
    return RequestStatusChanged(
        reference=request.reference, category_code=category.service_code,
        category_name_fr=category.name_fr, category_name_en=category.name_en,
        department=request.department.name, channel=request.channel,
        old_status=old, old_status_label_fr=old_fr, old_status_label_en=old_en,
        new_status=request.status, new_status_label_fr=new_fr, new_status_label_en=new_en,
        event_kind=event.kind, public_message=event.public_message,
        closure_reason=request.closure_reason if closed else "",
        closure_reason_label_fr=reason_fr, closure_reason_label_en=reason_en,
        closure_note=request.closure_note if closed else "",
        duplicate_of=request.duplicate_of.reference
        if closed and request.duplicate_of_id else "",
        public_url=notices.request_url(request.reference), occurred_at=event.created_at,
        requester=requester, followers=tuple(followers))


def _notice_step(event: RequestEvent, old: str, request: ServiceRequest) -> str | None:
    """The public step ``event`` is for the people of the request, or None when it
    means nothing to them (an internal note, a reassignment without a word for them)."""
    Kind = RequestEvent.Kind
    if event.kind == Kind.REOPENED:
        return notices.REOPENED
    if event.kind == Kind.COMMENT:
        return notices.MESSAGE if event.by_staff else notices.COMMENT
    if event.kind != Kind.STATUS:
        return None
    new = event.to_status
    if new == Status.CLOSED:
        return notices.MERGED if request.closure_reason == Reason.DUPLICATE \
            else notices.CLOSED
    if new != old:
        return {Status.ACKNOWLEDGED: notices.ACKNOWLEDGED, Status.ASSIGNED: notices.ASSIGNED,
                Status.IN_PROGRESS: notices.IN_PROGRESS}.get(new)
    return notices.MESSAGE if event.public_message else None


def _tell_people(request: ServiceRequest, event: RequestEvent, old: str, *, actor,
                 requester: Recipient | None = None,
                 followers: list[Recipient] | None = None) -> None:
    """Tell the requester and the followers about ``event`` through ``hub_notify``,
    each in their own language, once per event and person (``dedupe_key``), except
    the person who made the change.  Call it inside the change's transaction: the
    notices leave when it commits."""
    step = _notice_step(event, old, request)
    if step is None:
        return
    if followers is None:
        requester, followers = _requester(request), _followers(request)
    actor_id = actor.pk if actor is not None and actor.is_authenticated else None
    people = [(requester, True)] if requester is not None else []
    people += [(follower, False) for follower in followers]
    category = request.category
    closed = step in (notices.CLOSED, notices.MERGED)
    reason_fr, reason_en = _labels(Reason, request.closure_reason if closed else "")
    for recipient, is_requester in people:
        if actor_id is not None and recipient.user_id == actor_id:
            continue  # nobody is told about their own action
        notify(notices.build(
            step=step, recipient=recipient, is_requester=is_requester,
            reference=request.reference, category_fr=category.name_fr,
            category_en=category.name_en, department=request.department.name,
            public_message=event.public_message, closure_reason_fr=reason_fr,
            closure_reason_en=reason_en,
            closure_note=request.closure_note if closed else "",
            target=request.duplicate_of.reference if step == notices.MERGED else "",
            with_link=recipient.user_id is not None,
            dedupe_key=f"requetes:event:{event.pk}:{recipient.key}"))


def _changed(request: ServiceRequest, event: RequestEvent, old: str, *, actor) -> None:
    """A status change: tell the people, fire ``request_status_changed`` (both after
    commit).  ``request`` is the locked, saved row."""
    requester, followers = _requester(request), _followers(request)
    _tell_people(request, event, old, actor=actor, requester=requester,
                 followers=followers)
    fire_event("request_status_changed", change=_status_payload(
        request, event, old, requester=requester, followers=followers))


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


# --- reading ----------------------------------------------------------------------------

def public_events(request: ServiceRequest):
    return [event for event in request.events.select_related("actor")
            if event.is_public and event.kind != RequestEvent.Kind.FOLLOWED]


def time_to_acknowledge(request: ServiceRequest) -> datetime.timedelta | None:
    """From creation to the first move out of "new" (exact, from the history)."""
    event = request.events.filter(kind=RequestEvent.Kind.STATUS,
                                  from_status=Status.NEW).order_by("created_at").first()
    return event.created_at - request.created_at if event else None


def time_to_resolve(request: ServiceRequest) -> datetime.timedelta | None:
    """From creation to the last closure (None while open)."""
    if request.status != Status.CLOSED:
        return None
    event = request.events.filter(to_status=Status.CLOSED).order_by("-created_at").first()
    return event.created_at - request.created_at if event else None


# --- personal data (Law 25) -------------------------------------------------------------

def export_user_data(user) -> dict | None:
    requests = ServiceRequest.objects.filter(citizen=user).select_related("category")
    followed = ServiceRequest.objects.filter(followers=user).exclude(citizen=user)
    if not requests.exists() and not followed.exists():
        return None
    return {
        "requests": [{
            "reference": r.reference, "category": r.category.service_code,
            "description": r.description, "answers": r.answers,
            "latitude": r.latitude, "longitude": r.longitude, "address": r.address,
            "status": r.status, "created_at": r.created_at.isoformat(),
            "comments": [e.public_message for e in r.events.filter(
                kind=RequestEvent.Kind.COMMENT, actor=user)],
        } for r in requests],
        "followed": [r.reference for r in followed],
    }


def erase_user_data(user) -> None:
    """Anonymise: the city keeps the requests, without the link to the person."""
    ServiceRequest.objects.filter(citizen=user).update(
        citizen=None, caller_name="", caller_email="", caller_phone="",
        contact_channel=ServiceRequest.ContactChannel.NONE)
    for request in ServiceRequest.objects.filter(followers=user):
        request.followers.remove(user)
    RequestEvent.objects.filter(actor=user, by_staff=False).update(actor=None)
    RequestPhoto.objects.filter(uploaded_by=user).update(uploaded_by=None)


# --- satisfaction -----------------------------------------------------------------------

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


# --- public description: staff redaction ------------------------------------------

def set_description_redacted(request: ServiceRequest, *, actor, redacted: bool
                             ) -> RequestEvent | None:
    """Hide (or show again) a public description; only the handling department or an
    administrator may.  Kept in the history as an internal event; None when nothing
    changes."""
    if not can_handle(actor, request):
        raise PermissionDenied(_("Only the department handling this request may change it."))
    redacted = bool(redacted)
    with transaction.atomic():
        request = _lock(request)
        if request.description_redacted == redacted:
            return None
        request.description_redacted = redacted
        request.save(update_fields=["description_redacted", "updated_at"])
        note = (_("Description hidden from the public.") if redacted
                else _("Description shown to the public again."))
        return RequestEvent.objects.create(request=request, kind=RequestEvent.Kind.NOTE,
                                           actor=actor, internal_note=note, by_staff=True)


# --- response templates ------------------------------------------------------------------

def response_templates_for(department):
    """The active templates an agent may use on ``department``'s requests: the
    department's own and the shared ones (no department)."""
    from ..models import ResponseTemplate

    return ResponseTemplate.objects.filter(
        Q(department__isnull=True) | Q(department=department), active=True)


# --- bulk actions ------------------------------------------------------------------------

def bulk_transition(requests: Iterable[ServiceRequest], *, actor, to_status: str,
                    assignee=None, public_message: str = "", closure_reason: str = "",
                    closure_note: str = "") -> tuple[list[ServiceRequest],
                                                     list[tuple[ServiceRequest, str]]]:
    """Apply one transition to several requests, each through :func:`transition` (its
    own transaction, role check, history and event).  A request that is refused does not
    stop the others: returns ``(done, [(refused, why), …])``."""
    done: list[ServiceRequest] = []
    refused: list[tuple[ServiceRequest, str]] = []
    for request in requests:
        try:
            transition(request, actor=actor, to_status=to_status, assignee=assignee,
                       public_message=public_message, closure_reason=closure_reason,
                       closure_note=closure_note)
        except PermissionDenied as error:
            refused.append((request, str(error) or _("Not allowed.")))
        except ValidationError as error:
            refused.append((request, " ".join(error.messages)))
        else:
            done.append(request)
    return done, refused


def response_template_text(template, request: ServiceRequest) -> str:
    """The template's text in the requester's language: English only for a resident
    who chose English and when the English text is written; French otherwise."""
    citizen = request.citizen
    language = getattr(citizen, "preferred_language", "") if citizen else ""
    if (language or "").startswith("en") and template.body_en:
        return template.body_en
    return template.body_fr


# --- Open311 clients (GeoReport v2) -----------------------------------------------------

API_KEY_PREFIX = "o311_"
API_KEY_TOUCH_SECONDS = 300


def _hash_api_key(raw: str) -> str:
    return hashlib.sha256(raw.encode("utf-8")).hexdigest()


def issue_api_key(*, actor, name: str, contact_email: str = "",
                  can_post_updates: bool = False) -> tuple[Open311ApiKey, str]:
    """Create a client's key; return it with the raw key, which is never stored (only
    its SHA-256), so the administrator must copy it from this one answer."""
    if not is_administrator(actor):
        raise PermissionDenied(_("Only administrators issue Open311 API keys."))
    name = (name or "").strip()
    if not name:
        raise ValidationError({"name": _("Name the client that will use this key.")})
    raw = API_KEY_PREFIX + secrets.token_urlsafe(32)
    key = Open311ApiKey.objects.create(
        name=name[:120], contact_email=(contact_email or "").strip()[:254],
        prefix=raw[:12], key_hash=_hash_api_key(raw), created_by=actor,
        can_post_updates=bool(can_post_updates))
    return key, raw


def deactivate_api_key(key: Open311ApiKey, *, actor) -> None:
    """Revoke a key for good: requests it created keep their link to the client."""
    if not is_administrator(actor):
        raise PermissionDenied(_("Only administrators revoke Open311 API keys."))
    Open311ApiKey.objects.filter(pk=key.pk).update(active=False)


def check_api_key(raw: str | None) -> Open311ApiKey | None:
    """The active key matching ``raw``, or None.  ``last_used_at`` is written at most
    every few minutes so that a busy client does not turn every call into a write."""
    raw = (raw or "").strip()
    if not raw or len(raw) > 200:
        return None
    key = Open311ApiKey.objects.filter(key_hash=_hash_api_key(raw), active=True).first()
    if key is not None:
        now = timezone.now()
        if key.last_used_at is None or (now - key.last_used_at).total_seconds() \
                > API_KEY_TOUCH_SECONDS:
            Open311ApiKey.objects.filter(pk=key.pk).update(last_used_at=now)
            key.last_used_at = now
    return key


def create_open311_request(*, api_key: Open311ApiKey, category, description: str,
                           latitude, longitude, answers: dict | None = None,
                           address: str = "", caller_name: str = "",
                           caller_email: str = "", caller_phone: str = "",
                           media_url: str = "", device_id: str = "", account_id: str = "",
                           submission_key=None) -> ServiceRequest:
    """A request sent by an Open311 client: ``create_request`` (every rule of the web
    form) plus what only Open311 carries, in one transaction, so that the events fire
    once the client's fields are saved too.  The description is public (the client
    publishes to an open API); staff can still redact it."""
    if api_key is None or not api_key.active:
        raise PermissionDenied(_("A valid API key is required."))
    contact = (ServiceRequest.ContactChannel.EMAIL if caller_email.strip()
               else ServiceRequest.ContactChannel.PHONE if caller_phone.strip()
               else ServiceRequest.ContactChannel.NONE)
    with transaction.atomic():
        request = create_request(
            actor=None, category=category, description=description, latitude=latitude,
            longitude=longitude, answers=answers, address=address, channel=Channel.OPEN311,
            caller_name=caller_name, caller_email=caller_email, caller_phone=caller_phone,
            contact_channel=contact, description_public=True, submission_key=submission_key)
        extras = {"media_url": (media_url or "")[:500], "device_id": (device_id or "")[:120],
                  "account_id": (account_id or "")[:120], "api_key": api_key}
        if ServiceRequest.objects.filter(pk=request.pk, api_key__isnull=True,
                                         channel=Channel.OPEN311).update(**extras):
            for field, value in extras.items():
                setattr(request, field, value)
    return request


def post_open311_update(request: ServiceRequest, *, api_key: Open311ApiKey,
                        to_status: str | None, message: str, closure_reason: str = "",
                        duplicate_of: str | None = None) -> RequestEvent:
    """An update from a back-office system (mySociety's ``servicerequestupdates``): a
    status change through ``transition``, or a public comment when the status does not
    change.  The key acts with the rights of the administrator who issued it, so the
    history names a person who answers for the integration."""
    if api_key is None or not api_key.active or not api_key.can_post_updates:
        raise PermissionDenied(_("This API key may not post request updates."))
    actor = api_key.created_by
    if not is_administrator(actor):
        raise PermissionDenied(_("The administrator who issued this API key can no longer "
                                 "change requests: issue a new key."))
    note = _("Update from the Open311 client “%(client)s”.") % {"client": api_key.name}
    if to_status is None or to_status == request.status:
        return add_comment(request, actor=actor, message=message)
    return transition(request, actor=actor, to_status=to_status, public_message=message,
                      internal_note=note, closure_reason=closure_reason,
                      closure_note=message if closure_reason else "",
                      duplicate_of=duplicate_of)


# --- staff search -----------------------------------------------------------------------

def search_requests(queryset, text: str, user):
    """Narrow the staff queue ``queryset`` (already limited to what ``user`` may see) to
    the requests matching ``text``.  Elasticsearch when configured (ranked, stemmed
    French); the database otherwise, or when Elasticsearch does not answer, so the queue
    never breaks because the search cluster is down."""
    from hub import search as hub_search

    from .. import text_search

    text = (text or "").strip()[:text_search.MAX_QUERY]
    if not text:
        return queryset
    if hub_search.elasticsearch_enabled():
        from .. import search_documents

        departments = (None if is_administrator(user) or is_intake_agent(user)
                       else list(user.departments.values_list("pk", flat=True)))
        try:
            ids = search_documents.matching_ids(text, department_ids=departments)
        except Exception:
            logger.exception("Elasticsearch request search failed; using the database")
        else:
            return queryset.filter(pk__in=ids)
    return text_search.search(queryset, text)
