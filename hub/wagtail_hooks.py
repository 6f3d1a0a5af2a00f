"""Admin screens of the hub's shared nouns: departments and districts (snippets)."""

from django.utils.translation import gettext_lazy as _
from oauth2_provider.models import get_application_model
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


class SignOnClientViewSet(SnippetViewSet):
    """Services and apps that sign residents in with the Espace citoyen account (OIDC).
    "Skip authorization" marks the city's own trusted services: no consent screen."""

    model = get_application_model()
    icon = "key"
    menu_label = _("Sign-on clients")
    list_display = ["name", "client_type", "skip_authorization"]
    search_fields = ["name"]
    panels = [
        FieldPanel("name"),
        FieldPanel("client_id"),
        FieldPanel("client_type"),
        FieldPanel("authorization_grant_type"),
        FieldPanel("client_secret"),
        FieldPanel("hash_client_secret"),
        FieldPanel("redirect_uris"),
        FieldPanel("post_logout_redirect_uris"),
        FieldPanel("skip_authorization"),
        FieldPanel("algorithm"),
    ]


class CityViewSetGroup(SnippetViewSetGroup):
    items = (DepartmentViewSet, DistrictViewSet, SignOnClientViewSet)
    menu_icon = "home"
    menu_label = _("City")
    menu_name = "city"


register_snippet(CityViewSetGroup)
