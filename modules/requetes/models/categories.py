"""What a resident can report: categories (Open311 "services") and their questions
(Open311 "attributes")."""

from __future__ import annotations

from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils.translation import gettext_lazy as _
from modelcluster.fields import ParentalKey
from modelcluster.models import ClusterableModel
from wagtail.admin.panels import FieldPanel, InlinePanel, MultiFieldPanel
from wagtail.models import Orderable
from wagtail.search import index

from hub.i18n import localized, pick


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
    retention_months = models.PositiveSmallIntegerField(
        _("retention after closure (months)"), default=24,
        validators=[MinValueValidator(1), MaxValueValidator(1200)],
        help_text=_("The city's retention schedule: this many months after a request is "
                    "closed, the retention job removes what identifies the resident (account, "
                    "name, email, phone, their comments, photos) and rounds its location to "
                    "the public precision."))

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
        FieldPanel("retention_months"),
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
        return localized(self, "name")

    @property
    def title(self) -> str:
        """What the hub search shows."""
        return self.name

    def get_absolute_url(self) -> str:
        from django.urls import reverse

        return reverse("requetes:report", args=[self.service_code])

    @property
    def description(self) -> str:
        return localized(self, "description")


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
        return localized(self, "label")

    @property
    def help_text(self) -> str:
        return localized(self, "help_text")

    @property
    def is_list(self) -> bool:
        return self.datatype in (self.Datatype.SINGLE, self.Datatype.MULTI)

    def choice_list(self) -> list[tuple[str, str]]:
        """``[(key, label in the active language), …]``."""
        result = []
        for line in self.choices.splitlines():
            parts = [part.strip() for part in line.split("|")]
            if not parts[0]:
                continue
            french = parts[1] if len(parts) > 1 and parts[1] else parts[0]
            result.append((parts[0], pick(french, parts[2] if len(parts) > 2 else "")))
        return result
