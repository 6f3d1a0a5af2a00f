from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class LiensServicesConfig(AppConfig):
    name = "modules.liens_services"
    label = "liens_services"
    verbose_name = _("Online services")
    default_auto_field = "django.db.models.BigAutoField"
