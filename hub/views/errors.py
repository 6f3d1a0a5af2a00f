"""Error pages in the site's look; JSON for the API; the GeoReport v2 error list on
Open311's addresses (its standard's fixed prefix), in JSON or XML like its own errors."""

from xml.etree import ElementTree

from django.http import HttpResponse, JsonResponse
from django.shortcuts import render
from django.utils.translation import gettext as _

from hub.request_limits import body_refusal

OPEN311_PREFIX = "/open311/"


def _wants_json(request) -> bool:
    return request.path.startswith("/api/")


def _open311_error(request, status, message):
    """``[{"code": …, "description": …}]``, or ``<errors><error>`` for a ``.xml`` path."""
    if request.path.endswith(".xml"):
        root = ElementTree.Element("errors")
        error = ElementTree.SubElement(root, "error")
        ElementTree.SubElement(error, "code").text = str(status)
        ElementTree.SubElement(error, "description").text = message
        body = ElementTree.tostring(root, encoding="utf-8", xml_declaration=True)
        return HttpResponse(body, status=status, content_type="text/xml; charset=utf-8")
    return JsonResponse([{"code": status, "description": message}], status=status,
                        safe=False)


def _error(request, status, title, message):
    if request.path.startswith(OPEN311_PREFIX):
        return _open311_error(request, status, message)
    if _wants_json(request):
        return JsonResponse({"detail": message}, status=status)
    return render(request, "hub/error.html", {"title": title, "message": message}, status=status)


def bad_request(request, exception=None):
    """Django answers here for a ``SuspiciousOperation``, raised by whatever read the
    body first (often the CSRF check, before any view): a body over the size limit is a
    413 and too many fields a 400, each naming its limit."""
    refusal = body_refusal(exception)
    if refusal is not None:
        status, message = refusal
        title = _("Request too large") if status == 413 else _("Bad request")
        return _error(request, status, title, message)
    return _error(request, 400, _("Bad request"), _("The request could not be understood."))


def permission_denied(request, exception=None):
    return _error(request, 403, _("Access denied"),
                  _("You do not have permission to see this page."))


def page_not_found(request, exception=None):
    return _error(request, 404, _("Page not found"),
                  _("The page you are looking for does not exist or has moved."))


def server_error(request):
    return _error(request, 500, _("Server error"),
                  _("Something went wrong on our side. Please try again in a moment."))
