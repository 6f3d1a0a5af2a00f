"""Open311 GeoReport v2 endpoints (``/open311/v2/``), in XML and JSON.

Reading is public and shows no personal data: never the requester's name, email or
phone, and the description only when it may be public and staff have not redacted it.
Writing (POST ``requests``, POST ``servicerequestupdates``) needs an API key issued in
the admin, and goes through ``services`` like every other path.  Every error is the
spec's list of ``{code, description}``: 404 for what does not exist, 403 for a missing or
bad key, 400 for anything else.

Tokens: requests are created synchronously, so POST answers the ``service_request_id``
and (as the spec says) no token.  Every Open311 request still has a token, its
submission key, which ``tokens/{token}`` resolves; ``extensions=true`` on the POST also
returns it, for clients that keep tokens."""

from __future__ import annotations

import re
import uuid

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.validators import EmailValidator, URLValidator
from django.db.models import Count
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt

from hub.models import SiteSettings

from .. import services
from ..models import Category, RequestEvent, ServiceRequest
from .params import (
    Open311Error,
    _api_key,
    _csv,
    _extensions,
    date_window,
    open311_view,
    param,
)
from .records import _fetch_rows, _service_request_rows
from .rendering import W3CText, errors, respond, w3c_text

SPECIFICATION = "http://wiki.open311.org/GeoReport_v2"
CHANGESET = "2026-11-28T00:00:00-05:00"
MAX_ROWS = 1000
MAX_IDS = 1000
ATTRIBUTE = re.compile(r"^attribute\[([^\[\]]{1,200})\](\[\])?$")
SUBMISSION_NAMESPACE = uuid.UUID("0b3b3f1c-5f0a-4c61-9d59-311000000311")

Status = ServiceRequest.Status
Kind = RequestEvent.Kind

# mySociety's update statuses -> (our status, closure reason); None keeps the status.
UPDATE_STATUSES = {
    "OPEN": (None, ""),
    "INVESTIGATING": (Status.ACKNOWLEDGED, ""),
    "ACTION_SCHEDULED": (Status.IN_PROGRESS, ""),
    "IN_PROGRESS": (Status.IN_PROGRESS, ""),
    "CLOSED": (Status.CLOSED, ServiceRequest.ClosureReason.FIXED),
    "FIXED": (Status.CLOSED, ServiceRequest.ClosureReason.FIXED),
    "NOT_COUNCILS_RESPONSIBILITY": (Status.CLOSED, ServiceRequest.ClosureReason.NOT_CITY),
    "NO_FURTHER_ACTION": (Status.CLOSED, ServiceRequest.ClosureReason.WONT_FIX),
    "DUPLICATE": (Status.CLOSED, ServiceRequest.ClosureReason.DUPLICATE),
}



# --- discovery and services -------------------------------------------------------------

def _default_contact() -> str:
    """The city's name and intake phone, from its settings (the one source)."""
    city_settings = SiteSettings.current()
    return f"{city_settings.city_name}, 311 / {city_settings.intake_phone}"


@open311_view()
def discovery(request, fmt):
    """Where the endpoint is and which formats it speaks."""
    base = request.build_absolute_uri(reverse("open311:discovery", kwargs={"fmt": fmt}))
    base = base.rsplit("/", 1)[0] + "/"
    contact = getattr(settings, "REQUETES_OPEN311_CONTACT", "") or _default_contact()
    data = {
        "changeset": CHANGESET,
        "contact": contact,
        "key_service": _("Ask the city's administrators for an API key (Open311 API keys "
                         "in the administration)."),
        "endpoints": [{
            "specification": SPECIFICATION,
            "url": base,
            "changeset": CHANGESET,
            "type": "production",
            "formats": ["text/xml", "application/json"],
        }],
    }
    return respond(fmt, "discovery", None, data)


