from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ActualitesConfig(AppConfig):
    name = "modules.actualites"
    label = "actualites"
    verbose_name = _("News")
    default_auto_field = "django.db.models.BigAutoField"
