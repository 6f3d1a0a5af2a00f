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
        # The staff groups the hub and the modules declare (hub_staff_roles) exist, with
        # their permissions, after every migrate.
        post_migrate.connect(roles.sync_after_migrate, sender=self,
                             dispatch_uid="hub-sync-staff-roles")
        from hub.plugins.manager import get_plugin_manager

        # Builds the plugin manager and runs check_pending(): a misspelled hook
        # implementation stops the start-up instead of being ignored.
        get_plugin_manager()
        from hub import search

        if search.elasticsearch_enabled():
            search.connect_document_signals()
