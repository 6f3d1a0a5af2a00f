from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class HubConfig(AppConfig):
    name = "hub"
    verbose_name = _("Espace citoyen hub")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        from hub import signals

        signals.connect_public_cache_invalidation()
        from hub.plugins.manager import get_plugin_manager

        # Builds the plugin manager and runs check_pending(): a misspelled hook
        # implementation stops the start-up instead of being ignored.
        get_plugin_manager()
        from hub import search

        if search.elasticsearch_enabled():
            search.connect_document_signals()
