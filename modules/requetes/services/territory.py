"""Where a request may be: the city's territory, the coordinates' checks, and the one
placement rule (typed coordinates, else the civic address register) every path uses."""

from __future__ import annotations

import math
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

from hub import addresses
from hub.geo import point_in_geometry

from .answers import _blank

# Salaberry-de-Valleyfield, roughly; REQUETES_TERRITORY (a GeoJSON Polygon or
# MultiPolygon) replaces it.
DEFAULT_TERRITORY = {
    "type": "Polygon",
    "coordinates": [[[-74.25, 45.18], [-73.98, 45.18], [-73.98, 45.33], [-74.25, 45.33],
                     [-74.25, 45.18]]],
}


def territory() -> dict:
    return getattr(settings, "REQUETES_TERRITORY", None) or DEFAULT_TERRITORY


def validate_location(latitude: Any, longitude: Any) -> tuple[float, float]:
    errors = {}
    try:
        lat = float(latitude)
        if not math.isfinite(lat) or not -90 <= lat <= 90:
            raise ValueError
    except (TypeError, ValueError):
        errors["latitude"] = _("Latitude must be a number between -90 and 90.")
    try:
        lon = float(longitude)
        if not math.isfinite(lon) or not -180 <= lon <= 180:
            raise ValueError
    except (TypeError, ValueError):
        errors["longitude"] = _("Longitude must be a number between -180 and 180.")
    if errors:
        raise ValidationError(errors)
    if not point_in_geometry(territory(), lat, lon):
        raise ValidationError({"latitude": _(
            "This location is outside the city's territory: place the pin inside the city.")})
    return round(lat, 6), round(lon, 6)


def place(latitude, longitude, address: str = "") -> tuple[float, float, str]:
    """Where a request is, the same on every path (web form, intake, app API, Open311):
    typed coordinates win and the address stays as typed; with no coordinates, the
    address is placed from the hub's civic address register and the register's
    spelling is kept, so staff read a clean address.  The point must be inside the
    territory either way.  Returns ``(latitude, longitude, address)``."""
    address = (address or "").strip()
    if _blank(latitude) and _blank(longitude):
        if not address:
            raise ValidationError({"latitude": _(
                "Give the latitude and longitude, or a civic address of the city.")})
        found = addresses.geocode(address)
        if found is None:
            raise ValidationError({"address": _(
                "This address is not in the city's civic address register: check the "
                "civic number and the street (for example: 41 rue Victoria), or give "
                "the place on the map or as latitude and longitude.")})
        latitude, longitude, address = found.latitude, found.longitude, found.label
    lat, lon = validate_location(latitude, longitude)
    return lat, lon, address
