"""Writing GeoReport v2 answers in both of the spec's formats.

The list endpoints return up to 1,000 rows, so the writers work on plain dicts (built
from ``.values()``) and produce the bytes directly: orjson for JSON (about twenty times
``json.dumps``' speed on such an answer, which was a fifth of its time) and string
building with escaping for XML, which is several times faster than an element tree and
keeps the shape of both formats in one place."""

from __future__ import annotations

import datetime
import functools
import re
from typing import Any
from zoneinfo import ZoneInfo

import orjson
from django.conf import settings
from django.db.models import CharField, Func
from django.http import HttpResponse

FORMATS = ("json", "xml")
CONTENT_TYPES = {"json": "application/json; charset=utf-8",
                 "xml": "text/xml; charset=utf-8"}
XML_DECLARATION = '<?xml version="1.0" encoding="utf-8"?>\n'

# Element names of the items of each list (XML has no arrays).
LIST_ITEMS = {
    "endpoints": "endpoint", "formats": "format", "attributes": "attribute",
    "values": "value", "timeline": "event",
}

# Characters XML 1.0 forbids (control characters other than tab, newline, return).
_INVALID_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")

_tz = None


def local_zone() -> ZoneInfo:
    global _tz
    if _tz is None:
        _tz = ZoneInfo(settings.TIME_ZONE)
    return _tz


def w3c(value: datetime.datetime | str | None) -> str | None:
    """A W3C datetime in UTC (``2026-11-28T20:15:00Z``, the spec's own example form).
    ``value`` is an aware datetime, or the naive UTC text SQLite stores
    (``2026-11-28 20:15:00.123456``), which is sliced rather than parsed: a 1,000-row
    answer has 2,000 of them."""
    if value is None:
        return None
    if isinstance(value, str):
        return f"{value[:10]}T{value[11:19]}Z"
    if value.tzinfo is None:  # naive values from the database are UTC
        value = value.replace(tzinfo=datetime.UTC)
    return value.astimezone(datetime.UTC).replace(tzinfo=None).isoformat(
        timespec="seconds") + "Z"