@open311_view()
def service_list(request, fmt):
    """The active categories."""
    groups = {value: str(label) for value, label in Category.Group.choices}
    rows = []
    for category in Category.objects.filter(active=True).annotate(
            n_questions=Count("questions")):
        rows.append({
            "service_code": category.service_code,
            "service_name": category.name,
            "description": category.description,
            "metadata": category.n_questions > 0,
            "type": "realtime",
            "keywords": category.keywords,
            "group": groups.get(category.group, category.group),
        })
    return respond(fmt, "services", "service", rows)


def _active_category(code: str) -> Category:
    category = Category.objects.filter(service_code=code, active=True).first()
    if category is None:
        raise Open311Error(404, _("service_code not found: %(code)s.") % {"code": code})
    return category


@open311_view()
def service_definition(request, fmt, service_code):
    """A category's questions as the spec's attributes."""
    category = _active_category(service_code)
    attributes = []
    for order, question in enumerate(category.questions.all(), start=1):
        attribute = {
            "variable": True,
            "code": question.code,
            "datatype": question.datatype,
            "required": question.required,
            "datatype_description": question.help_text,
            "order": order,
            "description": question.label,
        }
        if question.is_list:
            attribute["values"] = [{"key": key, "name": label}
                                   for key, label in question.choice_list()]
        attributes.append(attribute)
    data = {"service_code": category.service_code, "attributes": attributes}
    return respond(fmt, "service_definition", None, data)


# --- requests ---------------------------------------------------------------------------

@open311_view(methods=("GET", "POST"))
def requests_endpoint(request, fmt):
    if request.method == "POST":
        return _create(request, fmt)
    return _search(request, fmt)


def _search(request, fmt):
    qs = ServiceRequest.objects.all()
    ids = _csv(param(request, "service_request_id"))
    if ids:
        if len(ids) > MAX_IDS:
            raise Open311Error(400, _("At most %(n)d service_request_id at once.") % {
                "n": MAX_IDS})
        qs = qs.filter(reference__in=ids)
    else:
        start, end = date_window(request)
        qs = qs.filter(created_at__gte=start, created_at__lte=end)
        codes = _csv(param(request, "service_code"))
        if codes:
            known = dict(Category.objects.filter(service_code__in=codes)
                         .values_list("service_code", "pk"))
            unknown = [code for code in codes if code not in known]
            if unknown:
                raise Open311Error(400, _("Unknown service_code: %(codes)s.") % {
                    "codes": ", ".join(unknown)})
            qs = qs.filter(category_id__in=list(known.values()))
        wanted = _csv((param(request, "status") or "").lower())
        if wanted:
            if not set(wanted) <= {"open", "closed"}:
                raise Open311Error(400, _("status must be open, closed or both."))
            if set(wanted) == {"closed"}:
                qs = qs.filter(status=Status.CLOSED)
            elif set(wanted) == {"open"}:
                qs = qs.filter(status__in=ServiceRequest.OPEN_STATUSES)
    rows = _fetch_rows(qs.order_by("-created_at"), MAX_ROWS)
    data = _service_request_rows(rows, extended=_extensions(request))
    return respond(fmt, "service_requests", "request", data)


@open311_view()
def request_detail(request, fmt, service_request_id):
    rows = _fetch_rows(ServiceRequest.objects.filter(reference=service_request_id), 1)
    if not rows:
        raise Open311Error(404, _("service_request_id not found: %(id)s.") % {
            "id": service_request_id})
    data = _service_request_rows(rows, extended=_extensions(request))
    return respond(fmt, "service_requests", "request", data)


def _attributes(request) -> dict:
    """``attribute[CODE]=v`` and ``attribute[CODE][]=v1&attribute[CODE][]=v2``."""
    answers: dict = {}
    for key in request.POST:
        match = ATTRIBUTE.match(key)
        if not match:
            continue
        code, many = match.group(1), match.group(2)
        values = [v.strip() for v in request.POST.getlist(key) if v.strip()]
        if many or len(values) > 1:
            answers.setdefault(code, [])
            if isinstance(answers[code], list):
                answers[code].extend(values)
        elif values:
            answers[code] = values[0]
    return answers


