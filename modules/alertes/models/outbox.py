"""Personal notices taken through ``hub_notify``, the channels each person chose for them,
and the delivery outbox shared by alerts and notices (one row per message to send; the
delivery guarantee is in ``services.outbox``)."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from hub.personal_data import (
    ACCESS_COMMUNICATIONS,
    CONTACT,
    CONTENT,
    IDENTITY,
    NOT_PURGED,
    PersonalData,
)

from .alerts import Alert
from .subscribers import LANGUAGES, Subscriber


class Notice(models.Model):
    """A personal notice taken through ``hub_notify`` (``hub.notify.Notice``): something
    one person is told about their own business (e.g. a step of their service request).

    Kept as a row so the outbox can point at it (``Delivery.notice``), the person sees it
    in Mon Espace, and the same ``dedupe_key`` is never taken twice (unique).  The texts
    are the sender's, already in ``language``.  The recipient is an account (``user``) or
    a contact without one (``email`` and/or ``phone``, e.g. a caller entered by phone
    intake).  Not a subscription: no consent record, no unsubscribe link.
    """

    class Urgency(models.TextChoices):
        NORMAL = "normal", _("Normal")
        URGENT = "urgent", _("Urgent")

    dedupe_key = models.CharField(_("de-duplication key"), max_length=255, unique=True)
    topic = models.CharField(_("topic"), max_length=60)
    source = models.CharField(_("sent by"), max_length=60, blank=True)
    subject = models.CharField(_("subject"), max_length=255)
    body = models.TextField(_("text"))
    short = models.CharField(_("short text"), max_length=500, blank=True)
    url = models.CharField(_("link"), max_length=500, blank=True)
    urgency = models.CharField(_("urgency"), max_length=8, choices=Urgency.choices,
                               default="normal")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True,
                             blank=True, related_name="alert_notices",
                             verbose_name=_("account"))
    email = models.CharField(_("email"), max_length=254, blank=True)
    phone = models.CharField(_("phone"), max_length=32, blank=True)
    language = models.CharField(_("language"), max_length=2, choices=LANGUAGES,
                                default="fr")
    created_at = models.DateTimeField(_("created at"), default=timezone.now)

    personal_data = PersonalData(
        purpose=_("A notice to one person, kept until delivered"), retention=NOT_PURGED,
        access=ACCESS_COMMUNICATIONS,
        fields={"user": IDENTITY, "email": CONTACT, "phone": CONTACT, "body": CONTENT})

    class Meta:
        verbose_name = _("personal notice")
        verbose_name_plural = _("personal notices")
        ordering = ["-created_at", "-pk"]

    def __str__(self) -> str:
        return self.subject

    def sms(self, language: str | None = None) -> str:
        """The short text, else the subject (the SMS channel adds the link)."""
        return self.short or self.subject

    def push(self, language: str | None = None) -> str:
        return self.short or self.subject


class NoticePreference(models.Model):
    """The channels one person chose for one notice topic (``hub_notice_topics``), e.g.
    "My requests" by SMS and push.  Without a row the topic's default channels apply."""

    subscriber = models.ForeignKey(Subscriber, on_delete=models.CASCADE,
                                   related_name="notice_preferences")
    topic = models.CharField(_("topic"), max_length=60)
    channels = models.JSONField(_("channels"), default=list, blank=True)
    updated_at = models.DateTimeField(_("updated at"), default=timezone.now)

    class Meta:
        verbose_name = _("notice preference")
        verbose_name_plural = _("notice preferences")
        constraints = [models.UniqueConstraint(fields=["subscriber", "topic"],
                                               name="alertes_noticepref_unique")]

    def __str__(self) -> str:
        return f"{self.subscriber_id}:{self.topic}"


