"""The site's URLconf plus two views that fail, so the browser tests can render the 403
and 500 pages through the real handlers (``hub.urls.handler403``/``handler500``)."""

from django.conf.urls.i18n import i18n_patterns
from django.core.exceptions import PermissionDenied
from django.urls import path

from hub.urls import handler400, handler403, handler404, handler500  # noqa: F401
from hub.urls import urlpatterns as site_urlpatterns


def forbidden(request):
    raise PermissionDenied


def crash(request):
    raise RuntimeError("e2e: a view that fails, to render the 500 page")


urlpatterns = [
    *i18n_patterns(path("e2e/interdit/", forbidden), path("e2e/erreur/", crash),
                   prefix_default_language=True),
    *site_urlpatterns,
]
