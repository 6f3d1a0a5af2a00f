"""Service requests (311): categories with their questions, requests, their history and
photos.  State changes go through ``services.py``; these models only hold data."""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.utils import timezone, translation
from django.utils.translation import gettext_lazy as _
from modelcluster.fields import ParentalKey
from modelcluster.models import ClusterableModel
from wagtail.admin.panels import FieldPanel, InlinePanel, MultiFieldPanel
from wagtail.models import Orderable
from wagtail.search import index


def _localized(obj, field: str) -> str:
    """The English value when the active language is English and it is filled in,
    the French one otherwise (French first)."""
    if (translation.get_language() or "fr").startswith("en"):
        value = getattr(obj, f"{field}_en", "")
        if value:
            return value
    return getattr(obj, f"{field}_fr", "")


class Category(index.Indexed, ClusterableModel):
    """What a resident can report (an Open311 "service")."""

    search_fields = [
        index.SearchField("name_fr", boost=3),
        index.SearchField("name_en", boost=3),
        index.SearchField("keywords", boost=2),
        index.SearchField("description_fr"),
        index.SearchField("description_en"),
        index.FilterField("active"),
    ]

    class LocationPrecision(models.TextChoices):
        """How precisely the public sees where a request is (the one rule, in
        ``public.py``): the exact point and address for problems in public space; for
        problems reported at a home, a point rounded to about 100 m and the street
        name without the civic number, so that no output tells where the resident
        lives."""

        EXACT = "exact", _("Exact point and address (public space)")
        APPROXIMATE = "approximate", _("About 100 m and the street only (at a home)")

    class Group(models.TextChoices):
        ROADS = "roads", _("Roads and traffic")
        WATER = "water", _("Water and sewers")
        WASTE = "waste", _("Waste and cleanliness")
        PARKS = "parks", _("Parks, trees and recreation")
        BUILDINGS = "buildings", _("Buildings and equipment")
        ANIMALS = "animals", _("Animals")

    service_code = models.SlugField(_("service code"), max_length=64, unique=True,
                                    help_text=_("Open311 service_code; never change it once "
                                                "published."))
    name_fr = models.CharField(_("name (French)"), max_length=120)
    name_en = models.CharField(_("name (English)"), max_length=120, blank=True)
    description_fr = models.TextField(_("description (French)"), blank=True)
    description_en = models.TextField(_("description (English)"), blank=True)
    group = models.CharField(_("group"), max_length=16, choices=Group.choices,
                             default=Group.ROADS)
    keywords = models.CharField(_("keywords"), max_length=255, blank=True,
                                help_text=_("Words residents may search for, comma separated."))
    icon = models.CharField(_("icon"), max_length=32, blank=True, default="request")
    active = models.BooleanField(_("active"), default=True)
    department = models.ForeignKey("hub.Department", on_delete=models.PROTECT,
                                   related_name="request_categories",
                                   verbose_name=_("department"))
    service_level_days = models.PositiveSmallIntegerField(
        _("service-level target (business days)"), default=5,
        help_text=_("Business days to resolve a request; weekends and city holidays do "
                    "not count."))
    order = models.PositiveSmallIntegerField(_("order"), default=0)
    location_precision = models.CharField(
        _("public location"), max_length=12, choices=LocationPrecision.choices,
        default=LocationPrecision.EXACT,
        help_text=_("What the public map, Open311, the app and open data show of where "
                    "a request is. Choose “about 100 m” for problems reported at a home "
                    "(missed collection, water at home), so that no one learns where the "
                    "resident lives."))

    panels = [
        MultiFieldPanel([FieldPanel("name_fr"), FieldPanel("name_en"),
                         FieldPanel("service_code")], heading=_("Name")),
        FieldPanel("description_fr"),
        FieldPanel("description_en"),
        FieldPanel("group"),
        FieldPanel("keywords"),
        FieldPanel("icon"),
        FieldPanel("department"),
        FieldPanel("service_level_days"),
        FieldPanel("location_precision"),
        FieldPanel("order"),
        FieldPanel("active"),
        InlinePanel("questions", label=_("Questions")),
    ]

    class Meta:
        ordering = ["order", "name_fr"]
        verbose_name = _("request category")
        verbose_name_plural = _("request categories")

    def __str__(self) -> str:
        return self.name

    @property
    def name(self) -> str:
        return _localized(self, "name")

    @property
    def title(self) -> str:
        """What the hub search shows."""
        return self.name

    def get_absolute_url(self) -> str:
        from django.urls import reverse

        return reverse("requetes:report", args=[self.service_code])

    @property
    def description(self) -> str:
        return _localized(self, "description")


