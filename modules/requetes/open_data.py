"""Open data: every service request as CSV and as GeoJSON, in the public view.

Public (no sign-in) and streamed, so a dump of a whole year costs one query and constant
memory.  Only these fields leave the city, as ``public.py`` (the one rule of what the
public sees of a request) gives them:

- ``reference``, ``service_code``, ``service_name`` (French), ``status``,
  ``closure_reason`` (empty while open), ``created_at`` and ``closed_at`` (ISO 8601, the
  city's local time with its offset, to the second);
- ``latitude``/``longitude`` and ``street`` at the category's location precision: the
  stored point and address for problems in public space; for categories reported at a
  home, the point rounded to 3 decimals (about 110 m × 80 m, a block) and the street
  name without civic number, unit or postal code;
- ``description``: only when the resident allowed it to be public and staff did not hide
  it (``description_public`` and not ``description_redacted``).

Never: the citizen's account, the caller's name, email or phone, answers to questions,
notes, photos, the assigned agent, the channel.
"""

from __future__ import annotations

import csv
import datetime
import json

from django import forms
from django.http import HttpResponse, StreamingHttpResponse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from . import public
from .models import Category, ServiceRequest

DEFAULT_DAYS = 365
CACHE_SECONDS = 900
CHUNK = 2000
FIELDS = ["reference", "service_code", "service_name", "status", "closure_reason",
          "created_at", "closed_at", "latitude", "longitude", "street", "description"]


class OpenDataFilterForm(forms.Form):
    start = forms.DateField(label=gettext_lazy("From"), required=False)
    end = forms.DateField(label=gettext_lazy("To"), required=False)
    category = forms.ModelChoiceField(Category.objects.all(), required=False,
                                      to_field_name="service_code",
                                      label=gettext_lazy("Category"))

    def clean(self):
        data = super().clean()
        if self.errors:
            return data
        today = timezone.localdate()
        end = data.get("end") or today
        start = data.get("start") or end - datetime.timedelta(days=DEFAULT_DAYS - 1)
        if start > end:
            raise forms.ValidationError(_("The first day must come before the last day."))
        data["start"], data["end"] = start, end
        return data


def _local(moment):
    if moment is None:
        return ""
    return timezone.localtime(moment).replace(microsecond=0).isoformat()


def records(*, start: datetime.date, end: datetime.date, category: Category | None = None):
    """The public records, oldest first, one query read in chunks."""
    after = timezone.make_aware(datetime.datetime.combine(
        end + datetime.timedelta(days=1), datetime.time()))
    before = timezone.make_aware(datetime.datetime.combine(start, datetime.time()))
    qs = ServiceRequest.objects.filter(created_at__gte=before, created_at__lt=after)
    if category is not None:
        qs = qs.filter(category=category)
    rows = public.requests(qs).order_by("created_at", "pk").values_list(
        "reference", "category__service_code", "category__name_fr", "status",
        "closure_reason", "created_at", "closed_at", "latitude", "longitude", "address",
        "public_description", "location_precision")
    for (reference, code, name, status, reason, created, closed, lat, lon, address,
         description, precision) in rows.iterator(chunk_size=CHUNK):
        lat, lon, street = public.place(precision, lat, lon, address)
        yield {
            "reference": reference, "service_code": code, "service_name": name,
            "status": status, "closure_reason": reason if status == "closed" else "",
            "created_at": _local(created), "closed_at": _local(closed),
            "latitude": lat, "longitude": lon, "street": street,
            "description": description,
        }


def _filters(request):
    form = OpenDataFilterForm(request.GET)
    if form.is_valid():
        return form.cleaned_data, None
    errors = {name: [str(e) for e in errs] for name, errs in form.errors.items()}
    body = json.dumps({"error": _("Invalid filters."), "fields": errors}, ensure_ascii=False)
    response = HttpResponse(body, status=400, content_type="application/json")
    response["Access-Control-Allow-Origin"] = "*"
    return None, response


def _public(response, filename: str):
    response["Cache-Control"] = f"public, max-age={CACHE_SECONDS}"
    response["Access-Control-Allow-Origin"] = "*"
    response["Content-Disposition"] = f'inline; filename="{filename}"'
    return response


def _spreadsheet_safe(value):
    """A text cell that starts like a formula is prefixed with ' so that a spreadsheet
    opening the file shows it instead of evaluating it (descriptions are typed by
    residents)."""
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + value
    return "" if value is None else value


class _Echo:
    """A file-like object for csv.writer that hands each line back to the stream."""

    def write(self, value):
        return value


def export_csv(request):
    data, error = _filters(request)
    if error:
        return error
    writer = csv.writer(_Echo())

    def lines():
        yield writer.writerow(FIELDS)
        for record in records(start=data["start"], end=data["end"],
                              category=data["category"]):
            yield writer.writerow([_spreadsheet_safe(record[name]) for name in FIELDS])

    response = StreamingHttpResponse(lines(), content_type="text/csv; charset=utf-8")
    return _public(response, f"requetes-{data['start']}-{data['end']}.csv")


def export_geojson(request):
    """A GeoJSON FeatureCollection (RFC 7946: WGS 84, longitude first, no ``crs``)."""
    data, error = _filters(request)
    if error:
        return error

    def chunks():
        yield '{"type":"FeatureCollection","features":['
        separator = ""
        for record in records(start=data["start"], end=data["end"],
                              category=data["category"]):
            lat, lon = record.pop("latitude"), record.pop("longitude")
            geometry = (None if lat is None or lon is None
                        else {"type": "Point", "coordinates": [lon, lat]})
            feature = {"type": "Feature", "id": record["reference"], "geometry": geometry,
                       "properties": record}
            yield separator + json.dumps(feature, ensure_ascii=False,
                                         separators=(",", ":"))
            separator = ","
        yield "]}"

    response = StreamingHttpResponse(chunks(), content_type="application/geo+json")
    return _public(response, f"requetes-{data['start']}-{data['end']}.geojson")
