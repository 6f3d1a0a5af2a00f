"""The hub's public page cache and the emergency banner.

Anonymous pages are served from a shared cache for up to ``HUB_PUBLIC_CACHE_SECONDS``,
and the banners computed through ``hub_banners`` for up to ``HUB_FRAGMENT_CACHE_SECONDS``.
An emergency banner must not wait for those to expire: the moment an alert starts going
out (its status becomes *sending*, which is also when a correction or a cancellation
starts), the cache's generation is bumped so the next page already shows — or no longer
shows — the banner.  Expiry is time-based and may linger up to the cache lifetime.
"""

from __future__ import annotations

from django.db.models.signals import post_save

from hub.cache import invalidate_public_cache


def _alert_saved(sender, instance, update_fields=None, **kwargs):
    from .models import PUBLISHED

    if update_fields is not None and "status" not in update_fields:
        return
    if instance.status in PUBLISHED:
        invalidate_public_cache()


def connect() -> None:
    from .models import Alert

    post_save.connect(_alert_saved, sender=Alert, dispatch_uid="alertes-public-cache")
