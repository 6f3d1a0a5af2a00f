from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AlertesConfig(AppConfig):
    name = "modules.alertes"
    label = "alertes"
    verbose_name = _("Alerts and communications")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        from . import public_cache

        public_cache.connect()
