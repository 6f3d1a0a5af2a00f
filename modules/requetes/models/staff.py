"""What staff set up around requests: Open311 clients' API keys and ready-made
replies."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from wagtail.admin.panels import FieldPanel

from hub.i18n import localized
from hub.personal_data import (
    ACCESS_ADMINISTRATORS,
    CONTACT,
    NOT_PURGED,
    PersonalData,
)


class Open311ApiKey(models.Model):
    """A key the city issues to an Open311 client (a mobile app, a partner, a back-office
    system).  Only a hash is stored; the key itself is shown once when it is created."""

    name = models.CharField(_("client"), max_length=120)
    contact_email = models.EmailField(_("contact email"), blank=True)
    prefix = models.CharField(_("key prefix"), max_length=12, editable=False, db_index=True)
    key_hash = models.CharField(max_length=64, unique=True, editable=False)
    active = models.BooleanField(_("active"), default=True)
    can_post_updates = models.BooleanField(
        _("may post request updates"), default=False,
        help_text=_("For a back-office system that sends status updates "
                    "(servicerequestupdates)."))
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL,
                                   null=True, blank=True, related_name="+")
    created_at = models.DateTimeField(_("created"), default=timezone.now)
    last_used_at = models.DateTimeField(_("last used"), null=True, blank=True)

    personal_data = PersonalData(
        purpose=_("Reach the developer of an Open311 client"), retention=NOT_PURGED,
        access=ACCESS_ADMINISTRATORS,
        fields={"contact_email": CONTACT},
        exempt={"created_by": _("the staff member who issued the key")})

    class Meta:
        verbose_name = _("Open311 API key")
        verbose_name_plural = _("Open311 API keys")
        ordering = ["name"]

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"


class ResponseTemplate(models.Model):
    """A ready-made public reply agents pick and edit before sending."""

    title = models.CharField(_("title"), max_length=120)
    department = models.ForeignKey(
        "hub.Department", on_delete=models.CASCADE, null=True, blank=True,
        related_name="response_templates", verbose_name=_("department"),
        help_text=_("Leave empty to offer it to every department."))
    body_fr = models.TextField(_("text (French)"), max_length=4000)
    body_en = models.TextField(_("text (English)"), max_length=4000, blank=True)
    active = models.BooleanField(_("active"), default=True)
    order = models.PositiveSmallIntegerField(_("order"), default=100)

    panels = [FieldPanel("title"), FieldPanel("department"), FieldPanel("body_fr"),
              FieldPanel("body_en"), FieldPanel("active"), FieldPanel("order")]

    class Meta:
        verbose_name = _("response template")
        verbose_name_plural = _("response templates")
        ordering = ["order", "title"]

    def __str__(self) -> str:
        return self.title

    @property
    def body(self) -> str:
        return localized(self, "body")