class Delivery(models.Model):
    """The outbox: one row per recipient and channel, written before anything is sent.

    ``queued → sending → sent → delivered`` or ``failed``; ``review`` is a row found in
    ``sending`` after a worker died: it may or may not have left, a person decides.

    A row carries either an ``alert`` (the fan-out) or a ``notice`` (one person, through
    ``hub_notify``), never both: the worker, retries and the sweep treat them alike.
    """

    class Status(models.TextChoices):
        QUEUED = "queued", _("Queued")
        SENDING = "sending", _("Sending")
        SENT = "sent", _("Sent")
        DELIVERED = "delivered", _("Delivered")
        FAILED = "failed", _("Failed")
        REVIEW = "review", _("To check")

    # No index of its own: the unique (alert, channel, address) index starts with it.
    # No database constraint either: PostgreSQL checks a foreign key per inserted row
    # (a lookup locking the alert's row, 150,000 times for a city-wide emergency's
    # outbox, about a second of its build), while every row is written by the outbox
    # from the alert being sent.  Django still cascades a deleted alert to its rows.
    alert = models.ForeignKey(Alert, on_delete=models.CASCADE, related_name="deliveries",
                              db_index=False, db_constraint=False, null=True, blank=True)
    # Likewise: the partial unique (notice, channel, address) index starts with it.
    notice = models.ForeignKey(Notice, on_delete=models.CASCADE, related_name="deliveries",
                               db_index=False, null=True, blank=True)
    subscriber = models.ForeignKey(Subscriber, on_delete=models.SET_NULL, null=True,
                                   blank=True, related_name="deliveries")
    channel = models.CharField(_("channel"), max_length=10)
    address = models.CharField(_("address"), max_length=500)
    language = models.CharField(_("language"), max_length=2, default="fr")
    status = models.CharField(_("status"), max_length=10, choices=Status.choices,
                              default="queued")
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    provider_id = models.CharField(_("provider id"), max_length=120, blank=True)
    error = models.CharField(_("error"), max_length=500, blank=True)
    not_before = models.DateTimeField(null=True, blank=True)
    queued_at = models.DateTimeField(_("queued at"), default=timezone.now)
    enqueued_at = models.DateTimeField(null=True, blank=True)
    claim = models.CharField(max_length=32, blank=True)
    claimed_at = models.DateTimeField(null=True, blank=True)
    # Set just before the message is handed to its provider (with ``provider_id`` set
    # to the reference chosen beforehand, e.g. an email's Message-ID): a row found in
    # ``sending`` after its worker died was attempted only if this is set.  On a
    # ``queued`` row it means the last attempt's outcome is unknown (the provider's
    # answer was lost): the next one asks the provider first.
    attempted_at = models.DateTimeField(_("attempted at"), null=True, blank=True)
    sent_at = models.DateTimeField(_("sent at"), null=True, blank=True)
    delivered_at = models.DateTimeField(_("delivered at"), null=True, blank=True)
    failed_at = models.DateTimeField(_("failed at"), null=True, blank=True)
    # Voice: the person pressed 1 ("confirmed"), or a machine answered and a voicemail
    # was left ("machine"); other channels leave these empty.
    acknowledged_at = models.DateTimeField(_("confirmed at"), null=True, blank=True)
    answered_by = models.CharField(_("answered by"), max_length=16, blank=True)

    personal_data = PersonalData(
        purpose=_("Proof of each message sent, per person and channel"),
        retention=NOT_PURGED, access=ACCESS_COMMUNICATIONS,
        fields={"address": CONTACT, "subscriber": IDENTITY})

    class Meta:
        verbose_name = _("delivery")
        verbose_name_plural = _("deliveries")
        constraints = [
            models.UniqueConstraint(fields=["alert", "channel", "address"],
                                    name="alertes_delivery_once"),
            # Partial: an alert's outbox build does not pay for a second index.
            models.UniqueConstraint(fields=["notice", "channel", "address"],
                                    condition=models.Q(notice__isnull=False),
                                    name="alertes_delivery_notice_once"),
            models.CheckConstraint(
                condition=(models.Q(alert__isnull=False, notice__isnull=True)
                           | models.Q(alert__isnull=True, notice__isnull=False)),
                name="alertes_delivery_alert_or_notice"),
        ]
        # Every index costs the outbox build (150,000 rows: each index is about a
        # tenth of the INSERT's time on PostgreSQL): no separate alert index, no
        # ``LIKE`` variants, and the claim and the provider's id indexed only once set
        # (the webhooks look a row up by a non-empty sid, which the partial index
        # serves; a new row, with neither, costs these two indexes nothing).
        indexes = [models.Index(fields=["status", "not_before"]),
                   models.Index(fields=["provider_id"], condition=~models.Q(provider_id=""),
                                name="alertes_delivery_provided"),
                   models.Index(fields=["claim"], condition=~models.Q(claim=""),
                                name="alertes_delivery_claimed")]

    def __str__(self) -> str:
        about = self.alert_id if self.alert_id else f"notice-{self.notice_id}"
        return f"{about}/{self.channel}/{self.pk}"
