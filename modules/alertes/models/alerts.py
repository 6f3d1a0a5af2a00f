"""Data of `alertes`: topics, subscribers and their addresses, consents, alerts, the
personal notices taken through ``hub_notify`` and the delivery outbox shared by both.
Zones are the hub's ``District`` (shared with other modules)."""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _
from wagtail.models import DraftStateMixin, LockableMixin, RevisionMixin, WorkflowMixin

from .. import cap_cp

LANGUAGES = [("fr", "Français"), ("en", "English")]


def _pick(obj, field: str, language: str | None) -> str:
    """The ``field`` in ``language`` (``fr``/``en``), falling back to French."""
    language = (language or get_language() or "fr")[:2]
    value = getattr(obj, f"{field}_{language}", "") if language in ("fr", "en") else ""
    return value or getattr(obj, f"{field}_fr", "")


class Channel(models.TextChoices):
    EMAIL = "email", _("Email")
    SMS = "sms", _("Text message (SMS)")
    VOICE = "voice", _("Phone call")
    PUSH = "push", _("Push notification")


class Topic(models.Model):
    """A subject residents subscribe to.  Registered as a Wagtail snippet; both names
    are edited side by side (French first)."""

    slug = models.SlugField(_("slug"), max_length=60, unique=True)
    name_fr = models.CharField(_("name (French)"), max_length=120)
    name_en = models.CharField(_("name (English)"), max_length=120, blank=True)
    description_fr = models.TextField(_("description (French)"), blank=True)
    description_en = models.TextField(_("description (English)"), blank=True)
    is_emergency = models.BooleanField(
        _("emergencies"), default=False,
        help_text=_("Every reachable resident receives this topic; it cannot be turned off "
                    "except by leaving the service."))
    order = models.PositiveSmallIntegerField(_("order"), default=100)
    cap_event = models.CharField(
        _("CAP-CP event"), max_length=12, blank=True, choices=cap_cp.event_choices,
        help_text=_("The event code of this topic's alerts in the CAP feed (Canadian "
                    "profile). Empty: “civil emergency” for emergencies, “special "
                    "message” otherwise."))

    class Meta:
        verbose_name = _("topic")
        verbose_name_plural = _("topics")
        ordering = ["order", "slug"]

    def __str__(self) -> str:
        return self.name()

    def name(self, language: str | None = None) -> str:
        return _pick(self, "name", language)

    def description(self, language: str | None = None) -> str:
        return _pick(self, "description", language)


class Subscriber(models.Model):
    """A resident who receives alerts: an account holder, or a resident without an
    account registered by staff (name, phone, address)."""

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL,
                                null=True, blank=True, related_name="alert_subscriber",
                                verbose_name=_("account"))
    name = models.CharField(_("name"), max_length=150, blank=True)
    civic_address = models.CharField(_("civic address"), max_length=255, blank=True)
    language = models.CharField(_("language"), max_length=2, choices=LANGUAGES, default="fr")
    district = models.ForeignKey("hub.District", on_delete=models.SET_NULL, null=True,
                                 blank=True, related_name="alert_subscribers",
                                 verbose_name=_("district"))
    quiet_start = models.TimeField(_("quiet hours start"), null=True, blank=True)
    quiet_end = models.TimeField(_("quiet hours end"), null=True, blank=True)
    active = models.BooleanField(_("active"), default=True)
    topics = models.ManyToManyField(Topic, through="TopicSubscription", blank=True,
                                    related_name="subscribers", verbose_name=_("topics"))
    registered_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL,
                                      null=True, blank=True, related_name="+",
                                      verbose_name=_("registered by"))
    created_at = models.DateTimeField(_("created at"), default=timezone.now)

    class Meta:
        verbose_name = _("subscriber")
        verbose_name_plural = _("subscribers")
        ordering = ["pk"]

    def __str__(self) -> str:
        return f"#{self.pk}"

    def in_quiet_hours(self, when=None) -> bool:
        if self.quiet_start is None or self.quiet_end is None:
            return False
        now = timezone.localtime(when).time()
        if self.quiet_start <= self.quiet_end:
            return self.quiet_start <= now < self.quiet_end
        return now >= self.quiet_start or now < self.quiet_end