OPEN311_FIELDS = {"latitude": "lat", "longitude": "long", "address": "address_string",
                  "category": "service_code",
                  "caller_email": "email", "caller_name": "first_name",
                  "caller_phone": "phone", "submission_key": "device_id"}


def _validation_descriptions(error: ValidationError) -> list[str]:
    result = []
    for field, messages in error.message_dict.items():
        if field.startswith("answers."):
            name = f"attribute[{field.removeprefix('answers.')}]"
        else:
            name = OPEN311_FIELDS.get(field, field)
        result.extend(f"{name}: {message}" for message in messages)
    return result


def _submission_key(key, fields: dict, answers: dict) -> uuid.UUID:
    """The same submission from the same device or account, on the same day, is one
    request: a client retrying after a lost answer gets the first one back.  Without a
    device or account id every submission is new."""
    if not (fields["device_id"] or fields["account_id"]):
        return uuid.uuid4()
    parts = [str(key.pk), fields["device_id"], fields["account_id"], fields["service_code"],
             fields["lat"] or "", fields["long"] or "", fields["address"],
             fields["description"], repr(sorted(answers.items())),
             timezone.localdate().isoformat()]
    return uuid.uuid5(SUBMISSION_NAMESPACE, "\x1f".join(parts))


def _create(request, fmt):
    key = _api_key(request)
    service_code = param(request, "service_code", max_length=64)
    if service_code is None:
        raise Open311Error(400, _("service_code is required."))
    category = _active_category(service_code)
    fields = {
        "service_code": service_code,
        "lat": param(request, "lat", max_length=40),
        "long": param(request, "long", max_length=40),
        "address": param(request, "address_string", max_length=255) or "",
        "description": param(request, "description") or "",
        "email": param(request, "email", max_length=254) or "",
        "first_name": param(request, "first_name", max_length=60) or "",
        "last_name": param(request, "last_name", max_length=60) or "",
        "phone": param(request, "phone", max_length=32) or "",
        "media_url": param(request, "media_url", max_length=500) or "",
        "device_id": param(request, "device_id", max_length=120) or "",
        "account_id": param(request, "account_id", max_length=120) or "",
    }
    problems = []
    # An address_string alone is placed by the services from the civic address register
    # (the spec lets a client send either).
    if (fields["lat"] is None or fields["long"] is None) and not (
            fields["lat"] is None and fields["long"] is None and fields["address"]):
        problems.append(_("lat and long are both required."))
    if len(fields["description"]) > services.MAX_DESCRIPTION:
        problems.append(_("description is limited to 4,000 characters."))
    if fields["email"]:
        try:
            EmailValidator()(fields["email"])
        except ValidationError:
            problems.append(_("email is not a valid email address."))
    if fields["media_url"]:
        try:
            URLValidator(schemes=["http", "https"])(fields["media_url"])
        except ValidationError:
            problems.append(_("media_url must be an http or https address."))
    if problems:
        raise Open311Error(400, *problems)
    answers = _attributes(request)
    try:
        created = services.create_open311_request(
            api_key=key, category=category, description=fields["description"],
            latitude=fields["lat"], longitude=fields["long"], answers=answers,
            address=fields["address"],
            caller_name=f"{fields['first_name']} {fields['last_name']}".strip(),
            caller_email=fields["email"], caller_phone=fields["phone"],
            media_url=fields["media_url"], device_id=fields["device_id"],
            account_id=fields["account_id"],
            submission_key=_submission_key(key, fields, answers))
    except ValidationError as error:
        raise Open311Error(400, *_validation_descriptions(error)) from None
    except PermissionDenied as error:
        raise Open311Error(403, str(error)) from None
    if created.due_date:
        notice = _("Request received. %(department)s expects to resolve it by "
                   "%(date)s.") % {"department": category.department.name,
                                   "date": date_format(created.due_date, "DATE_FORMAT")}
    else:
        notice = _("Request received.")
    record = {"service_request_id": created.reference, "service_notice": notice,
              "account_id": created.account_id or None}
    if _extensions(request):
        record["token"] = str(created.submission_key)
    return respond(fmt, "service_requests", "request", [record])


