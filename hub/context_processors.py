"""Template context every page needs: city settings, banners and enabled modules."""

from __future__ import annotations

from django.conf import settings
from django.utils.functional import SimpleLazyObject
from django.utils.translation import get_language

from hub.cache import is_anonymous_request, memoize_public
from hub.plugins.manager import collect_sorted, enabled_modules


def hub(request):
    return {
        "hub_banners": lambda: banners(request),
        "hub_settings": SimpleLazyObject(lambda: city_settings(request)),
        "hub_modules": enabled_modules,
        "hub_default_city_name": settings.HUB_CITY_NAME,
        "hub_default_intake_phone": settings.HUB_INTAKE_PHONE,
    }


def banners(request) -> list[dict]:
    """Banners contributed by modules (the emergency text of the site settings is
    rendered by the base template itself).

    Anonymous visitors all see the same banners: the hook's result is kept a few
    seconds per language (``HUB_FRAGMENT_CACHE_SECONDS``) instead of querying the alerts
    on every page; signed-in visitors get the hook called for them."""
    if not is_anonymous_request(request):
        return collect_sorted("hub_banners", request=request)
    return memoize_public("banners", [get_language() or ""],
                          lambda: collect_sorted("hub_banners", request=request))


def city_settings(request):
    """The city settings (``SiteSettings`` of the default site) every page's header,
    emergency banner and footer read: two queries, kept ``HUB_FRAGMENT_CACHE_SECONDS``;
    saving them starts a new generation, so a new emergency text shows at once."""
    from wagtail.models import Site

    from hub.models import SiteSettings

    def load():
        site = Site.objects.filter(is_default_site=True).first()
        return SiteSettings.for_site(site) if site is not None else None

    return memoize_public("city-settings", [], load)