class Question(Orderable):
    """A custom question of a category (an Open311 "attribute")."""

    class Datatype(models.TextChoices):
        STRING = "string", _("Short text")
        NUMBER = "number", _("Number")
        DATETIME = "datetime", _("Date and time")
        TEXT = "text", _("Long text")
        SINGLE = "singlevaluelist", _("One choice in a list")
        MULTI = "multivaluelist", _("Several choices in a list")

    category = ParentalKey(Category, on_delete=models.CASCADE, related_name="questions")
    code = models.SlugField(_("code"), max_length=64,
                            help_text=_("Open311 attribute code, unique in the category."))
    label_fr = models.CharField(_("question (French)"), max_length=255)
    label_en = models.CharField(_("question (English)"), max_length=255, blank=True)
    datatype = models.CharField(_("type"), max_length=16, choices=Datatype.choices,
                                default=Datatype.STRING)
    required = models.BooleanField(_("required"), default=False)
    help_text_fr = models.CharField(_("help text (French)"), max_length=255, blank=True)
    help_text_en = models.CharField(_("help text (English)"), max_length=255, blank=True)
    choices = models.TextField(
        _("choices"), blank=True,
        help_text=_("For list questions: one choice a line, written key|French|English."))

    panels = [FieldPanel("code"), FieldPanel("label_fr"), FieldPanel("label_en"),
              FieldPanel("datatype"), FieldPanel("required"), FieldPanel("help_text_fr"),
              FieldPanel("help_text_en"), FieldPanel("choices")]

    class Meta(Orderable.Meta):
        verbose_name = _("question")
        verbose_name_plural = _("questions")
        constraints = [models.UniqueConstraint(fields=["category", "code"],
                                               name="requetes_question_code_unique")]

    def __str__(self) -> str:
        return self.label

    @property
    def label(self) -> str:
        return _localized(self, "label")

    @property
    def help_text(self) -> str:
        return _localized(self, "help_text")

    @property
    def is_list(self) -> bool:
        return self.datatype in (self.Datatype.SINGLE, self.Datatype.MULTI)

    def choice_list(self) -> list[tuple[str, str]]:
        """``[(key, label in the active language), …]``."""
        english = (translation.get_language() or "fr").startswith("en")
        result = []
        for line in self.choices.splitlines():
            parts = [part.strip() for part in line.split("|")]
            if not parts[0]:
                continue
            french = parts[1] if len(parts) > 1 and parts[1] else parts[0]
            label = parts[2] if english and len(parts) > 2 and parts[2] else french
            result.append((parts[0], label))
        return result


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
    # Open311 fields a client may send; kept so that the city can answer the same client.
    media_url = models.URLField(_("media address"), max_length=500, blank=True)
    device_id = models.CharField(_("device id"), max_length=120, blank=True)
    account_id = models.CharField(_("account id"), max_length=120, blank=True)
    api_key = models.ForeignKey("requetes.Open311ApiKey", on_delete=models.SET_NULL,
                                null=True, blank=True, related_name="requests",
                                verbose_name=_("Open311 client"))

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


class RequestEvent(models.Model):
    """One entry of a request's history: who, when, from which status to which, what the
    citizen is told and what staff keep for themselves."""

    class Kind(models.TextChoices):
        CREATED = "created", _("Created")
        STATUS = "status", _("Status changed")
        ASSIGNED = "assigned", _("Assigned")
        COMMENT = "comment", _("Comment")
        NOTE = "note", _("Internal note")
        REOPENED = "reopened", _("Reopened")
        FOLLOWED = "followed", _("Followed")
        MERGED = "merged", _("Duplicate merged")

    request = models.ForeignKey(ServiceRequest, on_delete=models.CASCADE,
                                related_name="events")
    kind = models.CharField(_("kind"), max_length=16, choices=Kind.choices)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL,
                              null=True, blank=True, related_name="+")
    from_status = models.CharField(_("from"), max_length=16, blank=True)
    to_status = models.CharField(_("to"), max_length=16, blank=True)
    public_message = models.TextField(_("public message"), blank=True)
    internal_note = models.TextField(_("internal note"), blank=True)
    by_staff = models.BooleanField(default=False)
    created_at = models.DateTimeField(_("when"), default=timezone.now, db_index=True)

    class Meta:
        ordering = ["created_at", "pk"]
        verbose_name = _("request event")
        verbose_name_plural = _("request events")

    def __str__(self) -> str:
        return f"{self.request_id} {self.kind} {self.created_at:%Y-%m-%d %H:%M}"

    @property
    def is_public(self) -> bool:
        return self.kind in (self.Kind.CREATED, self.Kind.STATUS, self.Kind.COMMENT,
                             self.Kind.REOPENED, self.Kind.ASSIGNED, self.Kind.MERGED)

    def from_label(self) -> str:
        return ServiceRequest.Status(self.from_status).label if self.from_status else ""

    def to_label(self) -> str:
        return ServiceRequest.Status(self.to_status).label if self.to_status else ""


def _photo_path(instance, filename: str) -> str:
    return f"requetes/{timezone.now():%Y/%m}/{uuid.uuid4().hex}.jpg"


def _thumb_path(instance, filename: str) -> str:
    return f"requetes/{timezone.now():%Y/%m}/{uuid.uuid4().hex}-thumb.jpg"


class RequestPhoto(models.Model):
    """A photo re-encoded by the server (pixels only, no metadata), with its thumbnail.
    Served through an authorising view, never by a guessable public URL."""

    request = models.ForeignKey(ServiceRequest, on_delete=models.CASCADE,
                                related_name="photos")
    image = models.FileField(_("photo"), upload_to=_photo_path)
    thumbnail = models.FileField(_("thumbnail"), upload_to=_thumb_path)
    width = models.PositiveIntegerField(default=0)
    height = models.PositiveIntegerField(default=0)
    uploaded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL,
                                    null=True, blank=True, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["created_at", "pk"]
        verbose_name = _("photo")
        verbose_name_plural = _("photos")

    def __str__(self) -> str:
        return f"{self.request_id} photo {self.pk}"


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
        return _localized(self, "body")