@open311_view()
def token_detail(request, fmt, token):
    """The request a token stands for (the submission key of an Open311 request)."""
    try:
        key = uuid.UUID(token)
    except ValueError:
        key = None
    reference = None
    if key is not None:
        reference = ServiceRequest.objects.filter(
            submission_key=key, channel=ServiceRequest.Channel.OPEN311,
        ).values_list("reference", flat=True).first()
    if reference is None:
        raise Open311Error(404, _("token not found: %(token)s.") % {"token": token[:64]})
    return respond(fmt, "service_requests", "request",
                   [{"service_request_id": reference, "token": token}])


# --- mySociety's servicerequestupdates --------------------------------------------------

@open311_view(methods=("GET", "POST"))
def updates_endpoint(request, fmt):
    if request.method == "POST":
        return _post_update(request, fmt)
    return _list_updates(request, fmt)


def _list_updates(request, fmt):
    """Public updates in a window (the last 90 days by default, at most 1,000, oldest
    first so that a client polling with start_date misses none)."""
    start, end = date_window(request)
    events = (RequestEvent.objects
              .filter(created_at__gte=start, created_at__lte=end,
                      kind__in=(Kind.STATUS, Kind.COMMENT, Kind.REOPENED, Kind.MERGED),
                      by_staff=True)
              .order_by("created_at", "pk")
              .annotate(created_text=W3CText("created_at"))
              .values_list("pk", "request__reference", "request__status", "to_status",
                           "public_message", "created_text")[:MAX_ROWS])
    rows = []
    for pk, reference, current, to_status, message, created_at in events:
        status = to_status or current
        rows.append({
            "update_id": str(pk),
            "service_request_id": reference,
            "status": "closed" if status == Status.CLOSED else "open",
            "updated_datetime": w3c_text(created_at),
            "description": message,
            "media_url": "",
        })
    return respond(fmt, "service_request_updates", "request_update", rows)


def _post_update(request, fmt):
    key = _api_key(request)
    if not key.can_post_updates:
        raise Open311Error(403, _("This api_key may not post request updates."))
    reference = param(request, "service_request_id", max_length=16)
    if reference is None:
        raise Open311Error(400, _("service_request_id is required."))
    target = ServiceRequest.objects.filter(reference=reference).first()
    if target is None:
        raise Open311Error(404, _("service_request_id not found: %(id)s.") % {
            "id": reference})
    raw_status = (param(request, "status", max_length=40) or "OPEN").upper()
    if raw_status not in UPDATE_STATUSES:
        raise Open311Error(400, _("status must be one of: %(values)s.") % {
            "values": ", ".join(UPDATE_STATUSES)})
    to_status, reason = UPDATE_STATUSES[raw_status]
    if to_status is None and target.status == Status.CLOSED:
        raise Open311Error(400, _("This request is closed; only its requester may reopen "
                                  "it."))
    description = param(request, "description") or ""
    if len(description) > services.MAX_DESCRIPTION:
        raise Open311Error(400, _("description is limited to 4,000 characters."))
    try:
        event = services.post_open311_update(
            target, api_key=key, to_status=to_status, message=description,
            closure_reason=reason, duplicate_of=param(request, "duplicate_of",
                                                      max_length=16))
    except ValidationError as error:
        raise Open311Error(400, *_validation_descriptions(error)) from None
    except PermissionDenied as error:
        raise Open311Error(403, str(error)) from None
    return respond(fmt, "service_request_updates", "request_update",
                   [{"update_id": str(event.pk)}])


@csrf_exempt
def not_found(request, rest=""):
    """Anything else under ``/open311/v2/``: the spec's 404 (XML unless the path ends
    in ``.json``, XML being the spec's required format)."""
    fmt = "json" if request.path.endswith(".json") else "xml"
    return errors(fmt, 404, [_("No Open311 endpoint here. See discovery.xml.")])
