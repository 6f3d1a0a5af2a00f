"""What a client is told when Django refuses to read its body (too large, too many
fields or files). Shared by the API's exception handler, the site's error pages and the
modules' own endpoints (Open311), so every route names the same limit in the same words."""

from __future__ import annotations

from django.conf import settings
from django.core.exceptions import RequestDataTooBig, TooManyFieldsSent, TooManyFilesSent
from django.utils.translation import gettext

HTTP_400_BAD_REQUEST = 400
HTTP_413_REQUEST_ENTITY_TOO_LARGE = 413


def too_big_message() -> str:
    """What a client is told when its body passes ``DATA_UPLOAD_MAX_MEMORY_SIZE``
    (photos sent as files do not count: they have their own limit)."""
    megabytes = settings.DATA_UPLOAD_MAX_MEMORY_SIZE / (1024 * 1024)
    return gettext("The request is too large: its data may not exceed %(size)s MB "
                   "(photos sent as files not included).") % {"size": f"{megabytes:g}"}


def too_many_fields_message() -> str:
    return gettext("The request has too many fields: at most %(count)d.") % {
        "count": settings.DATA_UPLOAD_MAX_NUMBER_FIELDS}


def body_refusal(exc) -> tuple[int, str] | None:
    """``(status, message)`` for a body Django refused to read, or None: a body over the
    size limit is a 413, too many fields or files a 400.  Django raises these while the
    body is read (``request.data``, ``request.POST``), where DRF would see an unknown
    exception and answer 500."""
    if isinstance(exc, RequestDataTooBig):
        return HTTP_413_REQUEST_ENTITY_TOO_LARGE, too_big_message()
    if isinstance(exc, TooManyFieldsSent):
        return HTTP_400_BAD_REQUEST, too_many_fields_message()
    if isinstance(exc, TooManyFilesSent):
        return HTTP_400_BAD_REQUEST, gettext(
            "The request has too many files: at most %(count)d.") % {
            "count": settings.DATA_UPLOAD_MAX_NUMBER_FILES}
    return None