class Address(models.Model):
    """Where a subscriber is reached on one channel: an email address, a mobile number
    (SMS), a phone number (voice, landlines allowed) or a push endpoint."""

    subscriber = models.ForeignKey(Subscriber, on_delete=models.CASCADE,
                                   related_name="addresses")
    # Any registered channel's code (the ``alertes_channels`` hook), not a closed list:
    # a channel contributed by another package stores its addresses here too.
    channel = models.CharField(_("channel"), max_length=10)
    value = models.CharField(_("address"), max_length=500)
    push_keys = models.JSONField(_("push keys"), default=dict, blank=True)
    verified_at = models.DateTimeField(_("verified at"), null=True, blank=True)
    code_hash = models.CharField(max_length=128, blank=True)
    code_sent_at = models.DateTimeField(null=True, blank=True)
    code_attempts = models.PositiveSmallIntegerField(default=0)
    failing = models.BooleanField(_("failing"), default=False)
    failing_reason = models.CharField(_("failure reason"), max_length=255, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("address")
        verbose_name_plural = _("addresses")
        constraints = [models.UniqueConstraint(fields=["subscriber", "channel", "value"],
                                               name="alertes_address_unique")]
        indexes = [models.Index(fields=["channel", "value"])]

    def __str__(self) -> str:
        return f"{self.channel}:{self.pk}"

    @property
    def verified(self) -> bool:
        return self.verified_at is not None


class TopicSubscription(models.Model):
    subscriber = models.ForeignKey(Subscriber, on_delete=models.CASCADE)
    topic = models.ForeignKey(Topic, on_delete=models.CASCADE)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["subscriber", "topic"],
                                               name="alertes_topicsub_unique")]

    def __str__(self) -> str:
        return f"{self.subscriber_id}:{self.topic_id}"


class ConsentRecord(models.Model):
    """One consent or withdrawal: who, when, what, how (Law 25, CASL)."""

    class Action(models.TextChoices):
        GIVEN = "given", _("consent given")
        WITHDRAWN = "withdrawn", _("consent withdrawn")

    class Method(models.TextChoices):
        WEB = "web", _("web form")
        EMAIL_LINK = "email_link", _("unsubscribe link")
        SMS = "sms", _("text message keyword")
        STAFF = "staff", _("registered by staff")
        IMPORT = "import", _("file import")
        API = "api", _("API")
        ERASURE = "erasure", _("account deletion")

    subscriber = models.ForeignKey(Subscriber, on_delete=models.SET_NULL, null=True,
                                   related_name="consents")
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL,
                              null=True, blank=True, related_name="+")
    action = models.CharField(_("action"), max_length=10, choices=Action.choices)
    scope = models.CharField(_("what"), max_length=120,
                             help_text=_("A topic, a channel, or “all”."))
    method = models.CharField(_("how"), max_length=12, choices=Method.choices)
    note = models.CharField(_("note"), max_length=255, blank=True)
    created_at = models.DateTimeField(_("when"), default=timezone.now, db_index=True)

    class Meta:
        verbose_name = _("consent record")
        verbose_name_plural = _("consent records")
        ordering = ["-created_at", "-pk"]

    def __str__(self) -> str:
        return f"{self.action} {self.scope} ({self.method})"


