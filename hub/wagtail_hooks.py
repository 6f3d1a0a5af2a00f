"""Admin screens of the hub's shared nouns: departments, districts, the civic address
register and sign-on clients (snippets)."""

from django.utils.translation import gettext_lazy as _
from oauth2_provider.models import get_application_model
from wagtail.admin.panels import FieldPanel
from wagtail.snippets.models import register_snippet
from wagtail.snippets.views.snippets import SnippetViewSet, SnippetViewSetGroup

from hub.models import CivicAddress, Department, District


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


class CivicAddressViewSet(SnippetViewSet):
    """The civic address register: loaded in bulk with ``manage.py hub addresses import``
    (docs/addresses.md); here staff correct or add one address (a new street, a point
    moved).  The district is computed from the point on save, so it is not a field."""

    model = CivicAddress
    icon = "pick"
    menu_label = _("Civic addresses")
    list_display = ["label", "postal_code", "district"]
    list_filter = ["district", "municipality"]
    search_fields = ["street", "postal_code", "search_key"]
    list_per_page = 50
    panels = [
        FieldPanel("number"),
        FieldPanel("suffix"),
        FieldPanel("unit"),
        FieldPanel("street"),
        FieldPanel("postal_code"),
        FieldPanel("municipality"),
        FieldPanel("latitude"),
        FieldPanel("longitude"),
    ]

    def get_queryset(self, request):
        return CivicAddress.objects.select_related("district")


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
    items = (DepartmentViewSet, DistrictViewSet, CivicAddressViewSet, SignOnClientViewSet)
    menu_icon = "home"
    menu_label = _("City")
    menu_name = "city"


register_snippet(CityViewSetGroup)
