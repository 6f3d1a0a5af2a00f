"""Service requests (311) and the yearly counter that numbers them.  State changes go
through ``services``; these models only hold data."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from hub.personal_data import (
    ACCESS_REQUEST_STAFF,
    CONTACT,
    CONTENT,
    IDENTITY,
    LOCATION,
    OPINION,
    TECHNICAL,
    PersonalData,
)

from .categories import Category


class ReferenceCounter(models.Model):
    """One row a year; incremented under a row lock to number requests safely."""

    year = models.PositiveSmallIntegerField(primary_key=True)
    last = models.PositiveIntegerField(default=0)

    class Meta:
        verbose_name = _("reference counter")

    def __str__(self) -> str:
        return f"{self.year}: {self.last}"


class ServiceRequest(models.Model):
    class Status(models.TextChoices):
        NEW = "new", _("New")
        ACKNOWLEDGED = "acknowledged", _("Acknowledged")
        ASSIGNED = "assigned", _("Assigned")
        IN_PROGRESS = "in_progress", _("In progress")
        CLOSED = "closed", _("Closed")

    class ClosureReason(models.TextChoices):
        FIXED = "fixed", _("Fixed")
        NOT_CITY = "not_city_responsibility", _("Not the city's responsibility")
        WONT_FIX = "wont_fix", _("Will not be fixed")
        DUPLICATE = "duplicate", _("Duplicate")

    class Channel(models.TextChoices):
        WEB = "web", _("Web")
        APP = "app", _("Mobile app")
        PHONE = "phone", _("Phone")
        COUNTER = "counter", _("Counter")
        EMAIL = "email", _("Email")
        OPEN311 = "open311", _("Open311")

    class Priority(models.TextChoices):
        LOW = "low", _("Low")
        NORMAL = "normal", _("Normal")
        HIGH = "high", _("High")
        URGENT = "urgent", _("Urgent")

    class ContactChannel(models.TextChoices):
        EMAIL = "email", _("Email")
        PHONE = "phone", _("Phone")
        SMS = "sms", _("Text message")
        NONE = "none", _("No follow-up")

    OPEN_STATUSES = (Status.NEW, Status.ACKNOWLEDGED, Status.ASSIGNED, Status.IN_PROGRESS)

    reference = models.CharField(_("reference"), max_length=16, unique=True, editable=False)
    category = models.ForeignKey(Category, on_delete=models.PROTECT, related_name="requests",
                                 verbose_name=_("category"))
    description = models.TextField(_("description"), max_length=4000)
    description_public = models.BooleanField(
        _("description may be shown publicly"), default=False)
    answers = models.JSONField(_("answers"), default=dict, blank=True)
    latitude = models.FloatField(_("latitude"))
    longitude = models.FloatField(_("longitude"))
    address = models.CharField(_("civic address"), max_length=255, blank=True)
    channel = models.CharField(_("channel"), max_length=16, choices=Channel.choices,
                               default=Channel.WEB)
    citizen = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL,
                                null=True, blank=True, related_name="service_requests",
                                verbose_name=_("citizen"))
    caller_name = models.CharField(_("caller's name"), max_length=120, blank=True)
    caller_email = models.EmailField(_("caller's email"), blank=True)
    caller_phone = models.CharField(_("caller's phone"), max_length=32, blank=True)
    contact_channel = models.CharField(_("preferred contact channel"), max_length=8,
                                       choices=ContactChannel.choices,
                                       default=ContactChannel.EMAIL)
    priority = models.CharField(_("priority"), max_length=8, choices=Priority.choices,
                                default=Priority.NORMAL)
    department = models.ForeignKey("hub.Department", on_delete=models.PROTECT,
                                   related_name="service_requests",
                                   verbose_name=_("department"))
    assigned_to = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL,
                                    null=True, blank=True, related_name="assigned_requests",
                                    verbose_name=_("assigned to"))
    due_date = models.DateField(_("expected by"), null=True, blank=True)
    followers = models.ManyToManyField(settings.AUTH_USER_MODEL, blank=True,
                                       related_name="followed_requests",
                                       verbose_name=_("followers"))
    status = models.CharField(_("status"), max_length=16, choices=Status.choices,
                              default=Status.NEW, db_index=True)
    closure_reason = models.CharField(_("closure reason"), max_length=32, blank=True,
                                      choices=ClosureReason.choices)
    closure_note = models.TextField(
        _("closure details"), blank=True,
        help_text=_("Whose responsibility it is, or why it will not be fixed."))
    duplicate_of = models.ForeignKey("self", on_delete=models.SET_NULL, null=True,
                                     blank=True, related_name="duplicates",
                                     verbose_name=_("duplicate of"))
    reopened = models.BooleanField(_("reopened"), default=False)
    submission_key = models.UUIDField(null=True, blank=True, unique=True, editable=False)
    created_at = models.DateTimeField(_("created"), default=timezone.now, db_index=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)
    closed_at = models.DateTimeField(_("closed"), null=True, blank=True)
    # First move out of "new", copied from the history so that the dashboard can take
    # medians over 200,000 rows without joining the events.
    acknowledged_at = models.DateTimeField(_("acknowledged"), null=True, blank=True)
    description_redacted = models.BooleanField(
        _("description hidden from the public"), default=False,
        help_text=_("Staff hide a public description that names a person or says too much."))
    satisfaction = models.PositiveSmallIntegerField(
        _("satisfaction"), null=True, blank=True,
        help_text=_("The citizen's answer after closure, from 1 (not at all) to 5 (very)."))
    satisfaction_comment = models.TextField(_("satisfaction comment"), max_length=1000,
                                            blank=True)
    satisfaction_at = models.DateTimeField(_("satisfaction answered"), null=True, blank=True)
    anonymised_at = models.DateTimeField(
        _("anonymised"), null=True, blank=True, editable=False, db_index=True,
        help_text=_("When the retention job removed what identified the resident."))
    # Open311 fields a client may send; kept so that the city can answer the same client.
    media_url = models.URLField(_("media address"), max_length=500, blank=True)
    device_id = models.CharField(_("device id"), max_length=120, blank=True)
    account_id = models.CharField(_("account id"), max_length=120, blank=True)
    api_key = models.ForeignKey("requetes.Open311ApiKey", on_delete=models.SET_NULL,
                                null=True, blank=True, related_name="requests",
                                verbose_name=_("Open311 client"))

    personal_data = PersonalData(
        purpose=_("Handle a resident's service request and tell them how it goes"),
        retention=_("The category's retention period after closure, then anonymised"),
        access=ACCESS_REQUEST_STAFF,
        fields={"citizen": IDENTITY, "caller_name": IDENTITY, "caller_email": CONTACT,
                "caller_phone": CONTACT, "latitude": LOCATION, "longitude": LOCATION,
                "address": LOCATION, "description": CONTENT, "answers": CONTENT,
                "followers": IDENTITY, "satisfaction": OPINION,
                "satisfaction_comment": OPINION, "device_id": TECHNICAL,
                "account_id": TECHNICAL},
        exempt={"assigned_to": _("the staff member handling it (staff, not the resident)"),
                "satisfaction_at": _("a date, with the answer declared above")})

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("service request")
        verbose_name_plural = _("service requests")
        # What staff may do, checked with user.has_perm (never a group's name); the
        # roles (groups) that hold them are declared in roles.py.
        permissions = [
            ("take_phone_requests",
             "Can record requests for callers (phone, counter, email) and see every "
             "request"),
            ("handle_department_requests",
             "Can handle the requests of their own departments"),
            ("administer_requests",
             "Can administer every service request, the categories and the Open311 keys"),
        ]
        indexes = [models.Index(fields=["department", "status", "-created_at"]),
                   models.Index(fields=["category", "status"]),
                   # The queue sorted by due date, and the dashboard's "closed in the
                   # period" cohort (found by bench/requetes.py with 200,000 rows).
                   models.Index(fields=["department", "due_date"],
                                name="requetes_sr_dept_due_idx"),
                   # The dashboard's two cohorts, read from the index alone (the
                   # received and the time to acknowledge; the closed, their reasons,
                   # the service level and the time to resolve): a year is half the
                   # table, and reading those rows' pages cost more than the figures.
                   models.Index(fields=["created_at", "department", "category",
                                        "acknowledged_at"],
                                name="requetes_sr_received_cov"),
                   models.Index(fields=["closed_at", "department", "category",
                                        "closure_reason", "due_date", "created_at"],
                                name="requetes_sr_closed_cov")]

    def __str__(self) -> str:
        return self.reference

    @property
    def is_open(self) -> bool:
        return self.status != self.Status.CLOSED

    @property
    def is_overdue(self) -> bool:
        return bool(self.is_open and self.due_date and self.due_date < timezone.localdate())

    def answer_rows(self) -> list[tuple[str, str]]:
        """The answers as (question, readable answer) in question order."""
        rows = []
        for question in self.category.questions.all():
            if question.code not in (self.answers or {}):
                continue
            value = self.answers[question.code]
            labels = dict(question.choice_list())
            if isinstance(value, list):
                text = ", ".join(labels.get(v, v) for v in value)
            else:
                text = labels.get(str(value), str(value))
            rows.append((question.label, text))
        return rows
