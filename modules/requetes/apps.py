from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class RequetesConfig(AppConfig):
    name = "modules.requetes"
    label = "requetes"
    verbose_name = _("Service requests")
    default_auto_field = "django.db.models.BigAutoField"
