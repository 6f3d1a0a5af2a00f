from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class HubConfig(AppConfig):
    name = "hub"
    verbose_name = _("Espace citoyen hub")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        from django.db.models.signals import post_migrate

        from hub import roles, signals

        signals.connect_public_cache_invalidation()
        from hub import logs

        logs.connect()  # sign-in, lockout and task lines (hub.logs)
        # The staff groups the hub and the modules declare (hub_staff_roles) exist, with
        # their permissions, after every migrate.
        post_migrate.connect(roles.sync_after_migrate, sender=self,
                             dispatch_uid="hub-sync-staff-roles")
        from hub.plugins.manager import get_plugin_manager

        # Builds the plugin manager and runs check_pending(): a misspelled hook
        # implementation stops the start-up instead of being ignored.
        get_plugin_manager()
        from hub import search, search_stems

        search_stems.install()  # French and English stems in the search index
        if search.elasticsearch_enabled():
            search.connect_document_signals()
        localize_editor_parsers()


# Entries of the hub's catalog that correct the French of wagtail-localize and Wagtail's
# admin in the translation screens (hub/locale is read before the apps' catalogs):
# "Locales" is "Régions" there, "Status: " stays "Status :".  Named here so that
# makemessages keeps them.  The content languages' names are in settings.py; the
# editor's JavaScript strings in hub/locale/fr/LC_MESSAGES/djangojs.po.
CATALOG_CORRECTIONS = (_("Locales"), _("Locale"), _("Locale: "), _("Status: "))


def localize_editor_parsers() -> None:
    """wagtail-localize's translation editor saves each segment (and each image or
    document override) by PUTting a form body (``multipart/form-data``) to two DRF views.
    The project's API parses JSON only (``REST_FRAMEWORK``), and that default applied to
    those views too: every save was a 415.  These two views, and only them, get back
    DRF's own default parsers; they stay session-only, CSRF-checked, and their
    permission check is wagtail-localize's."""
    from rest_framework.parsers import FormParser, JSONParser, MultiPartParser
    from wagtail_localize.views import edit_translation

    for view in (edit_translation.edit_string_translation, edit_translation.edit_override):
        view.cls.parser_classes = [JSONParser, FormParser, MultiPartParser]
