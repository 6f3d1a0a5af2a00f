"""Admin: the online service links, a translatable snippet."""

from django.utils.translation import gettext_lazy as _
from wagtail.snippets.models import register_snippet
from wagtail.snippets.views.snippets import SnippetViewSet

from .models import ServiceLink


class ServiceLinkViewSet(SnippetViewSet):
    model = ServiceLink
    icon = "link"
    menu_label = _("Online services")
    add_to_admin_menu = True
    menu_order = 310
    list_display = ["title", "category", "uses_city_account", "oidc_application",
                    "is_active"]
    list_filter = ["category", "is_active"]
    search_fields = ["title", "description"]


register_snippet(ServiceLinkViewSet)
