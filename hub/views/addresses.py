"""Address autocompletion (``/fr/adresses/suggestions/?q=…``): public data from the civic
address register (number, street, municipality, position, district; never anything
about who lives there), rate-limited per client address."""

from __future__ import annotations

import time

from django.conf import settings
from django.core.cache import cache
from django.http import JsonResponse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from hub import addresses

MIN_LENGTH = 3
MAX_LENGTH = 200


def _rate_limited(request) -> bool:
    """More than ``HUB_ADDRESS_SUGGESTIONS_PER_MINUTE`` (default 120) look-ups this minute
    from the client's address (``REMOTE_ADDR``: behind a proxy, have it set the client's)."""
    rate = int(getattr(settings, "HUB_ADDRESS_SUGGESTIONS_PER_MINUTE", 120))
    ip = request.META.get("REMOTE_ADDR", "")[:64]
    key = f"hub:address-suggestions:{ip}:{int(time.time() // 60)}"
    cache.add(key, 0, timeout=70)
    try:
        count = cache.incr(key)
    except ValueError:  # expired between add and incr
        cache.set(key, 1, timeout=70)
        count = 1
    # None: the cache is down (it fails open, hub/settings.py): nobody is limited.
    return (count or 0) > rate


@require_GET
def suggestions(request):
    query = request.GET.get("q", "")
    if not isinstance(query, str) or "\x00" in query:
        return JsonResponse({"error": _("Invalid query.")}, status=400)
    query = " ".join(query.split())
    if len(query) < MIN_LENGTH:
        return JsonResponse({"error": _("Type at least %(n)d characters.") % {
            "n": MIN_LENGTH}, "results": []}, status=400)
    if len(query) > MAX_LENGTH:
        return JsonResponse({"error": _("The query is too long."), "results": []},
                            status=400)
    if _rate_limited(request):
        response = JsonResponse({"error": _("Too many requests: try again in a minute.")},
                                status=429)
        response["Retry-After"] = "60"
        return response
    try:
        limit = int(request.GET.get("limit", 8))
    except ValueError:
        limit = 8
    results = [addresses.as_json(a) for a in addresses.suggest(query, limit=limit)]
    return JsonResponse({"results": results})
