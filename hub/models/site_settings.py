"""City-wide settings editors change in the admin (Settings → City).

They are the one source of the city's identity (its name, the intake phone number):
templates read them as ``hub_settings``, and code outside a request — a task, an SMS
reply, a CAP feed, Open311's discovery — reads :meth:`SiteSettings.current`.  There is
no environment variable or Django setting for the same facts."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _
from wagtail.admin.panels import FieldPanel, MultiFieldPanel
from wagtail.contrib.settings.models import BaseSiteSetting, register_setting

from hub.i18n import localized
from hub.personal_data import (
    ACCESS_STAFF,
    NOT_PURGED,
    PersonalData,
)


@register_setting(icon="cog")
class SiteSettings(BaseSiteSetting):
    city_name = models.CharField(_("city name"), max_length=120,
                                 default="Salaberry-de-Valleyfield")
    logo = models.ForeignKey(
        "wagtailimages.Image", verbose_name=_("logo"), null=True, blank=True,
        on_delete=models.SET_NULL, related_name="+",
    )
    intake_phone = models.CharField(
        _("intake phone number"), max_length=32, default="450 370-4820",
        help_text=_("Where residents reach the staff who enter requests."),
    )
    emergency_banner_fr = models.TextField(
        _("emergency banner (French)"), blank=True,
        help_text=_("Shown at the top of every page while filled in."),
    )
    emergency_banner_en = models.TextField(
        _("emergency banner (English)"), blank=True,
        help_text=_("Leave empty to show the French text to English visitors."),
    )

    privacy_page = models.ForeignKey(
        "wagtailcore.Page", verbose_name=_("privacy policy page"), null=True, blank=True,
        on_delete=models.SET_NULL, related_name="+",
        help_text=_("Linked from every page's footer, in the visitor's language."))
    governance_page = models.ForeignKey(
        "wagtailcore.Page", verbose_name=_("personal information governance page"),
        null=True, blank=True, on_delete=models.SET_NULL, related_name="+",
        help_text=_("The city's rules for governing personal information (Law 25, s. 3.2), "
                    "linked from every page's footer."))

    panels = [
        FieldPanel("city_name"),
        FieldPanel("logo"),
        FieldPanel("intake_phone"),
        MultiFieldPanel([FieldPanel("privacy_page"), FieldPanel("governance_page")],
                        heading=_("Privacy (Law 25)")),
        MultiFieldPanel(
            [FieldPanel("emergency_banner_fr"), FieldPanel("emergency_banner_en")],
            heading=_("Emergency banner"),
        ),
    ]

    personal_data = PersonalData(
        purpose=_("The city's settings"), retention=NOT_PURGED, access=ACCESS_STAFF,
        exempt={"intake_phone": _("the city's public number")})

    class Meta:
        verbose_name = _("city settings")

    @classmethod
    def current(cls) -> SiteSettings:
        """The city settings of the default site, for code that has no request (or
        whose request's site does not matter): two queries, kept
        ``HUB_FRAGMENT_CACHE_SECONDS`` (saving them starts a new generation, so a change
        shows at once).  Before any site exists, unsaved settings with the fields'
        defaults, so callers always read a value."""
        from wagtail.models import Site

        from hub.cache import memoize_public

        def load():
            site = Site.objects.filter(is_default_site=True).first()
            return cls.for_site(site) if site is not None else cls()

        return memoize_public("city-settings", [], load)

    def footer_privacy_links(self) -> list[tuple[str, str]]:
        """``[(title, url)]`` of the privacy and governance pages in the active
        language (the translation when there is one).  Every page's footer shows them,
        so they are memoized like the other per-language fragments: publishing a page or
        saving these settings starts a new generation and refreshes them at once."""
        from django.utils.translation import get_language

        from hub.cache import memoize_public

        def compute():
            links = []
            for page in (self.privacy_page, self.governance_page):
                if page is not None and page.live:
                    page = page.localized
                    links.append((page.title, page.url))
            return links

        return memoize_public("privacy-links", [get_language(), self.pk], compute)

    @property
    def emergency_banner(self) -> str:
        return localized(self, "emergency_banner")

    @property
    def intake_phone_uri(self) -> str:
        digits = "".join(ch for ch in self.intake_phone if ch.isdigit())
        if len(digits) == 10:
            digits = "1" + digits
        return f"tel:+{digits}"
