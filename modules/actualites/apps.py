from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ActualitesConfig(AppConfig):
    name = "modules.actualites"
    label = "actualites"
    verbose_name = _("News")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        from wagtail.signals import page_published

        from . import services
        from .models import NewsPage

        page_published.connect(services.on_page_published, sender=NewsPage,
                               dispatch_uid="actualites_page_published")
