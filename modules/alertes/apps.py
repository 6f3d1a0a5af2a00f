from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AlertesConfig(AppConfig):
    name = "modules.alertes"
    label = "alertes"
    verbose_name = _("Alerts and communications")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        """The public cache follows the alerts' status; publishing an alert (Wagtail's
        ``published`` signal) hands it to ``services.sending`` to send, so the models
        need not import the services."""
        from wagtail.signals import published

        from . import checks, public_cache  # noqa: F401  (checks registers the deploy check)
        from .models import Alert
        from .services.sending import on_published

        public_cache.connect()
        published.connect(on_published, sender=Alert, dispatch_uid="alertes-send-on-publish")
