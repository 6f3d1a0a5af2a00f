"""The alert itself: a Wagtail snippet with drafts, revisions, locking and the approval
workflow, its texts per channel and language, and its sending state."""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from wagtail.models import DraftStateMixin, LockableMixin, RevisionMixin, WorkflowMixin
from wagtail.search import index

from hub.i18n import localized
from hub.personal_data import (
    ACCESS_STAFF,
    NOT_PURGED,
    PersonalData,
)

from .subscribers import Topic


class AlertQuerySet(models.QuerySet):
    def active(self, when=None):
        """The alerts in force at ``when`` (default: now): the public page, the
        emergency banner, the Atom and CAP feeds and ``/api/alerts/?active=1`` all show
        these and only these."""
        when = when or timezone.now()
        return (self.filter(status__in=IN_FORCE_STATUSES).exclude(kind=NOT_IN_FORCE_KIND)
                .filter(models.Q(expires_at__isnull=True) | models.Q(expires_at__gt=when)))


class Alert(WorkflowMixin, DraftStateMixin, LockableMixin, RevisionMixin, index.Indexed,
            models.Model):
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

    objects = AlertQuerySet.as_manager()

    # The site search (hub_search_sources: the published alerts), in both languages.
    search_fields = [
        index.SearchField("title_fr", boost=2),
        index.SearchField("title_en", boost=2),
        index.SearchField("body_fr"),
        index.SearchField("body_en"),
        index.FilterField("status"),
    ]

    personal_data = PersonalData(
        purpose=_("Who wrote, approved and sent an alert"), retention=NOT_PURGED,
        access=ACCESS_STAFF,
        exempt={"locked_by": _("staff, not residents"), "created_by": _("staff, not residents"),
                "sent_by": _("staff, not residents")})

    class Meta:
        verbose_name = _("alert")
        verbose_name_plural = _("alerts")
        ordering = ["-sent_at", "-created_at"]
        permissions = [("send_alert", "Can send an alert")]

    def __str__(self) -> str:
        return self.title()

    def get_absolute_url(self) -> str:
        return reverse("alertes:detail", args=[self.pk])

    def title(self, language: str | None = None) -> str:
        return localized(self, "title", language)

    def search_summary(self) -> str:
        return localized(self, "body")

    def publish(self, revision, user=None, **kwargs):
        """Publishing is the approval: once Wagtail has published the revision (the
        workflow's last task approved it, or an approver with the publish permission
        published it), the alert is sent, or scheduled for ``send_at``, by
        ``services.sending.on_published`` (Wagtail's ``published`` signal).  That signal
        does not say who published: the publisher is noted on the revision object it
        carries (not saved), for the history of the send."""
        revision.published_by = user
        return super().publish(revision, user=user, **kwargs)

    def with_content_json(self, content):
        """The alert as a revision saved it, with the sending state of the alert as it
        is now: a revision written before the alert left (e.g. an emergency sent while
        its approval was pending) must not rewind it when published or reverted."""
        alert = super().with_content_json(content)
        for field in SENDING_STATE:
            setattr(alert, field, getattr(self, field))
        return alert

    def body(self, language: str | None = None) -> str:
        return localized(self, "body", language)

    def sms(self, language: str | None = None) -> str:
        return localized(self, "sms", language) or self.title(language)

    def push(self, language: str | None = None) -> str:
        return localized(self, "push", language) or self.title(language)

    def voice(self, language: str | None = None) -> str:
        return localized(self, "voice", language) or self.body(language)

    def speaks_english(self) -> bool:
        """Whether a call in English has English words to read (its voice text, else its
        message); without them an English subscriber's call is read in French."""
        return bool((self.voice_en or "").strip() or (self.body_en or "").strip())

    def spoken(self, language: str) -> tuple[str, str]:
        """``(language, text)`` of a call to a subscriber of ``language``: English only
        when there is English to read (``speaks_english``); the French text otherwise,
        read by the French voice, never French words in an English voice."""
        if language == "en" and self.speaks_english():
            return "en", (self.voice_en or "").strip() or self.body_en
        return "fr", self.voice("fr")

    @property
    def is_emergency(self) -> bool:
        return self.severity == self.Severity.EMERGENCY

    @property
    def is_published(self) -> bool:
        return self.status in PUBLISHED

    def is_active(self, when=None) -> bool:
        """In force at ``when``: the rule of ``Alert.objects.active()``, for one alert."""
        when = when or timezone.now()
        return (self.status in IN_FORCE_STATUSES and self.kind != NOT_IN_FORCE_KIND
                and (self.expires_at is None or self.expires_at > when))


# Kept from the alert row, never taken from a revision (``with_content_json``).
SENDING_STATE = ("status", "sent_by_id", "sent_at", "audience_size")

PUBLISHED = (Alert.Status.SENDING, Alert.Status.SENT, Alert.Status.CANCELLED)

# "In force": going out or sent, not a cancellation (a cancelled alert's own status is
# ``cancelled``), not expired.  ``AlertQuerySet.active`` and ``Alert.is_active`` are this
# one rule, for a query and for one alert.
IN_FORCE_STATUSES = (Alert.Status.SENDING, Alert.Status.SENT)
NOT_IN_FORCE_KIND = Alert.Kind.CANCEL
