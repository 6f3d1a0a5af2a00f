"""What the public sees of a service request: the one rule every public output follows
(Open311 in JSON and XML, the app API's nearby list and a follower's view, the public map
and the report form's "already reported nearby" list, open data in CSV and GeoJSON).

The public sees: the reference, the category, the status (and the closure reason once
closed), the dates, the department, and

- the **description** only when the resident allowed it to be public and staff did not
  hide it (``description_public`` and not ``description_redacted``); empty otherwise;
- the **location** at the precision of the request's category
  (``Category.location_precision``):

  - ``exact`` — problems in public space (a pothole, a street light): the stored point
    and address, since the place is the problem and tells nothing about the resident;
  - ``approximate`` — problems reported at a home (missed collection, water at home):
    the point rounded to 3 decimals (at 45° N a cell of about 110 m × 80 m, a block;
    4 decimals would point at one house lot) and the street name without the civic
    number, unit or postal code, so that no output tells where the resident lives.

Never: the resident's account, the caller's name, email or phone, answers to questions,
comments, internal notes, photos, the assigned agent.

Hot endpoints serialise from ``.values()``: :func:`requests` is the queryset (the
description rule is written in SQL there, next to the column it hides), :func:`place`
the location rule, :func:`rows` both applied to plain dicts.
"""

from __future__ import annotations

import functools
import math
import re
from collections.abc import Iterator

from django.db.models import Case, F, TextField, Value, When

from hub.i18n import localized

from .models import Category, ServiceRequest

EXACT = Category.LocationPrecision.EXACT.value
APPROXIMATE = Category.LocationPrecision.APPROXIMATE.value
APPROXIMATE_DECIMALS = 3
# Half an approximate cell, in degrees: how far a rounded point can be from the stored one.
APPROXIMATE_SLACK = 0.5 * 10 ** -APPROXIMATE_DECIMALS
NEARBY_METRES = 50

# The columns :func:`rows` reads; ``public_description`` and ``location_precision`` are
# the annotations of :func:`requests`.
FIELDS = ("pk", "reference", "status", "closure_reason", "reopened", "category_id",
          "category__service_code", "category__name_fr", "category__name_en",
          "department_id", "created_at", "updated_at", "closed_at", "due_date",
          "public_description", "latitude", "longitude", "address", "location_precision")

_UNIT = r"(?:app(?:artement)?|apt|unit[ée]?|suite|bureau|local|logement|porte|#)\.?"
_CIVIC = re.compile(r"^\s*(?:#\s*)?\d+[a-z]?(?:\s*[-–/]\s*\d+[a-z]?)*\b\s*,?\s*", re.I)
_LEADING_UNIT = re.compile(rf"^\s*{_UNIT}\s*\d[\w-]*\s*[,-]?\s*", re.I)
_TRAILING_UNIT = re.compile(rf"[\s,]+{_UNIT}\s*\d[\w-]*\s*$", re.I)
_POSTAL_CODE = re.compile(r"\b[a-z]\d[a-z]\s?\d[a-z]\d\b", re.I)


@functools.lru_cache(maxsize=4096)
def street_only(address: str) -> str:
    """``"1234A rue Victoria, app. 3, Salaberry-de-Valleyfield J6T 1A1"`` →
    ``"rue Victoria"``: the civic number, the unit, the city and the postal code go.
    Cached: a public list of 1,000 requests repeats the same addresses (a pothole
    reported by many), and each costs four regular expressions."""
    text = _POSTAL_CODE.sub("", address or "")
    for part in text.split(","):
        part = _LEADING_UNIT.sub("", part)
        part = _CIVIC.sub("", part)
        part = _TRAILING_UNIT.sub("", part).strip(" -–,")
        if part and not part.isdigit():
            return part
    return ""


def _rounded(value) -> float | None:
    if value is None or not math.isfinite(value):
        return None
    return round(value, APPROXIMATE_DECIMALS)


