"""Error pages in the site's look; JSON for the API."""

from django.http import JsonResponse
from django.shortcuts import render
from django.utils.translation import gettext as _


def _wants_json(request) -> bool:
    return request.path.startswith(("/api/", "/open311/"))


def _error(request, status, title, message):
    if _wants_json(request):
        return JsonResponse({"detail": message}, status=status)
    return render(request, "hub/error.html", {"title": title, "message": message}, status=status)


def bad_request(request, exception=None):
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
