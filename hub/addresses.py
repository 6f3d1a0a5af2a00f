"""The civic address register: normalise, geocode, suggest, import.

No internet geocoder is reachable from the city's servers, and cities publish their
address points as open data (Adresses Québec, municipal portals), so the hub keeps its own
register (:class:`hub.models.CivicAddress`) and looks addresses up locally:

- :func:`normalise` turns "123, Boul. Mgr-Langlois" into ``"123 boulevard monseigneur
  langlois"``: lower case, accents stripped, punctuation, hyphens and apostrophes as
  spaces, abbreviations of street types and saints expanded;
- :func:`geocode` finds the one address a resident typed (exact civic number and street,
  tolerant of accents, case, abbreviations, a missing street type, and of a unit, postal
  code, municipality or province appended); ``None`` when it is not found or ambiguous;
- :func:`suggest` feeds autocompletion;
- :func:`district_for_point` places a point in a district (``hub.geo``);
- :func:`import_csv` loads the city's export (see docs/addresses.md), idempotently.

Other modules call these functions; e.g. Open311's ``address_string`` is
``geocode(address_string)`` → ``.latitude``/``.longitude`` (or :func:`locate`).
"""

from __future__ import annotations

import csv
import itertools
from collections.abc import Iterable
from dataclasses import dataclass, field

from django.db import transaction
from django.db.models import Q
from django.utils.translation import gettext as _

from hub.address_keys import (  # noqa: F401 (re-exported: the register's one API)
    ABBREVIATIONS,
    GENERIC,
    Parsed,
    core,
    fill_keys,
    municipality_key,
    normalise,
    parse,
)
from hub.geo import point_in_geometry
from hub.text import sniff_delimiter, strip_accents  # noqa: F401 (re-exported)

CHUNK = 1000

# --- districts ---------------------------------------------------------------------------

def _districts():
    from hub.models import District

    return [d for d in District.objects.only("pk", "geometry") if d.geometry]


def district_for_point(latitude: float, longitude: float, districts=None):
    """The :class:`District` a point falls in, or ``None``."""
    if latitude is None or longitude is None:
        return None
    for district in districts if districts is not None else _districts():
        if point_in_geometry(district.geometry, latitude, longitude):
            return district
    return None


def relocate_all() -> int:
    """Recompute every address's district (after districts' boundaries changed).
    Returns how many addresses changed district."""
    from hub.models import CivicAddress

    districts = _districts()
    changed = []
    for address in CivicAddress.objects.only("pk", "latitude", "longitude", "district_id")\
            .iterator(chunk_size=CHUNK):
        district = district_for_point(address.latitude, address.longitude, districts)
        district_id = district.pk if district else None
        if district_id != address.district_id:
            address.district_id = district_id
            changed.append(address)
    CivicAddress.objects.bulk_update(changed, ["district"], batch_size=CHUNK)
    return len(changed)


# --- look-ups ------------------------------------------------------------------------------

def _prefixes(words: list[str]) -> list[str]:
    return [" ".join(words[:n]) for n in range(1, len(words) + 1)]


def _candidates(parsed: Parsed):
    from hub.models import CivicAddress

    core_words = [w for w in parsed.words if w not in GENERIC]
    query = Q(street_key__in=_prefixes(parsed.words))
    if core_words:
        query |= Q(street_core__in=_prefixes(core_words))
    return list(CivicAddress.objects.filter(query, number=parsed.number)
                .select_related("district")[:500])


def _score(address, parsed: Parsed) -> tuple | None:
    """How well an address matches (higher is better), ``None`` for no match."""
    words = parsed.words
    key = address.street_key.split()
    if words[:len(key)] == key:
        level, rest = 2, words[len(key):]
    else:
        core_words = [w for w in words if w not in GENERIC]
        key_core = address.street_core.split()
        if not key_core or core_words[:len(key_core)] != key_core:
            return None
        level, rest = 1, core_words[len(key_core):]
        # The generic words typed must not contradict the street's ("boulevard X" is not
        # "rue X").
        typed = {w for w in words[:len(words) - len(rest)] if w in GENERIC}
        if typed - set(key):
            return None
    if (parsed.suffix or "") != address.suffix:
        return None
    muni = core(municipality_key(address.municipality).split())
    muni_match = bool(muni) and f" {muni} " in f" {core(rest)} "
    postal_match = bool(parsed.postal_code) and \
        address.postal_code.replace(" ", "") == parsed.postal_code
    unit_match = normalise(address.unit) == normalise(parsed.unit)
    return (level, len(key), muni_match, postal_match, unit_match, not address.unit)


