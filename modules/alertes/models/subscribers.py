"""Who receives the city's alerts and what they agreed to: topics, subscribers (with or
without an account), their addresses on each channel, topic subscriptions and the
consent records that prove every subscription and withdrawal."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from hub.i18n import localized
from hub.personal_data import (
    ACCESS_ADMINISTRATORS,
    ACCESS_COMMUNICATIONS,
    CONTACT,
    IDENTITY,
    LOCATION,
    NOT_PURGED,
    PREFERENCES,
    TECHNICAL,
    UNTIL_ACCOUNT_DELETED,
    PersonalData,
)

from .. import cap_cp

LANGUAGES = [("fr", "Français"), ("en", "English")]


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
        return localized(self, "name", language)

    def description(self, language: str | None = None) -> str:
        return localized(self, "description", language)


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

    personal_data = PersonalData(
        purpose=_("Send the alerts and notices a person subscribed to"),
        retention=UNTIL_ACCOUNT_DELETED, access=ACCESS_COMMUNICATIONS,
        fields={"user": IDENTITY, "name": IDENTITY, "civic_address": LOCATION,
                "language": PREFERENCES},
        exempt={"registered_by": _("the staff member who registered a caller")})

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

    personal_data = PersonalData(
        purpose=_("Where a subscriber receives alerts (email, phone, device)"),
        retention=UNTIL_ACCOUNT_DELETED, access=ACCESS_COMMUNICATIONS,
        fields={"value": CONTACT, "push_keys": TECHNICAL})

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

    personal_data = PersonalData(
        purpose=_("Proof of consent to receive alerts (Law 25, CASL)"),
        retention=NOT_PURGED, access=ACCESS_ADMINISTRATORS,
        fields={"actor": IDENTITY})

    class Meta:
        verbose_name = _("consent record")
        verbose_name_plural = _("consent records")
        ordering = ["-created_at", "-pk"]

    def __str__(self) -> str:
        return f"{self.action} {self.scope} ({self.method})"
