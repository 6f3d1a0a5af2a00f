"""Admin screens of the hub's shared nouns: departments and districts (snippets)."""

from django.utils.translation import gettext_lazy as _
from wagtail.admin.panels import FieldPanel
from wagtail.snippets.models import register_snippet
from wagtail.snippets.views.snippets import SnippetViewSet, SnippetViewSetGroup

from hub.models import Department, District


class DepartmentViewSet(SnippetViewSet):
    model = Department
    icon = "group"
    menu_label = _("Departments")
    list_display = ["name", "phone", "email", "accountable_title"]
    search_fields = ["name"]
    panels = [
        FieldPanel("name"),
        FieldPanel("slug"),
        FieldPanel("phone"),
        FieldPanel("email"),
        FieldPanel("accountable_title"),
        FieldPanel("agents"),
    ]


class DistrictViewSet(SnippetViewSet):
    model = District
    icon = "site"
    menu_label = _("Districts")
    list_display = ["name"]
    search_fields = ["name"]
    panels = [FieldPanel("name"), FieldPanel("slug"), FieldPanel("geometry")]


class CityViewSetGroup(SnippetViewSetGroup):
    items = (DepartmentViewSet, DistrictViewSet)
    menu_icon = "home"
    menu_label = _("City")
    menu_name = "city"


register_snippet(CityViewSetGroup)
