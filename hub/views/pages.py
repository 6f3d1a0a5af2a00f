"""Wagtail's page serving, its first step shortened.

Every public page starts from the site's root page in the visitor's language: Wagtail
reads the root as a plain ``Page``, then the active ``Locale``, then the root again as
its specific type (three queries) before routing to the page asked for.  Which page that
localized root is changes only with a publication, an unpublication or a deletion, all
of which start a new public-cache generation; so its type and id are memoized
(``hub.cache.memoize_public``, keyed by the site, its root and the language) and the
root is read in one query from its own table.  Wagtail's own ``serve`` does the rest
(hooks, view restrictions, the page's ``serve``) with the route found here.
"""

from __future__ import annotations

from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.http import Http404
from wagtail.models import Page, Site
from wagtail.views import serve as wagtail_serve

from hub.cache import memoize_public
from hub.i18n import current_language


def localized_root(request) -> Page | None:
    """The site's root page in the active language, as its specific type; ``None`` lets
    Wagtail find it (no site, memoizing off, a memo that no longer matches a row)."""
    if not getattr(settings, "HUB_FRAGMENT_CACHE_SECONDS", 0):
        return None
    site = Site.find_for_request(request)
    if site is None:
        return None

    def compute():
        root = site.root_page.localized.specific
        return root.content_type_id, root.pk

    content_type_id, pk = memoize_public(
        "hub-localized-root", [site.pk, site.root_page_id, current_language()], compute)
    model = ContentType.objects.get_for_id(content_type_id).model_class()
    if model is None or not issubclass(model, Page):
        return None
    try:
        return model.objects.get(pk=pk)
    except model.DoesNotExist:
        return None


def serve(request, path):
    """``wagtail.views.serve`` with the route started from :func:`localized_root`."""
    if not hasattr(request, "_wagtail_route_for_request"):
        root = localized_root(request)
        if root is not None:
            try:
                request._wagtail_route_for_request = root.route(
                    request, [component for component in path.split("/") if component])
            except Http404:
                request._wagtail_route_for_request = None
    return wagtail_serve(request, path)
