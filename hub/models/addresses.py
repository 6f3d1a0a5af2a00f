"""The civic address register: the city's address points (e.g. Adresses Québec's open
data), so a typed civic address becomes a point and a district without an internet
geocoder.  Its keys come from ``hub.address_keys`` (pure, no database); ``hub.addresses``
looks addresses up and imports them."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from hub.address_keys import fill_keys
from hub.personal_data import (
    ACCESS_STAFF,
    NOT_PURGED,
    PersonalData,
)

from .organisation import District


class CivicAddress(models.Model):
    """One address point: number (+ suffix, + unit) on a street, with its position and the
    district that position falls in (computed on save and on import)."""

    number = models.PositiveIntegerField(_("civic number"))
    suffix = models.CharField(_("suffix"), max_length=8, blank=True,
                              help_text=_("e.g. A in 123A"))
    unit = models.CharField(_("unit"), max_length=16, blank=True)
    street = models.CharField(_("street"), max_length=200,
                              help_text=_("Generic and specific parts, e.g. rue Victoria"))
    postal_code = models.CharField(_("postal code"), max_length=7, blank=True)
    municipality = models.CharField(_("municipality"), max_length=120)
    latitude = models.FloatField(_("latitude"))
    longitude = models.FloatField(_("longitude"))
    district = models.ForeignKey("hub.District", on_delete=models.SET_NULL, null=True,
                                 blank=True, related_name="civic_addresses",
                                 verbose_name=_("district"))
    # Normalised keys (hub.address_keys.normalise): lower case, no accents, abbreviations
    # expanded; street_core drops the generic part (rue, boulevard…).
    street_key = models.CharField(max_length=200, editable=False)
    street_core = models.CharField(max_length=200, editable=False)
    search_key = models.CharField(max_length=400, editable=False)
    natural_key = models.CharField(max_length=400, unique=True, editable=False)

    personal_data = PersonalData(
        purpose=_("The city's civic address register"), retention=NOT_PURGED,
        access=ACCESS_STAFF,
        exempt={"postal_code": _("a public register of places, not of people"),
                "latitude": _("a public register of places, not of people"),
                "longitude": _("a public register of places, not of people")})

    class Meta:
        verbose_name = _("civic address")
        verbose_name_plural = _("civic addresses")
        ordering = ["street_key", "number", "suffix", "unit"]
        indexes = [
            models.Index(fields=["number", "street_key"], name="hub_civicaddr_street"),
            models.Index(fields=["number", "street_core"], name="hub_civicaddr_core"),
            models.Index(fields=["search_key"], name="hub_civicaddr_search"),
        ]

    def __str__(self) -> str:
        return self.label

    def save(self, *args, **kwargs):
        self.compute_keys()
        self.district = (District.for_point(self.latitude, self.longitude)
                         if self.latitude is not None and self.longitude is not None
                         else None)
        super().save(*args, **kwargs)

    @property
    def label(self) -> str:
        unit = f", {_('unit')} {self.unit}" if self.unit else ""
        return f"{self.number}{self.suffix} {self.street}{unit}, {self.municipality}"

    def compute_keys(self) -> None:
        fill_keys(self)