class W3CText(Func):
    """A datetime column as the text ``w3c`` writes (``2026-11-28T20:15:00Z``), written
    by the database: a 1,000-row answer has 3,000 datetimes, and loading each as an
    aware ``datetime`` (Django's time-zone loader) to format it again costs more than the
    rest of the answer.  Seconds are truncated, as ``w3c`` does; NULL stays NULL.  Other
    databases select the column itself, which ``w3c`` formats in Python."""

    output_field = CharField()

    def as_postgresql(self, compiler, connection, **extra):
        sql, params = compiler.compile(self.source_expressions[0])
        return (f"to_char(({sql}) AT TIME ZONE 'UTC', "
                "'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"')", params)

    def as_sqlite(self, compiler, connection, **extra):
        # SQLite keeps naive UTC text ("2026-11-28 20:15:00.123456").
        sql, params = compiler.compile(self.source_expressions[0])
        return f"strftime('%%Y-%%m-%%dT%%H:%%M:%%SZ', {sql})", params

    def as_sql(self, compiler, connection, **extra):
        return compiler.compile(self.source_expressions[0])


class DateText(Func):
    """A date column as ISO text (``2026-11-28``), the key ``end_of_day`` caches on,
    instead of a ``date`` built per row."""

    output_field = CharField()

    def as_postgresql(self, compiler, connection, **extra):
        sql, params = compiler.compile(self.source_expressions[0])
        return f"to_char({sql}, 'YYYY-MM-DD')", params

    def as_sqlite(self, compiler, connection, **extra):
        # SQLite stores ISO text already; the cast keeps the driver from parsing it
        # into a date (its converters follow the column's declared type).
        sql, params = compiler.compile(self.source_expressions[0])
        return f"CAST({sql} AS text)", params

    def as_sql(self, compiler, connection, **extra):
        return compiler.compile(self.source_expressions[0])


def w3c_text(value: Any) -> str | None:
    """A value selected through ``W3CText``: text already, or (on a database without
    that function) a datetime to format."""
    return value if value is None or isinstance(value, str) else w3c(value)


@functools.lru_cache(maxsize=2048)
def end_of_day(day: datetime.date | str | None) -> str | None:
    """A due *date* (a date, or ISO text from a raw cursor) as the datetime the request
    is expected by: the end of that day in the city's time zone, written in UTC like
    the other datetimes (cached: a thousand rows share a few dozen due dates)."""
    if day is None:
        return None
    if isinstance(day, str):
        day = datetime.date.fromisoformat(day)
    return w3c(datetime.datetime.combine(day, datetime.time(23, 59, 59),
                                         tzinfo=local_zone()))


def _escape(text: str) -> str:
    """Text content: ``&``, ``<`` and ``>`` escaped (``str.replace`` returns the same
    string at C speed when there is nothing to replace, the common case)."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _element(out: list, tag: str, value: Any) -> None:
    kind = type(value)
    if kind is str:
        out.append(f"<{tag}>{_escape(value)}</{tag}>" if value else f"<{tag}/>")
    elif value is None:
        out.append(f"<{tag}/>")
    elif kind is bool:
        out.append(f"<{tag}>{'true' if value else 'false'}</{tag}>")
    elif kind is int or kind is float:
        out.append(f"<{tag}>{value!r}</{tag}>")
    elif isinstance(value, dict):
        out.append(f"<{tag}>")
        for key, item in value.items():
            _element(out, key, item)
        out.append(f"</{tag}>")
    elif isinstance(value, list):
        child = LIST_ITEMS.get(tag, "item")
        out.append(f"<{tag}>")
        for item in value:
            _element(out, child, item)
        out.append(f"</{tag}>")
    else:
        text = str(value)
        out.append(f"<{tag}>{_escape(text)}</{tag}>" if text else f"<{tag}/>")


def _record(out: list, tag: str, record: dict) -> None:
    """One flat record (``_element`` of a dict, with its common cases inline: a
    1,000-row answer writes 17,000 of them)."""
    out.append(f"<{tag}>")
    for key, value in record.items():
        if type(value) is str:
            out.append(f"<{key}>{_escape(value)}</{key}>" if value else f"<{key}/>")
        elif value is None:
            out.append(f"<{key}/>")
        else:
            _element(out, key, value)
    out.append(f"</{tag}>")


def to_xml(root: str, item: str | None, data: Any) -> bytes:
    """``data`` a list (each element an ``<item>`` under ``<root>``) or a dict (the
    children of ``<root>``).  Characters XML 1.0 forbids are dropped from the whole
    document in one pass (element names never contain them)."""
    out = [XML_DECLARATION, f"<{root}>"]
    if isinstance(data, list):
        for row in data:
            if type(row) is dict:
                _record(out, item, row)
            else:
                _element(out, item, row)
    else:
        for key, value in data.items():
            _element(out, key, value)
    out.append(f"</{root}>")
    text = "".join(out)
    if _INVALID_XML.search(text):
        text = _INVALID_XML.sub("", text)
    return text.encode("utf-8")


def _json_fallback(value: Any) -> str:
    """What orjson does not write itself: translated labels (lazy strings) and any
    other value, as their text, the way the XML writer does."""
    return str(value)


def to_json(data: Any) -> bytes:
    """Compact UTF-8 JSON (no ASCII escaping, as the spec's examples)."""
    return orjson.dumps(data, default=_json_fallback)


def respond(fmt: str, root: str, item: str | None, data: Any, status: int = 200
            ) -> HttpResponse:
    body = to_json(data) if fmt == "json" else to_xml(root, item, data)
    return HttpResponse(body, status=status, content_type=CONTENT_TYPES[fmt])


def errors(fmt: str, status: int, descriptions: list[str]) -> HttpResponse:
    """The spec's error answer: a list of ``{code, description}`` (``<errors><error>``)."""
    rows = [{"code": status, "description": text} for text in descriptions]
    return respond(fmt, "errors", "error", rows, status=status)
