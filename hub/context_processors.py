"""Template context every page needs: city settings, banners and enabled modules."""

from __future__ import annotations

from django.utils.functional import SimpleLazyObject
from django.utils.translation import get_language

from hub.cache import memoize_public
from hub.plugins.manager import collect_sorted, enabled_modules


def hub(request):
    return {
        "hub_banners": lambda: banners(request),
        "hub_settings": SimpleLazyObject(lambda: city_settings(request)),
        "hub_modules": enabled_modules,
    }


def banners(request) -> list[dict]:
    """Banners contributed by modules (the emergency text of the site settings is
    rendered by the base template itself).

    Banners carry no personal data (the hook's contract), so every visitor of a
    language sees the same ones: the hook's result is kept a few seconds per language
    (``HUB_FRAGMENT_CACHE_SECONDS``) for signed-in residents too, whose pages (Mon
    Espace, every app screen) cannot come from the public page cache.  Sending,
    correcting or cancelling an alert starts a new cache generation: the banner changes
    at once for everyone."""
    return memoize_public("banners", [get_language() or ""],
                          lambda: collect_sorted("hub_banners", request=request))


def city_settings(request):
    """The city settings every page's header, emergency banner and footer read
    (``SiteSettings.current()``: the default site's, cached, the fields' defaults before
    any site exists — the one source of the city's name and intake phone)."""
    from hub.models import SiteSettings

    return SiteSettings.current()
