"""Template context every page needs: city settings, banners and enabled modules."""

from __future__ import annotations

from django.conf import settings

from hub.plugins.manager import collect, enabled_modules


def hub(request):
    return {
        "hub_banners": lambda: banners(request),
        "hub_modules": enabled_modules,
        "hub_default_city_name": settings.HUB_CITY_NAME,
        "hub_default_intake_phone": settings.HUB_INTAKE_PHONE,
    }


def banners(request) -> list[dict]:
    """Banners contributed by modules (the emergency text of the site settings is
    rendered by the base template itself)."""
    return collect("hub_banners", request=request)
