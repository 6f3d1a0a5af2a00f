"""Departments and districts: shared nouns that every module may point at."""

from __future__ import annotations

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.utils.translation import gettext_lazy as _

from hub.geo import point_in_geometry, validate_geometry
from hub.personal_data import (
    ACCESS_STAFF,
    IDENTITY,
    PersonalData,
)

from .user import phone_validator


class Department(models.Model):
    """A city department (e.g. Travaux publics) that handles requests and employs agents."""

    name = models.CharField(_("name"), max_length=120, unique=True)
    slug = models.SlugField(_("slug"), max_length=120, unique=True)
    phone = models.CharField(_("public phone number"), max_length=32, blank=True,
                             validators=[phone_validator])
    email = models.EmailField(_("public email address"), blank=True)
    accountable_title = models.CharField(
        _("title of the accountable person"), max_length=160, blank=True,
        help_text=_("e.g. Directeur des travaux publics"),
    )
    agents = models.ManyToManyField(
        settings.AUTH_USER_MODEL, verbose_name=_("agents"), related_name="departments",
        blank=True, help_text=_("Staff who handle this department's requests."),
    )

    personal_data = PersonalData(
        purpose=_("Which staff members handle a department's requests"),
        retention=_("While the person is a member of the department"), access=ACCESS_STAFF,
        fields={"agents": IDENTITY},
        exempt={"phone": _("the department's public number"),
                "email": _("the department's public address")})

    class Meta:
        verbose_name = _("department")
        verbose_name_plural = _("departments")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class District(models.Model):
    """A district of the city, as a GeoJSON Polygon or MultiPolygon (WGS 84, lon/lat)."""

    name = models.CharField(_("name"), max_length=120, unique=True)
    slug = models.SlugField(_("slug"), max_length=120, unique=True)
    geometry = models.JSONField(
        _("boundary (GeoJSON)"), default=dict, blank=True,
        help_text=_('A GeoJSON Polygon or MultiPolygon, e.g. {"type": "Polygon", '
                    '"coordinates": [[[-74.14, 45.25], …]]}.'),
    )

    class Meta:
        verbose_name = _("district")
        verbose_name_plural = _("districts")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    def clean(self):
        super().clean()
        if self.geometry:
            try:
                validate_geometry(self.geometry)
            except ValueError as exc:
                raise ValidationError({"geometry": str(exc)}) from exc

    def contains(self, latitude: float, longitude: float) -> bool:
        return bool(self.geometry) and point_in_geometry(self.geometry, latitude, longitude)

    @classmethod
    def for_point(cls, latitude: float, longitude: float) -> District | None:
        """The district a point falls in, or ``None`` outside every district."""
        for district in cls.objects.all():
            if district.contains(latitude, longitude):
                return district
        return None
