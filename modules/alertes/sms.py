"""SMS length in segments (GSM 03.38 / UCS-2) and a GSM-7-safe French spelling.

GSM-7 fits 160 characters in one segment (153 per segment when concatenated); any
character outside the GSM-7 alphabet (in French: ê, â, î, ô, û, ç…) switches the whole
message to UCS-2: 70 characters (67 per segment).  Messages over ``MAX_SEGMENTS`` are
refused.
"""

from __future__ import annotations

import math
import unicodedata
from dataclasses import dataclass

from hub.text import strip_accents

MAX_SEGMENTS = 10

GSM7_BASIC = set(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?¡"
    "ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
GSM7_EXTENDED = set("^{}\\[~]|€\f")

# French letters and typography outside GSM-7, with the closest GSM-7 spelling.
_SAFE = {
    "ê": "e", "ë": "e", "â": "a", "î": "i", "ï": "i", "ô": "o", "û": "u",
    "ç": "c", "Ê": "E", "Ë": "E", "Â": "A", "Î": "I", "Ï": "I", "Ô": "O", "Û": "U",
    "È": "E", "À": "A", "Ù": "U", "Œ": "OE", "œ": "oe", "’": "'", "‘": "'", "«": '"',
    "»": '"', "“": '"', "”": '"', "–": "-", "—": "-", "…": "...", "\u00a0": " ",
    "\u202f": " ",
}


@dataclass(frozen=True)
class SmsLength:
    encoding: str  # "GSM-7" or "UCS-2"
    characters: int  # septets (GSM-7, extended characters count 2) or UTF-16 units
    segments: int
    per_segment: int
    non_gsm: tuple[str, ...]


def is_gsm7(text: str) -> bool:
    return all(ch in GSM7_BASIC or ch in GSM7_EXTENDED for ch in text)


def measure(text: str) -> SmsLength:
    """The encoding and number of segments ``text`` takes."""
    non_gsm = tuple(sorted({ch for ch in text if ch not in GSM7_BASIC
                            and ch not in GSM7_EXTENDED}))
    if not non_gsm:
        units = sum(2 if ch in GSM7_EXTENDED else 1 for ch in text)
        single, multi, encoding = 160, 153, "GSM-7"
    else:
        units = len(text.encode("utf-16-le")) // 2
        single, multi, encoding = 70, 67, "UCS-2"
    if units == 0:
        segments = 0
    elif units <= single:
        segments = 1
    else:
        segments = math.ceil(units / multi)
    return SmsLength(encoding, units, segments, single if segments <= 1 else multi,
                     non_gsm)


def gsm7_safe(text: str) -> str:
    """The same text spelt with GSM-7 characters only (ê → e, ç → c, ’ → ').

    One spelling per message, never half-accented ("Vous etes désabonné"): a text
    whose letters all fit GSM-7 keeps its accents (é, è, à, ù are GSM-7); one with a
    letter that must be folded (ê, ç, î…) has every accent folded ("Vous etes
    desabonne")."""
    if any(unicodedata.category(ch).startswith("L") and ch not in GSM7_BASIC
           and ch not in GSM7_EXTENDED for ch in text):
        text = "".join(ch if ch in _SAFE else strip_accents(ch) or ch for ch in text)
    out = []
    for ch in text:
        if ch in GSM7_BASIC or ch in GSM7_EXTENDED:
            out.append(ch)
        elif ch in _SAFE:
            out.append(_SAFE[ch])
        else:
            stripped = strip_accents(ch)  # the hub's accent folding (œ → oe too)
            out.append(stripped if stripped and all(c in GSM7_BASIC for c in stripped)
                       else "?")
    return "".join(out)
