"""Reading an Open311 call: its parameters, the jurisdiction, the date window, the API
key, and the decorator that turns an ``Open311Error`` into the spec's error answer."""

from __future__ import annotations

import datetime

from django.conf import settings
from django.core.exceptions import RequestDataTooBig, TooManyFieldsSent, TooManyFilesSent
from django.utils import timezone
from django.utils.dateparse import parse_date, parse_datetime
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods

from hub.request_limits import body_refusal

from .. import services
from .rendering import errors

DEFAULT_JURISDICTION = "salaberry-de-valleyfield.ca"
WINDOW = datetime.timedelta(days=90)


class Open311Error(Exception):
    def __init__(self, status: int, *descriptions: str):
        super().__init__(descriptions)
        self.status = status
        self.descriptions = list(descriptions)


def open311_view(methods=("GET",)):
    """Wrap an endpoint: allowed methods, CSRF exemption (clients authenticate with a
    key, not a session), jurisdiction check, and Open311Error turned into the spec's
    error answer in the requested format."""
    def decorate(view):
        def wrapped(request, *args, fmt, **kwargs):
            try:
                _check_jurisdiction(request)
                return view(request, *args, fmt=fmt, **kwargs)
            except Open311Error as error:
                return errors(fmt, error.status, error.descriptions)
            except (RequestDataTooBig, TooManyFieldsSent, TooManyFilesSent) as error:
                # A body Django refused to read (over DATA_UPLOAD_MAX_MEMORY_SIZE, too
                # many fields): the spec's error list naming the limit, not a bare 400.
                code, message = body_refusal(error)
                return errors(fmt, code, [message])
        wrapped.__name__ = view.__name__
        wrapped.__doc__ = view.__doc__
        return csrf_exempt(require_http_methods(list(methods))(wrapped))
    return decorate


# --- parameters -------------------------------------------------------------------------

def _data(request):
    return request.POST if request.method == "POST" else request.GET


def param(request, name: str, max_length: int | None = None) -> str | None:
    """A parameter, stripped; an empty one counts as absent (``None``)."""
    value = _data(request).get(name)
    if value is None:
        return None
    value = value.strip()
    if not value:
        return None
    if max_length is not None and len(value) > max_length:
        raise Open311Error(400, _("%(name)s is limited to %(n)d characters.") % {
            "name": name, "n": max_length})
    return value


def jurisdiction() -> str:
    return getattr(settings, "REQUETES_OPEN311_JURISDICTION", DEFAULT_JURISDICTION)


def _check_jurisdiction(request) -> None:
    given = param(request, "jurisdiction_id")
    if given is not None and given != jurisdiction():
        raise Open311Error(404, _("jurisdiction_id not found: this endpoint serves "
                                  "%(jurisdiction)s.") % {"jurisdiction": jurisdiction()})


def _extensions(request) -> bool:
    return (param(request, "extensions") or "").lower() in ("true", "1", "yes")


def parse_w3c(request, name: str) -> datetime.datetime | None:
    """A W3C datetime (``2026-01-01T00:00:00Z``, an offset, or a date alone meaning the
    start of that day here); a naive one is in the city's time zone."""
    text = param(request, name, max_length=40)
    if text is None:
        return None
    try:
        value = parse_datetime(text)
        if value is None:
            day = parse_date(text)
            if day is not None:
                value = datetime.datetime.combine(day, datetime.time())
    except ValueError:
        value = None
    if value is None:
        raise Open311Error(400, _("%(name)s is not a valid W3C datetime, e.g. "
                                  "2026-01-01T00:00:00Z.") % {"name": name})
    if timezone.is_naive(value):
        value = timezone.make_aware(value)
    return value


def date_window(request) -> tuple[datetime.datetime, datetime.datetime]:
    """``start_date``/``end_date`` as the spec has them: the last 90 days by default,
    never more than 90 days."""
    start, end = parse_w3c(request, "start_date"), parse_w3c(request, "end_date")
    if start is None and end is None:
        end = timezone.now()
        start = end - WINDOW
    elif start is None:
        start = end - WINDOW
    elif end is None:
        end = min(start + WINDOW, max(timezone.now(), start))
    if start > end:
        raise Open311Error(400, _("start_date must be before end_date."))
    if end - start > WINDOW:
        raise Open311Error(400, _("start_date and end_date may not span more than 90 "
                                  "days."))
    return start, end


def _api_key(request):
    key = services.check_api_key(param(request, "api_key"))
    if key is None:
        raise Open311Error(403, _("api_key is missing or not valid: ask the city for a "
                                  "key."))
    return key


def _csv(text: str | None) -> list[str]:
    return [part.strip() for part in (text or "").split(",") if part.strip()]