def place(precision: str, latitude, longitude, address: str
          ) -> tuple[float | None, float | None, str]:
    """``(latitude, longitude, address)`` as the public may see them at ``precision``
    (anything but ``exact`` counts as approximate: an unknown value hides more)."""
    if precision == EXACT:
        return latitude, longitude, address or ""
    return _rounded(latitude), _rounded(longitude), street_only(address)


PUBLIC_DESCRIPTION = Case(
    When(description_public=True, description_redacted=False, then=F("description")),
    default=Value(""), output_field=TextField())


def requests(queryset=None):
    """``queryset`` (every request by default) with what the public may read:
    ``public_description`` (the description or "") and ``location_precision`` (the
    category's, joined, not a query more).  Read it with ``.values()`` of the public
    columns and pass each point and address through :func:`place`."""
    queryset = ServiceRequest.objects.all() if queryset is None else queryset
    return queryset.annotate(public_description=PUBLIC_DESCRIPTION,
                             location_precision=F("category__location_precision"))


def record(row: dict) -> dict:
    """A row of :data:`FIELDS` with the rule applied: ``description``, ``latitude``,
    ``longitude`` and ``address`` are the public ones; ``category_name`` and
    ``status_label`` are in the active language."""
    row = dict(row)
    row["description"] = row.pop("public_description")
    row["category_name"] = localized(row, "category__name")
    row["status_label"] = str(ServiceRequest.Status(row["status"]).label)
    row["latitude"], row["longitude"], row["address"] = place(
        row["location_precision"], row["latitude"], row["longitude"], row["address"])
    return row


def rows(queryset=None) -> Iterator[dict]:
    """The public records of ``queryset`` (see :func:`record`), one query."""
    for row in requests(queryset).values(*FIELDS):
        yield record(row)


def open_requests(category: str = ""):
    """The public map's queryset: open requests (of the category with this
    ``service_code``), newest first, as ``.values()`` of :data:`FIELDS`.  Paginate it,
    then pass each row through :func:`record`."""
    qs = ServiceRequest.objects.filter(status__in=ServiceRequest.OPEN_STATUSES)
    if category:
        qs = qs.filter(category__service_code=category)
    return requests(qs).order_by("-created_at", "-pk").values(*FIELDS)


def distance_m(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    rlat1, rlat2 = math.radians(lat1), math.radians(lat2)
    dlat = rlat2 - rlat1
    dlon = math.radians(lon2 - lon1)
    a = math.sin(dlat / 2) ** 2 + math.cos(rlat1) * math.cos(rlat2) * math.sin(dlon / 2) ** 2
    return 6_371_000 * 2 * math.asin(math.sqrt(a))


def nearby_open(category: Category, latitude, longitude, *,
                radius: float = NEARBY_METRES) -> list[dict]:
    """Open requests of ``category`` within ``radius`` metres of a point, nearest
    first, as public records with ``distance_m``.  The distance is measured to the
    *public* point, so an approximate category is found and measured at its rounded
    point: probing many points cannot narrow down where the resident lives."""
    try:
        lat, lon = float(latitude), float(longitude)
    except (TypeError, ValueError):
        return []
    if not (math.isfinite(lat) and math.isfinite(lon)):
        return []
    slack = 0.0 if category.location_precision == EXACT else APPROXIMATE_SLACK
    dlat = radius / 111_320 + slack
    dlon = radius / (111_320 * max(math.cos(math.radians(lat)), 0.01)) + slack
    qs = ServiceRequest.objects.filter(
        category=category, status__in=ServiceRequest.OPEN_STATUSES,
        latitude__range=(lat - dlat, lat + dlat), longitude__range=(lon - dlon, lon + dlon))
    found = []
    for row in map(record, requests(qs).values(*FIELDS)[:200]):
        if row["latitude"] is None or row["longitude"] is None:
            continue
        distance = distance_m(lat, lon, row["latitude"], row["longitude"])
        if distance <= radius:
            row["distance_m"] = distance
            found.append(row)
    return sorted(found, key=lambda row: row["distance_m"])
