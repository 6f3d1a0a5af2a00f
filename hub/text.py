"""Text helpers shared by the hub and the modules: accent folding, reading uploaded
CSV files, and durations as a person reads them.

Pure: no database import, so models and services alike may use it.

Folding here is for *matching* (search, keywords, address keys): "Évaluation" and
"evaluation" must meet.  Spelling an SMS with GSM-7 characters is a different job
(``modules/alertes`` keeps every character GSM-7 has, accents included, and replaces
only the others), so it stays with the SMS code.
"""

from __future__ import annotations

import csv
import io
import unicodedata

from django.utils.translation import gettext as _

# Characters NFKD does not decompose but a resident types either way ("cœur", "coeur"),
# and typographic apostrophes and dashes (as PostgreSQL's ``unaccent`` does).
LIGATURES = str.maketrans({"œ": "oe", "Œ": "OE", "æ": "ae", "Æ": "AE", "ß": "ss",
                           "’": "'", "‘": "'", "‐": "-", "‑": "-", "–": "-", "—": "-"})


def strip_accents(text: str | None) -> str:
    """The text without accents or ligatures, case kept: "Œuvre Éloi" → "OEuvre Eloi"."""
    decomposed = unicodedata.normalize("NFKD", (text or "").translate(LIGATURES))
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def fold(text: str | None) -> str:
    """The matching form of a text: lower case, without accents or ligatures —
    "Rue Saint-Éloi" → "rue saint-eloi", "CŒUR" → "coeur".  Idempotent."""
    return strip_accents(text).casefold()


class CsvError(ValueError):
    """An uploaded file that cannot be read as CSV text; the message says why, for the
    person who uploaded it."""


def decode_csv_bytes(data: bytes) -> str:
    """The text of an uploaded CSV file: UTF-8 (with or without the BOM Excel writes),
    else Windows-1252 (Excel's "CSV" on Windows).  Binary content (NUL bytes, control
    characters) is refused with :class:`CsvError`."""
    if b"\x00" in data:
        raise CsvError(_("This is not a CSV text file."))
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        try:
            text = data.decode("cp1252")
        except UnicodeDecodeError:
            raise CsvError(_("The file is not UTF-8 text: save it as “CSV UTF-8”.")) from None
    if any(unicodedata.category(c) == "Cc" and c not in "\r\n\t" for c in text[:20000]):
        raise CsvError(_("This is not a CSV text file."))
    return text


def sniff_delimiter(first_line: str) -> str:
    """``";"`` when the header line has more semicolons than commas (French Excel),
    ``","`` otherwise.  A full ``csv.Sniffer`` guesses wrong on short headers; the
    header line alone is enough for the files cities export."""
    return ";" if first_line.count(";") > first_line.count(",") else ","


def dict_reader(text: str) -> csv.DictReader:
    """A ``csv.DictReader`` over decoded CSV text, with the delimiter of its header."""
    lines = text.splitlines()
    delimiter = sniff_delimiter(lines[0] if lines else "")
    return csv.DictReader(io.StringIO(text, newline=""), delimiter=delimiter)


def human_duration(seconds: float | None) -> str:
    """A duration as a person reads it, in the active language: "21 s", "5 min",
    "3 h 20 min", "3 j 4 h" (never ``0:00:21.864933``); "" for ``None``."""
    if seconds is None:
        return ""
    seconds = max(0, int(seconds))  # 21.86 s is 21 s, as a stopwatch shows
    if seconds < 60:
        return _("%(seconds)s s") % {"seconds": seconds}
    minutes = round(seconds / 60)
    if minutes < 60:
        return _("%(minutes)s min") % {"minutes": minutes}
    hours, minutes = divmod(minutes, 60)
    if hours < 24:
        if not minutes:
            return _("%(hours)s h") % {"hours": hours}
        return _("%(hours)s h %(minutes)s min") % {"hours": hours, "minutes": minutes}
    hours = round(seconds / 3600)
    days, hours = divmod(hours, 24)
    if not hours:
        return _("%(days)s d") % {"days": days}
    return _("%(days)s d %(hours)s h") % {"days": days, "hours": hours}
