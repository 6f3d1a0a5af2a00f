"""What the hub told a person itself, when no module implements ``hub_notify``.

A row is written before anything leaves (DESIGN rule 5): its unique ``dedupe_key`` is
what makes the fallback idempotent (a key already logged is never sent again), and the
task that sends the email carries only the row's id.
"""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from hub.personal_data import (
    ACCESS_ADMINISTRATORS,
    CONTACT,
    CONTENT,
    IDENTITY,
    NOT_PURGED,
    PersonalData,
)


class NoticeLog(models.Model):
    class State(models.TextChoices):
        PENDING = "pending", _("pending")
        SENT = "sent", _("sent")
        UNREACHABLE = "unreachable", _("not reachable")
        FAILED = "failed", _("failed")

    dedupe_key = models.CharField(_("de-duplication key"), max_length=255, unique=True)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("account"), null=True, blank=True,
        on_delete=models.CASCADE, related_name="+",
    )
    email = models.EmailField(_("email"), blank=True)
    language = models.CharField(_("language"), max_length=8, default="fr")
    topic = models.CharField(_("topic"), max_length=64, blank=True)
    source = models.CharField(_("source"), max_length=64, blank=True)
    subject = models.CharField(_("subject"), max_length=255)
    body = models.TextField(_("body"), blank=True)
    url = models.CharField(_("link"), max_length=500, blank=True)
    state = models.CharField(_("state"), max_length=16, choices=State.choices,
                             default=State.PENDING)
    error = models.TextField(_("error"), blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    sent_at = models.DateTimeField(_("sent at"), null=True, blank=True)

    personal_data = PersonalData(
        purpose=_("Proof that a notice was sent to a person by email"),
        retention=NOT_PURGED, access=ACCESS_ADMINISTRATORS,
        fields={"user": IDENTITY, "email": CONTACT, "body": CONTENT})

    class Meta:
        verbose_name = _("notice sent by the hub")
        verbose_name_plural = _("notices sent by the hub")
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.dedupe_key} ({self.state})"