class Alert(WorkflowMixin, DraftStateMixin, LockableMixin, RevisionMixin, models.Model):
    """An alert, a Wagtail snippet with drafts, revisions, locking and a workflow.

    Non-emergency alerts are sent by being *published*: the "Approbation des alertes"
    workflow (migration 0004) ends with the approver publishing, and ``publish`` hands
    the alert to ``services`` to send.  The approver is never the submitter (a four-eyes
    task, ``approval.FourEyesApprovalTask``, migration 0005), and the editor offers no
    "Publish" for an alert not yet sent.  Emergencies skip the workflow (``services.send``
    by an officer, logged in the history).  ``status`` stays the sending state; Wagtail's
    ``live`` only tells whether a version was published.
    """

    class Severity(models.TextChoices):
        INFO = "info", _("Information")
        NOTICE = "notice", _("Notice")
        EMERGENCY = "emergency", _("Emergency")

    class Status(models.TextChoices):
        DRAFT = "draft", _("Draft")
        SCHEDULED = "scheduled", _("Scheduled")
        SENDING = "sending", _("Sending")
        SENT = "sent", _("Sent")
        CANCELLED = "cancelled", _("Cancelled")

    class Kind(models.TextChoices):
        ALERT = "alert", _("Alert")
        UPDATE = "update", _("Update")
        CANCEL = "cancel", _("Cancellation")

    # Not live until published (approved) or sent as an emergency, however it is created.
    live = models.BooleanField(_("live"), default=False, editable=False)
    identifier = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    kind = models.CharField(_("kind"), max_length=8, choices=Kind.choices, default="alert")
    references = models.ForeignKey("self", on_delete=models.PROTECT, null=True, blank=True,
                                   related_name="corrections",
                                   verbose_name=_("updates or cancels"))
    severity = models.CharField(_("severity"), max_length=10, choices=Severity.choices,
                                default="info")
    title_fr = models.CharField(_("title (French)"), max_length=200)
    title_en = models.CharField(_("title (English)"), max_length=200, blank=True)
    body_fr = models.TextField(_("web and email text (French)"))
    body_en = models.TextField(_("web and email text (English)"), blank=True)
    sms_fr = models.TextField(_("SMS text (French)"), blank=True)
    sms_en = models.TextField(_("SMS text (English)"), blank=True)
    push_fr = models.CharField(_("push text (French)"), max_length=240, blank=True)
    push_en = models.CharField(_("push text (English)"), max_length=240, blank=True)
    voice_fr = models.TextField(_("voice script (French)"), blank=True)
    voice_en = models.TextField(_("voice script (English)"), blank=True)
    topics = models.ManyToManyField(Topic, blank=True, related_name="alerts",
                                    verbose_name=_("topics"))
    districts = models.ManyToManyField(
        "hub.District", blank=True, related_name="alerts", verbose_name=_("zones"),
        help_text=_("Leave empty for the whole city."))
    channels = models.JSONField(_("channels"), default=list, blank=True)
    send_at = models.DateTimeField(_("send at"), null=True, blank=True,
                                   help_text=_("Leave empty to send as soon as approved."))
    expires_at = models.DateTimeField(_("expires at"), null=True, blank=True)
    status = models.CharField(_("status"), max_length=10, choices=Status.choices,
                              default="draft", db_index=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL,
                                   null=True, blank=True, related_name="+",
                                   verbose_name=_("written by"))
    sent_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL,
                                null=True, blank=True, related_name="+",
                                verbose_name=_("sent by"))
    sent_at = models.DateTimeField(_("sent at"), null=True, blank=True, db_index=True)
    audience_size = models.PositiveIntegerField(_("audience"), default=0)
    created_at = models.DateTimeField(_("created at"), default=timezone.now)

    class Meta:
        verbose_name = _("alert")
        verbose_name_plural = _("alerts")
        ordering = ["-sent_at", "-created_at"]
        permissions = [("send_alert", "Can send an alert")]

    def __str__(self) -> str:
        return self.title()

    def title(self, language: str | None = None) -> str:
        return _pick(self, "title", language)

    def publish(self, revision, user=None, **kwargs):
        """Publishing is the approval: once Wagtail has published the revision (the
        workflow's last task approved it, or an approver with the publish permission
        published it), the alert is sent, or scheduled for ``send_at``.  The hand-over
        lives here because Wagtail's ``published`` signal does not say who published."""
        sending = ("status", "sent_by_id", "sent_at", "audience_size")
        before = Alert.objects.filter(pk=self.pk).values(*sending).first()
        result = super().publish(revision, user=user, **kwargs)
        if before and before["status"] != Alert.Status.DRAFT:
            # The revision was written before the alert left (e.g. an emergency sent while
            # its approval was pending): publishing it must not rewind the sending state.
            Alert.objects.filter(pk=self.pk).update(**before)
            return result
        from . import services  # services imports this module

        services.alert_published(self, user)
        return result

    def body(self, language: str | None = None) -> str:
        return _pick(self, "body", language)

    def sms(self, language: str | None = None) -> str:
        return _pick(self, "sms", language) or self.title(language)

    def push(self, language: str | None = None) -> str:
        return _pick(self, "push", language) or self.title(language)

    def voice(self, language: str | None = None) -> str:
        return _pick(self, "voice", language) or self.body(language)

    @property
    def is_emergency(self) -> bool:
        return self.severity == self.Severity.EMERGENCY

    @property
    def is_published(self) -> bool:
        return self.status in PUBLISHED

    def is_active(self, when=None) -> bool:
        when = when or timezone.now()
        return (self.status in (self.Status.SENDING, self.Status.SENT)
                and self.kind != self.Kind.CANCEL
                and (self.expires_at is None or self.expires_at > when))


PUBLISHED = (Alert.Status.SENDING, Alert.Status.SENT, Alert.Status.CANCELLED)


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
    alert = models.ForeignKey(Alert, on_delete=models.CASCADE, related_name="deliveries",
                              db_index=False, null=True, blank=True)
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
    sent_at = models.DateTimeField(_("sent at"), null=True, blank=True)
    delivered_at = models.DateTimeField(_("delivered at"), null=True, blank=True)
    failed_at = models.DateTimeField(_("failed at"), null=True, blank=True)
    # Voice: the person pressed 1 ("confirmed"), or a machine answered and a voicemail
    # was left ("machine"); other channels leave these empty.
    acknowledged_at = models.DateTimeField(_("confirmed at"), null=True, blank=True)
    answered_by = models.CharField(_("answered by"), max_length=16, blank=True)

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
        # ``LIKE`` variants, and the claim indexed only once a worker has set it.
        indexes = [models.Index(fields=["status", "not_before"]),
                   models.Index(fields=["provider_id"], name="alertes_delivery_provider"),
                   models.Index(fields=["claim"], condition=~models.Q(claim=""),
                                name="alertes_delivery_claimed")]

    def __str__(self) -> str:
        about = self.alert_id if self.alert_id else f"notice-{self.notice_id}"
        return f"{about}/{self.channel}/{self.pk}"


# The alert workflow's approval task (four-eyes rule), a model of this app.
from ..approval import FourEyesApprovalTask  # noqa: E402,F401
