"""The pure part of the civic address register: how an address is normalised into
the keys it is stored and looked up by, and how a typed address is split.

No database import here: ``hub.models.CivicAddress`` computes its keys with
:func:`fill_keys` on save, and ``hub.addresses`` (geocoding, suggestions, import) builds
on the same functions — neither imports the other, so there is no import circle.
``hub.addresses`` re-exports these names; modules keep using ``hub.addresses``.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable
from dataclasses import dataclass, field

from hub.text import strip_accents

# Abbreviations (already lower case, accents stripped) → the full word.
ABBREVIATIONS = {
    "boul": "boulevard", "bd": "boulevard", "blvd": "boulevard", "boulv": "boulevard",
    "av": "avenue", "ave": "avenue", "avn": "avenue",
    "ch": "chemin", "chem": "chemin",
    "st": "saint", "ste": "sainte", "sts": "saints",
    "mtee": "montee", "mte": "montee",
    "rte": "route", "rg": "rang",
    "pl": "place", "cr": "croissant", "crois": "croissant", "terr": "terrasse",
    "imp": "impasse", "prom": "promenade", "car": "carre", "aut": "autoroute",
    "mgr": "monseigneur", "msgr": "monseigneur",
    "r": "rue",
}
# Generic parts of a street name: "10 Victoria" finds "10 rue Victoria" when no other
# "Victoria" has a number 10.
GENERIC = frozenset({
    "rue", "boulevard", "avenue", "chemin", "montee", "route", "rang", "place", "croissant",
    "terrasse", "impasse", "promenade", "carre", "autoroute", "allee", "cote", "cours",
    "quai", "sentier", "voie", "ruelle", "street", "road", "drive",
    # French articles between the generic and the specific part: "rue du Marché".
    "de", "du", "des", "la", "le", "les", "l", "d",
})
POSTAL_CODE = re.compile(r"\b([a-z]\d[a-z])\s*(\d[a-z]\d)\b", re.IGNORECASE)
# "4-123 rue X" (unit-number, as Canada Post writes it), "123A rue X", "123 A rue X".
NUMBER = re.compile(r"^\s*(?:(?P<unit>[0-9a-z]{1,6})\s*-\s*(?=\d))?(?P<number>\d{1,6})"
                    r"(?:\s*-?\s*(?P<suffix>[a-z])\b(?![.'’]))?", re.IGNORECASE)
UNIT_WORDS = re.compile(r"(?:\b(?:app|apt|appartement|unite|unit|suite|bureau|local)\b|#)\s*"
                        r"\.?\s*(?P<unit>[0-9a-z]{1,6})\b")
MAX_TOKENS = 16


@functools.lru_cache(maxsize=8192)
def _token_tuple(text: str) -> tuple[str, ...]:
    # Cached: an import normalises the same streets and municipality over and over.
    text = re.sub(r"[^0-9a-z#]+", " ", strip_accents(text).lower())
    return tuple(ABBREVIATIONS.get(word, word) for word in text.split())


def tokens(text: str) -> list[str]:
    return list(_token_tuple(text or ""))


def normalise(text: str) -> str:
    """The search form of an address or street: ``"Boul. Mgr-Langlois"`` →
    ``"boulevard monseigneur langlois"``; ``"Rue Sainte-Cécile"`` → ``"rue sainte
    cecile"``; ``"ch. du Canal"`` → ``"chemin du canal"``; ``"St-Laurent"`` → ``"saint
    laurent"``.  Idempotent."""
    return " ".join(tokens(text))


def core(words: Iterable[str]) -> str:
    """The specific part of a normalised street: without generic words and articles."""
    return " ".join(w for w in words if w not in GENERIC)


def municipality_key(name: str) -> str:
    return normalise(name)


def fill_keys(address) -> None:
    """Compute a :class:`CivicAddress`'s normalised keys (before saving)."""
    address.suffix = (address.suffix or "").strip().upper()[:8]
    address.unit = (address.unit or "").strip()[:16]
    address.street = " ".join((address.street or "").split())[:200]
    address.municipality = " ".join((address.municipality or "").split())[:120]
    postal = re.sub(r"\s+", "", address.postal_code or "").upper()
    address.postal_code = f"{postal[:3]} {postal[3:]}" if len(postal) == 6 else postal[:7]
    words = tokens(address.street)
    address.street_key = " ".join(words)[:200]
    address.street_core = core(words)[:200]
    muni = municipality_key(address.municipality)
    address.search_key = " ".join(filter(None, [
        f"{address.number}{address.suffix.lower()}", address.street_key, muni,
        normalise(address.postal_code).replace(" ", "")]))[:400]
    address.natural_key = "|".join([
        str(address.number), address.suffix.lower(), normalise(address.unit),
        address.street_key, muni])[:400]


# --- parsing a typed address ------------------------------------------------------------

@dataclass
class Parsed:
    number: int | None = None
    suffix: str = ""
    unit: str = ""
    postal_code: str = ""
    words: list[str] = field(default_factory=list)


def parse(text: str) -> Parsed:
    """Split a typed address into civic number, suffix, unit, postal code and the
    normalised words that follow the number (street, then maybe municipality…)."""
    result = Parsed()
    text = strip_accents(str(text or ""))[:300]
    postal = POSTAL_CODE.search(text)
    if postal:
        result.postal_code = (postal.group(1) + postal.group(2)).upper()
        text = text[:postal.start()] + " " + text[postal.end():]
    match = NUMBER.match(text)
    if not match:
        result.words = tokens(text)[:MAX_TOKENS]
        return result
    result.number = int(match.group("number"))
    result.suffix = (match.group("suffix") or "").upper()
    result.unit = match.group("unit") or ""
    rest = text[match.end():].lower()
    unit = UNIT_WORDS.search(rest)
    if unit:
        result.unit = result.unit or unit.group("unit")
        rest = rest[:unit.start()] + " " + rest[unit.end():]
    result.words = tokens(rest)[:MAX_TOKENS]
    return result
