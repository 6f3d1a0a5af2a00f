"""The city's other online services (a translatable snippet) and citizens' favourites."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _
from wagtail.admin.panels import FieldPanel
from wagtail.models import TranslatableMixin
from wagtail.search import index
from wagtail.search.queryset import SearchableQuerySetMixin

from hub.personal_data import (
    ACCESS_PERSON_AND_ADMINISTRATORS,
    PREFERENCES,
    UNTIL_ACCOUNT_DELETED,
    PersonalData,
)


class Category(models.TextChoices):
    PERMITS = "permits", _("Permits")
    TAXES = "taxes", _("Taxes and assessment roll")
    LEISURE = "leisure", _("Leisure")
    PAYMENTS = "payments", _("Payments")
    OTHER = "other", _("Other services")


class Icon(models.TextChoices):
    LINK = "link", _("Link")
    NEWS = "news", _("News")
    REQUEST = "request", _("Request")
    ALERT = "alert", _("Alert")
    MODULE = "module", _("Service")


class ServiceLinkQuerySet(SearchableQuerySetMixin, models.QuerySet):
    """Querysets the hub search can call ``.search()`` on."""


class ServiceLink(TranslatableMixin, index.Indexed, models.Model):
    """A link to another online service of the city (Sport-Plus, assessment roll…)."""

    title = models.CharField(_("title"), max_length=120)
    description = models.TextField(_("description"), max_length=400, blank=True)
    url = models.URLField(_("address"), max_length=500)
    icon = models.CharField(_("icon"), max_length=20, choices=Icon.choices,
                            default=Icon.LINK)
    category = models.CharField(_("category"), max_length=20, choices=Category.choices,
                                default=Category.OTHER)
    uses_city_account = models.BooleanField(
        _("uses the Espace citoyen account"), default=False,
        help_text=_("Residents sign in to this service with their Espace citoyen account."))
    open_in_new_tab = models.BooleanField(_("opens in a new tab"), default=False)
    is_active = models.BooleanField(_("shown to residents"), default=True)
    sort_order = models.PositiveIntegerField(_("order"), default=100)
    oidc_application = models.ForeignKey(
        settings.OAUTH2_PROVIDER_APPLICATION_MODEL, on_delete=models.SET_NULL,
        null=True, blank=True, related_name="service_links",
        verbose_name=_("single sign-on client"),
        help_text=_("The OpenID Connect client this service signs residents in with."))

    objects = ServiceLinkQuerySet.as_manager()

    panels = [
        FieldPanel("title"),
        FieldPanel("description"),
        FieldPanel("url"),
        FieldPanel("category"),
        FieldPanel("icon"),
        FieldPanel("uses_city_account"),
        FieldPanel("oidc_application"),
        FieldPanel("open_in_new_tab"),
        FieldPanel("is_active"),
        FieldPanel("sort_order"),
    ]
    search_fields = [
        index.SearchField("title"),
        index.AutocompleteField("title"),
        index.SearchField("description"),
        index.FilterField("category"),
        index.FilterField("is_active"),
        index.FilterField("locale_id"),
    ]

    class Meta(TranslatableMixin.Meta):
        verbose_name = _("online service link")
        verbose_name_plural = _("online service links")
        ordering = ["sort_order", "title"]

    def __str__(self):
        return self.title

    def get_absolute_url(self) -> str:
        """The service itself: where a site search result leads."""
        return self.url

    @property
    def signs_in_with_city_account(self) -> bool:
        """Shown on the directory: declared by the editor, or implied by a single
        sign-on client."""
        return self.uses_city_account or self.oidc_application_id is not None


class Favourite(models.Model):
    """A citizen's favourite service, shown first in "My services"."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE,
                             related_name="service_favourites")
    link = models.ForeignKey(ServiceLink, on_delete=models.CASCADE,
                             related_name="favourites")
    created_at = models.DateTimeField(auto_now_add=True)

    personal_data = PersonalData(
        purpose=_("The online services a resident keeps as favourites"),
        retention=UNTIL_ACCOUNT_DELETED, access=ACCESS_PERSON_AND_ADMINISTRATORS,
        fields={"user": PREFERENCES})

    class Meta:
        verbose_name = _("favourite service")
        verbose_name_plural = _("favourite services")
        ordering = ["created_at"]
        constraints = [models.UniqueConstraint(fields=["user", "link"],
                                               name="liens_services_unique_favourite")]

    def __str__(self):
        return f"{self.user_id} → {self.link}"
