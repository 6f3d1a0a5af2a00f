"""The sandbox channel's messages (``channels.sandbox``): with no SMS, voice or push
provider configured (a development server, ``make run``), those channels record each
message here, as it would have left, instead of failing; the admin's "boîte de test"
and the resident's "messages reçus" show them.  Production refuses the sandbox (a
deploy check error, ``alertes.E001``)."""

from __future__ import annotations

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from hub.personal_data import (
    ACCESS_COMMUNICATIONS,
    CONTACT,
    CONTENT,
    IDENTITY,
    UNTIL_ACCOUNT_DELETED,
    PersonalData,
)

from .outbox import Delivery
from .subscribers import Subscriber


class SandboxMessage(models.Model):
    """One message the sandbox took instead of a provider: the SMS text, the call's
    TwiML with the text read and its language, the push title, text and link, or a
    phone verification code."""

    class Kind(models.TextChoices):
        ALERT = "alert", _("Alert")
        NOTICE = "notice", _("Personal notice")
        CODE = "code", _("Verification code")

    channel = models.CharField(_("channel"), max_length=10)
    address = models.CharField(_("recipient"), max_length=500)
    language = models.CharField(_("language"), max_length=2, default="fr")
    kind = models.CharField(_("kind"), max_length=8, choices=Kind.choices,
                            default=Kind.ALERT)
    title = models.CharField(_("title"), max_length=255, blank=True)
    body = models.TextField(_("text"))
    url = models.CharField(_("link"), max_length=500, blank=True)
    say_language = models.CharField(_("voice language"), max_length=8, blank=True)
    twiml = models.TextField(_("TwiML"), blank=True)
    delivery = models.ForeignKey(Delivery, on_delete=models.SET_NULL, null=True, blank=True,
                                 related_name="sandbox_messages")
    subscriber = models.ForeignKey(Subscriber, on_delete=models.CASCADE, null=True,
                                   blank=True, related_name="sandbox_messages")
    created_at = models.DateTimeField(_("recorded at"), default=timezone.now,
                                      db_index=True)

    personal_data = PersonalData(
        purpose=_("Show, on a server without SMS, voice or push provider, the messages "
                  "those channels would have sent (test box)"),
        retention=UNTIL_ACCOUNT_DELETED, access=ACCESS_COMMUNICATIONS,
        fields={"address": CONTACT, "subscriber": IDENTITY, "title": CONTENT,
                "body": CONTENT, "twiml": CONTENT, "url": CONTENT})

    class Meta:
        verbose_name = _("test box message")
        verbose_name_plural = _("test box messages")
        ordering = ["-created_at", "-pk"]
        indexes = [models.Index(fields=["channel", "address"])]

    def __str__(self) -> str:
        return f"{self.channel}:{self.pk}"
