"""Admin screens of the hub's shared nouns: departments, districts, the civic address
register and sign-on clients (snippets)."""

from django import forms
from django.urls import path
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _
from oauth2_provider.models import get_application_model
from wagtail import hooks
from wagtail.admin.forms import WagtailAdminModelForm
from wagtail.admin.panels import FieldPanel, ObjectList
from wagtail.admin.views.generic.base import WagtailAdminTemplateMixin
from wagtail.permission_policies import ModelPermissionPolicy
from wagtail.permissions import register_permission_policy
from wagtail.snippets.models import register_snippet
from wagtail.snippets.views.snippets import SnippetViewSet, SnippetViewSetGroup

from hub.geo import decimal_point
from hub.models import (
    CivicAddress,
    Department,
    District,
    PersonalDataAccess,
    PrivacyIncident,
)


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


def _header_title(self):
    """Wagtail's admin headings and tab titles join title and subtitle with a colon
    written in code ("Modification de Actualité: …"); in French, the non-breaking space
    goes before it."""
    title, subtitle = self.get_page_title(), self.get_page_subtitle()
    if not subtitle:
        return title
    colon = "\u00a0: " if (get_language() or "").startswith("fr") else ": "
    return f"{title}{colon}{subtitle}"


WagtailAdminTemplateMixin.get_header_title = _header_title


class CoordinateField(forms.FloatField):
    """A latitude or longitude typed the French way (``45,2435``) or with a point."""

    def to_python(self, value):
        return super().to_python(decimal_point(value))


class CivicAddressForm(WagtailAdminModelForm):
    class Meta:
        field_classes = {"latitude": CoordinateField, "longitude": CoordinateField}


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
    edit_handler = ObjectList(panels, base_form_class=CivicAddressForm)

    def get_queryset(self, request):
        return CivicAddress.objects.select_related("district")


class SignOnClientForm(WagtailAdminModelForm):
    """The sign-on client form offers only the grants the hub supports: the authorization
    code (with PKCE, and its refresh tokens) and client credentials; never the implicit,
    password, hybrid or device grants (OAuth 2.0 Security BCP, RFC 9700)."""

    SUPPORTED_GRANTS = ("authorization-code", "client-credentials")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        field = self.fields.get("authorization_grant_type")
        if field is not None:
            field.choices = [(value, label) for value, label in field.choices
                             if value in self.SUPPORTED_GRANTS]

    def clean_authorization_grant_type(self):
        value = self.cleaned_data.get("authorization_grant_type")
        if value not in self.SUPPORTED_GRANTS:
            raise forms.ValidationError(_("The hub does not support this grant."))
        return value


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
    edit_handler = ObjectList(panels, base_form_class=SignOnClientForm)


class CityViewSetGroup(SnippetViewSetGroup):
    items = (DepartmentViewSet, DistrictViewSet, CivicAddressViewSet, SignOnClientViewSet)
    menu_icon = "home"
    menu_label = _("City")
    menu_name = "city"


register_snippet(CityViewSetGroup)


# --- Law 25 registers (administrators only: no staff role is given these permissions) --

class PrivacyIncidentViewSet(SnippetViewSet):
    """The register of confidentiality incidents (the regulation's art. 2 fields); each
    incident's notice to the persons concerned is at ``…/avis/fr/`` and ``…/avis/en/``."""

    model = PrivacyIncident
    icon = "warning"
    menu_label = _("Confidentiality incidents")
    list_display = ["title", "became_aware_on", "persons_concerned", "serious_injury_risk",
                    "commission_notified_on", "persons_notified_on"]
    search_fields = ["title"]


class ReadOnlyPolicy(ModelPermissionPolicy):
    """The access log is append-only: it can be viewed, never added, changed or deleted
    by hand."""

    def user_has_permission(self, user, action):
        return action == "view" and super().user_has_permission(user, action)

    def users_with_any_permission(self, actions):
        return super().users_with_any_permission([a for a in actions if a == "view"])


class PersonalDataAccessViewSet(SnippetViewSet):
    model = PersonalDataAccess
    icon = "view"
    menu_label = _("Personal data accesses")
    list_display = ["at", "staff_email", "what", "subject_label", "reason"]
    search_fields = ["staff_email", "subject_label", "what"]
    list_filter = ["what"]
    inspect_view_enabled = True
    list_per_page = 100


register_permission_policy(PersonalDataAccess, ReadOnlyPolicy(PersonalDataAccess))


register_snippet(PrivacyIncidentViewSet)
register_snippet(PersonalDataAccessViewSet)


@hooks.register("register_admin_urls")
def privacy_admin_urls():
    from hub.privacy import incident_notice

    return [path("confidentialite/incidents/<int:pk>/avis/<str:language>/",
                 incident_notice, name="hub_incident_notice")]


@hooks.register("before_edit_user")
def log_user_read(request, user):
    """A staff member opened a person's account in the admin: log the read."""
    if request.method == "GET":
        from hub.access_log import record_personal_data_read

        record_personal_data_read(request, what="account", subject=user,
                                  subject_label=user.email)