def geocode(text: str):
    """The :class:`CivicAddress` a typed address designates, or ``None`` when it is not
    in the register or could be several addresses (same number on two streets of the
    same name in different municipalities, with nothing typed to tell them apart)."""
    parsed = parse(text)
    if parsed.number is None or not parsed.words:
        return None
    scored = []
    for address in _candidates(parsed):
        score = _score(address, parsed)
        if score is not None:
            scored.append((score, address))
    if not scored:
        return None
    scored.sort(key=lambda item: item[0], reverse=True)
    best_score, best = scored[0]
    # Ambiguous: another street (or municipality) matches as well as the best one.
    for score, other in scored[1:]:
        if score[:4] == best_score[:4] and (
                other.street_key != best.street_key or other.municipality != best.municipality):
            return None
    return best


def locate(text: str) -> tuple[float, float] | None:
    """``(latitude, longitude)`` of a typed address, or ``None`` (for Open311's
    ``address_string`` and similar)."""
    found = geocode(text)
    return (found.latitude, found.longitude) if found else None


def suggest(text: str, limit: int = 8) -> list:
    """Addresses for autocompletion: every typed word must start a word of the address
    (number first when one is typed).  Empty below three characters."""
    from hub.models import CivicAddress

    text = str(text or "")[:200]
    if len(text.strip()) < 3:
        return []
    parsed = parse(text)
    words = parsed.words[:8]
    queryset = CivicAddress.objects.select_related("district")
    if parsed.number is not None:
        queryset = queryset.filter(number=parsed.number)
        if parsed.suffix:  # "12 A" is 12A, or the start of "12 avenue…"
            queryset = queryset.filter(Q(suffix=parsed.suffix) | Q(
                search_key__contains=f" {parsed.suffix.lower()}"))
    elif not words:
        return []
    for word in words:
        queryset = queryset.filter(search_key__contains=f" {word}")
    if parsed.postal_code:
        queryset = queryset.filter(postal_code=f"{parsed.postal_code[:3]} "
                                               f"{parsed.postal_code[3:]}")
    limit = max(1, min(int(limit), 20))
    return list(queryset.order_by("street_key", "number", "suffix", "unit")[:limit])


def as_json(address) -> dict:
    return {"label": address.label, "lat": address.latitude, "lon": address.longitude,
            "district": address.district.name if address.district_id else None}


# --- import --------------------------------------------------------------------------------

COLUMNS = {
    # ours and Adresses Québec's names → field
    "numero": "number", "numero_civique": "number", "no_civique": "number",
    "number": "number", "civic_number": "number",
    "suffixe": "suffix", "suffix": "suffix",
    "unite": "unit", "unit": "unit", "appartement": "unit",
    "rue": "street", "odonyme": "street", "street": "street", "nom_rue": "street",
    "generique": "generic", "lien": "link", "specifique": "specific",
    "code_postal": "postal_code", "postal_code": "postal_code",
    "municipalite": "municipality", "municipality": "municipality",
    "nom_municipalite": "municipality",
    "latitude": "latitude", "lat": "latitude",
    "longitude": "longitude", "long": "longitude", "lon": "longitude",
}


class ImportError_(ValueError):
    """The file as a whole cannot be read (bad encoding, no header…)."""


@dataclass
class ImportResult:
    created: int = 0
    updated: int = 0
    errors: list[tuple[int, str]] = field(default_factory=list)
    dry_run: bool = False
    outside: int = 0  # addresses in no district


def _column(name: str) -> str:
    return COLUMNS.get(normalise(name).replace(" ", "_"), "")


def read_rows(handle) -> Iterable[tuple[int, dict]]:
    """``(line number, {field: text})`` from a CSV text stream (comma or semicolon)."""
    first = handle.readline()
    if not first.strip():
        raise ImportError_(_("The file is empty."))
    reader = csv.reader(itertools.chain([first], handle), delimiter=sniff_delimiter(first))
    header = [_column(name) for name in next(reader)]
    known = set(header)
    if not {"number", "latitude", "longitude"} <= known or not (
            "street" in known or "specific" in known):
        raise ImportError_(_("The first line must name the columns: numero, rue (or "
                             "odonyme), municipalite, latitude, longitude (optional: "
                             "suffixe, unite, code_postal)."))
    try:
        for row in reader:
            if not any(cell.strip() for cell in row):
                continue
            values = {}
            for name, cell in zip(header, row, strict=False):
                if name and not values.get(name):
                    values[name] = cell.strip()
            yield reader.line_num, values
    except csv.Error as exc:
        raise ImportError_(_("Line %(line)d could not be read as CSV: %(error)s") % {
            "line": reader.line_num, "error": exc}) from exc


