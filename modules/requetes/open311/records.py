"""The spec's ``request`` records, built from the public view of requests
(``requetes/public.py``) read through the database cursor: the list endpoints answer up
to 1,000 of them, so the rows are tuples and the work per row is dictionary look-ups."""

from __future__ import annotations

from collections import defaultdict

from django.db import connections
from django.db.models import Count

from hub.i18n import pick

from .. import public
from ..models import RequestEvent, ServiceRequest
from .rendering import DateText, W3CText, end_of_day, w3c, w3c_text

Status = ServiceRequest.Status
Kind = RequestEvent.Kind


def _status_labels() -> tuple[dict, dict]:
    return ({value: str(label) for value, label in Status.choices},
            {value: str(label) for value, label in ServiceRequest.ClosureReason.choices})


# The columns of a ``request`` record, in the order ``_fetch_rows`` selects them: the
# category's code and names and the department's name are joined (two small tables),
# so that a list is one query whatever it shows.
ROW_COLUMNS = ("id", "reference", "status", "closure_reason", "category_id",
               "category__service_code", "category__name_fr", "category__name_en",
               "department__name", "public_description", "created_text", "updated_text",
               "closed_text", "due_text", "address", "latitude", "longitude", "media_url",
               "location_precision")


def _fetch_rows(qs, limit: int) -> list[tuple]:
    """The first ``limit`` rows of ``qs`` (filtered and ordered) as tuples of
    ``ROW_COLUMNS``, in one query through the database cursor: no model instances and
    no per-value converters.  The public view (``public.requests``) blanks a
    description that may not be shown and brings the category's location precision;
    the database writes the datetimes as W3C text (``W3CText``) and the due date as ISO
    text, so that the Python side only copies values into records."""
    qs = public.requests(qs).annotate(
        created_text=W3CText("created_at"), updated_text=W3CText("updated_at"),
        closed_text=W3CText("closed_at"), due_text=DateText("due_date"))
    sql, params = qs.values_list(*ROW_COLUMNS)[:limit].query.sql_with_params()
    with connections[qs.db].cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()


def _service_request_rows(rows: list[tuple], *, extended: bool) -> list[dict]:
    """The spec's ``request`` records from ``_fetch_rows``' tuples (no query more, three
    with ``extensions=true``).  One dict per row and dictionary look-ups only: the
    category's name in the active language is picked once per category, and no
    translation, date or URL work is done per row."""
    statuses, reasons = _status_labels()
    names: dict[int, str] = {}
    place, exact = public.place, public.EXACT
    result = []
    append = result.append
    for (_pk, reference, status, reason, category_id, code, name_fr, name_en, department,
         description, created, updated, closed_at, due, address, latitude, longitude,
         media_url, precision) in rows:
        name = names.get(category_id)
        if name is None:
            # Category.name's rule: English when asked for and filled in, French otherwise.
            name = names[category_id] = pick(name_fr, name_en)
        closed = status == "closed"
        if precision != exact:
            latitude, longitude, address = place(precision, latitude, longitude, address)
        append({
            "service_request_id": reference,
            "status": "closed" if closed else "open",
            "status_notes": reasons.get(reason, "") if closed else statuses.get(status, ""),
            "service_name": name,
            "service_code": code,
            "description": description,
            "agency_responsible": department,
            "service_notice": "",
            "requested_datetime": w3c_text(created),
            "updated_datetime": w3c_text(closed_at if closed and closed_at else updated),
            "expected_datetime": end_of_day(due),
            "address": address,
            "address_id": "",
            "zipcode": "",
            "lat": latitude,
            "long": longitude,
            "media_url": media_url,
        })
    if extended and rows:
        _add_extensions(rows, result)
    return result


def _add_extensions(rows: list[dict], result: list[dict]) -> None:
    """``extended_attributes``: intake channel, follower count and the public timeline
    (status moves, and the messages staff wrote for the public)."""
    ids = [row[0] for row in rows]
    channels = dict(ServiceRequest.objects.filter(pk__in=ids).values_list("pk", "channel"))
    followers = dict(ServiceRequest.objects.filter(pk__in=ids).annotate(
        n=Count("followers")).values_list("pk", "n"))
    timeline = defaultdict(list)
    events = RequestEvent.objects.filter(
        request_id__in=ids,
        kind__in=(Kind.CREATED, Kind.STATUS, Kind.COMMENT, Kind.REOPENED, Kind.MERGED),
    ).order_by("created_at", "pk").values_list(
        "request_id", "kind", "to_status", "public_message", "by_staff", "created_at")
    for request_id, kind, to_status, message, by_staff, created_at in events:
        if kind == Kind.COMMENT and not by_staff:
            continue  # a resident's comment is theirs, not the public's
        timeline[request_id].append({
            "datetime": w3c(created_at),
            "type": kind,
            "status": ("closed" if to_status == Status.CLOSED else "open") if to_status
            else "",
            "description": message if by_staff else "",
        })
    for row, record in zip(rows, result, strict=True):
        record["extended_attributes"] = {
            "channel": channels.get(row[0], ""),
            "follower_count": followers.get(row[0], 0),
            "timeline": timeline.get(row[0], []),
        }
