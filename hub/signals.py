"""Signal receivers of the hub."""

import importlib
import sys

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.signals import user_logged_in
from django.core.signals import setting_changed
from django.db.models.signals import post_delete, post_save, pre_save
from django.dispatch import receiver
from django.urls import clear_url_caches


@receiver(setting_changed)
def rebuild_urls_when_modules_change(*, setting, **kwargs):
    """Module URLs and API routes are built with the URLconf: rebuild it when the set of
    disabled modules changes at run time (tests, ``override_settings``)."""
    if setting != "HUB_DISABLED_MODULES":
        return
    clear_url_caches()
    urlconf = sys.modules.get(settings.ROOT_URLCONF)
    if urlconf is not None:
        importlib.reload(urlconf)


@receiver(user_logged_in)
def remember_language(sender, request, user, **kwargs):
    """After sign-in, the interface follows the account's preferred language, unless the
    visitor was sent back to a page of a language (``?next=/en/…``): then the rest of
    the sign-in ("signed in as…") speaks that page's language, not the account's."""
    from urllib.parse import urlsplit

    from django.utils import translation

    if request is None:
        return
    following = request.POST.get("next") or request.GET.get("next") or ""
    page = urlsplit(following).path if following.startswith("/") else ""  # same site
    language = (translation.get_language_from_path(page)
                or getattr(user, "preferred_language", None))
    if language:
        translation.activate(language)


@receiver(pre_save, sender=get_user_model())
def note_deactivation(sender, instance, raw=False, **kwargs):
    """Remember whether this save turns an active account inactive (one query, only when
    the account being saved is inactive)."""
    instance._hub_deactivated = False
    if raw or instance.is_active or instance.pk is None:
        return
    instance._hub_deactivated = sender._default_manager.filter(
        pk=instance.pk, is_active=True
    ).exists()


@receiver(post_save, sender=get_user_model())
def revoke_sessions_on_deactivation(sender, instance, raw=False, **kwargs):
    """A deactivated account is signed out everywhere at once (security baseline): its
    sessions are deleted, not left to fail at the next request."""
    if raw or not getattr(instance, "_hub_deactivated", False):
        return
    from hub.accounts.services import revoke_sessions

    instance._hub_deactivated = False
    revoke_sessions(instance)


@receiver(post_delete, sender=get_user_model())
def revoke_sessions_on_deletion(sender, instance, **kwargs):
    """However an account is deleted (the citizen's own deletion page, the admin, a
    script), its sessions go with it."""
    from hub.accounts.services import revoke_sessions

    revoke_sessions(instance)


def _invalidate(**kwargs):
    from hub.cache import invalidate_public_cache

    invalidate_public_cache()


def connect_public_cache_invalidation():
    """Content that anonymous visitors see changed: drop every cached public response."""
    from django.db.models.signals import post_delete, post_save
    from wagtail.models import Page
    from wagtail.signals import page_published, page_unpublished

    from hub.models import SiteSettings

    page_published.connect(_invalidate, dispatch_uid="hub-cache-published")
    page_unpublished.connect(_invalidate, dispatch_uid="hub-cache-unpublished")
    post_delete.connect(_invalidate, sender=Page, dispatch_uid="hub-cache-page-deleted")
    post_save.connect(_invalidate, sender=SiteSettings, dispatch_uid="hub-cache-settings")
    # A page made private (or public again) must leave the shared cache at once.
    from wagtail.models import PageViewRestriction

    post_save.connect(_invalidate, sender=PageViewRestriction,
                      dispatch_uid="hub-cache-restriction-saved")
    post_delete.connect(_invalidate, sender=PageViewRestriction,
                        dispatch_uid="hub-cache-restriction-deleted")


@receiver(setting_changed)
def invalidate_cache_when_modules_change(*, setting, **kwargs):
    if setting in ("HUB_DISABLED_MODULES", "HUB_PUBLIC_CACHE_SECONDS"):
        _invalidate()