def _address_from(values: dict, municipality: str):
    from hub.models import CivicAddress

    try:
        number = int(values.get("number", ""))
        if not 0 < number < 1_000_000:
            raise ValueError
    except ValueError:
        raise ValueError(_("The civic number “%(value)s” is not a whole number.") % {
            "value": values.get("number", "")[:20]}) from None
    street = values.get("street") or " ".join(filter(None, [
        values.get("generic", ""), values.get("link", ""), values.get("specific", "")]))
    if not street.strip():
        raise ValueError(_("The street is missing."))
    try:
        lat = float(values.get("latitude", "").replace(",", "."))
        lon = float(values.get("longitude", "").replace(",", "."))
        if not (-90 <= lat <= 90 and -180 <= lon <= 180):
            raise ValueError
    except ValueError:
        raise ValueError(_("Latitude and longitude must be numbers (latitude between -90 "
                           "and 90, longitude between -180 and 180).")) from None
    muni = values.get("municipality") or municipality
    if not muni:
        raise ValueError(_("The municipality is missing (a column, or --municipality)."))
    suffix = values.get("suffix", "")
    if len(suffix) > 8 or len(values.get("unit", "")) > 16 or len(street) > 200:
        raise ValueError(_("A value is too long (suffix 8, unit 16, street 200 characters)."))
    address = CivicAddress(number=number, suffix=suffix, unit=values.get("unit", ""),
                           street=street, postal_code=values.get("postal_code", ""),
                           municipality=muni, latitude=lat, longitude=lon)
    fill_keys(address)
    return address


def import_rows(rows: Iterable[tuple[int, dict]], *, dry_run: bool = False,
                municipality: str = "") -> ImportResult:
    """Insert or update addresses (by number, suffix, unit, street and municipality), in
    chunks of ``bulk_create``; a bad line is reported and skipped, the others load.  With
    ``dry_run`` nothing is written."""
    from hub.models import CivicAddress

    result = ImportResult(dry_run=dry_run)
    districts = _districts()
    batch: dict[str, CivicAddress] = {}

    def flush():
        if not batch:
            return
        existing = set(CivicAddress.objects.filter(natural_key__in=list(batch))
                       .values_list("natural_key", flat=True))
        result.updated += len(existing)
        result.created += len(batch) - len(existing)
        if not dry_run:
            CivicAddress.objects.bulk_create(
                list(batch.values()), update_conflicts=True, unique_fields=["natural_key"],
                update_fields=["postal_code", "latitude", "longitude", "district", "street",
                               "suffix", "unit", "municipality", "street_key",
                               "street_core", "search_key"])
        batch.clear()

    with transaction.atomic():
        for line, values in rows:
            try:
                address = _address_from(values, municipality)
            except ValueError as exc:
                result.errors.append((line, str(exc)))
                continue
            address.district = district_for_point(address.latitude, address.longitude,
                                                   districts)
            if address.district is None:
                result.outside += 1
            batch[address.natural_key] = address  # a repeated line: the last one wins
            if len(batch) >= CHUNK:
                flush()
        flush()
    return result


def import_csv(path_or_handle, *, dry_run: bool = False, municipality: str = "",
               encoding: str = "utf-8-sig") -> ImportResult:
    """Import a CSV file (path or text stream); see docs/addresses.md for the columns."""
    if hasattr(path_or_handle, "read"):
        return import_rows(read_rows(path_or_handle), dry_run=dry_run,
                           municipality=municipality)
    try:
        with open(path_or_handle, encoding=encoding, newline="") as handle:
            return import_rows(read_rows(handle), dry_run=dry_run,
                               municipality=municipality)
    except UnicodeDecodeError:
        raise ImportError_(_("The file is not UTF-8 text: save it as “CSV UTF-8” or give "
                             "--encoding cp1252.")) from None
