"""Signal receivers of the hub."""

import importlib
import sys

from django.conf import settings
from django.contrib.auth.signals import user_logged_in
from django.core.signals import setting_changed
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
    """After sign-in, the interface follows the account's preferred language."""
    from django.utils import translation

    if request is not None and getattr(user, "preferred_language", None):
        translation.activate(user.preferred_language)
