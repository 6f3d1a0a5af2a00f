"""Open data: public CSV and GeoJSON of the requests, with no personal data."""

import csv
import datetime
import io
import json

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from modules.requetes import demo, open_data, public
from modules.requetes.models import Category, ServiceRequest

CSV_URL = "/fr/requetes/donnees-ouvertes.csv"
GEOJSON_URL = "/fr/requetes/donnees-ouvertes.geojson"
EVERYTHING = {"start": "2000-01-01"}


def body(response) -> str:
    assert response.streaming
    return b"".join(response.streaming_content).decode()


def csv_rows(response):
    return list(csv.DictReader(io.StringIO(body(response))))


def add(category, number, **extra):
    values = {"reference": f"2026-{number:06d}", "category": category,
              "department": category.department, "description": "Lampadaire éteint",
              "latitude": 45.255649, "longitude": -74.132051,
              "address": "1234 rue Victoria", "caller_name": "Gertrude Secrète",
              "caller_email": "gertrude@example.com", "caller_phone": "450 555-0199"}
    values.update(extra)
    return ServiceRequest.objects.create(**values)


@pytest.mark.django_db
def test_demo_data_has_no_personal_data(client, site):
    assert ServiceRequest.objects.count() >= 300
    csv_text = body(client.get(CSV_URL, EVERYTHING))
    geojson_text = body(client.get(GEOJSON_URL, EVERYTHING))
    assert csv_text.count("\n") > 300
    for text in (csv_text, geojson_text):
        for caller in demo.CALLERS:
            assert caller not in text
        assert "450 555-" not in text
        assert "@" not in text
        for request in ServiceRequest.objects.filter(
                category__location_precision="approximate")[:50]:
            assert request.address not in text  # reported at a home: no civic number
            if request.caller_phone:
                assert request.caller_phone not in text


@pytest.mark.django_db
def test_csv_columns_and_public_fields_only(client, lighting, citizen):
    # A category reported at a home: the rounded point and the street only
    # (test_public_precision.py checks both precisions on every output).
    Category.objects.filter(pk=lighting.pk).update(location_precision="approximate")
    created = timezone.make_aware(datetime.datetime(2026, 2, 3, 9, 30, 15, 123456))
    add(lighting, 1, citizen=citizen, description="Visible au public",
        description_public=True, created_at=created, status="closed",
        closure_reason="fixed", closed_at=created + datetime.timedelta(days=2))
    add(lighting, 2, description="Mon voisin Jean Untel au 1236", description_public=True,
        description_redacted=True, created_at=created)
    add(lighting, 3, description="Privé", created_at=created, address="app. 4, 12B rue Nord")
    response = client.get(CSV_URL, {"start": "2026-02-01", "end": "2026-02-28"})
    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert "public" in response["Cache-Control"] and "max-age" in response["Cache-Control"]
    assert response["Access-Control-Allow-Origin"] == "*"
    rows = csv_rows(response)
    assert list(rows[0]) == open_data.FIELDS
    by_reference = {row["reference"]: row for row in rows}
    first = by_reference["2026-000001"]
    assert first["service_code"] == "eclairage"
    assert first["service_name"] == "Éclairage de rue"
    assert first["status"] == "closed" and first["closure_reason"] == "fixed"
    assert first["created_at"] == "2026-02-03T09:30:15-05:00"
    assert first["closed_at"] == "2026-02-05T09:30:15-05:00"
    assert (first["latitude"], first["longitude"]) == ("45.256", "-74.132")
    assert first["street"] == "rue Victoria"
    assert first["description"] == "Visible au public"
    assert by_reference["2026-000002"]["description"] == ""  # hidden by staff
    assert by_reference["2026-000003"]["description"] == ""  # never made public
    assert by_reference["2026-000003"]["street"] == "rue Nord"
    text = body(client.get(CSV_URL, {"start": "2026-02-01"}))
    for secret in ("Gertrude", "gertrude@example.com", "555-0199", "Jean Untel", "1234",
                   citizen.email, "Tremblay"):
        assert secret not in text


@pytest.mark.django_db
def test_geojson_is_an_rfc_7946_feature_collection(client, lighting, animals):
    Category.objects.filter(pk__in=[lighting.pk, animals.pk]).update(
        location_precision="approximate")
    add(lighting, 1, description="Publique", description_public=True)
    add(animals, 2, status="closed", closure_reason="duplicate",
        closed_at=timezone.now())
    response = client.get(GEOJSON_URL)
    assert response.status_code == 200
    assert response["Content-Type"] == "application/geo+json"
    data = json.loads(body(response))
    assert data["type"] == "FeatureCollection" and "crs" not in data
    assert len(data["features"]) == 2
    for feature in data["features"]:
        assert feature["type"] == "Feature"
        assert feature["geometry"]["type"] == "Point"
        longitude, latitude = feature["geometry"]["coordinates"]
        assert (longitude, latitude) == (-74.132, 45.256)  # longitude first
        assert set(feature["properties"]) == set(open_data.FIELDS) - {"latitude",
                                                                        "longitude"}
        assert feature["id"] == feature["properties"]["reference"]
    reasons = {f["properties"]["reference"]: f["properties"]["closure_reason"]
               for f in data["features"]}
    assert reasons == {"2026-000001": "", "2026-000002": "duplicate"}
    only = json.loads(body(client.get(GEOJSON_URL, {"category": "animaux"})))
    assert [f["id"] for f in only["features"]] == ["2026-000002"]


@pytest.mark.django_db
def test_date_range_filters(client, lighting):
    add(lighting, 1, created_at=timezone.make_aware(datetime.datetime(2026, 1, 31, 23, 59)))
    add(lighting, 2, created_at=timezone.make_aware(datetime.datetime(2026, 2, 1, 0, 0)))
    add(lighting, 3, created_at=timezone.make_aware(datetime.datetime(2026, 2, 28, 23, 59)))
    add(lighting, 4, created_at=timezone.make_aware(datetime.datetime(2026, 3, 1, 0, 0)))
    rows = csv_rows(client.get(CSV_URL, {"start": "2026-02-01", "end": "2026-02-28"}))
    assert [row["reference"] for row in rows] == ["2026-000002", "2026-000003"]


@pytest.mark.django_db
@pytest.mark.parametrize("url", [CSV_URL, GEOJSON_URL])
@pytest.mark.parametrize("params", [
    {"start": "hier"},
    {"end": "2026-02-30"},
    {"start": "2026-03-01", "end": "2026-02-01"},
    {"category": "inconnue"},
    {"category": "x' OR '1'='1"},
    {"start": "2026-01-01; DROP TABLE requetes_servicerequest"},
])
def test_bad_filters_are_a_clear_json_error(client, lighting, url, params):
    add(lighting, 1)
    response = client.get(url, params)
    assert response.status_code == 400
    payload = response.json()
    assert payload["error"]
    assert payload["fields"]
    assert ServiceRequest.objects.count() == 1


@pytest.mark.parametrize(("address", "street"), [
    ("1234 rue Victoria", "rue Victoria"),
    ("1234A rue Victoria", "rue Victoria"),
    ("12-14, boulevard du Havre", "boulevard du Havre"),
    ("app. 4, 56 rue Nicholson", "rue Nicholson"),
    ("56 rue Nicholson app 4", "rue Nicholson"),
    ("56 rue Nicholson, Salaberry-de-Valleyfield, QC J6T 1A1", "rue Nicholson"),
    ("rue Victoria", "rue Victoria"),
    ("1re Avenue", "1re Avenue"),
    ("coin rue Victoria et rue Alexandre", "coin rue Victoria et rue Alexandre"),
    ("123", ""),
    ("", ""),
])
def test_street_only_strips_the_civic_number(address, street):
    assert public.street_only(address) == street


@pytest.mark.django_db
@pytest.mark.parametrize("url", [CSV_URL, GEOJSON_URL])
def test_query_count_does_not_grow_with_rows(client, lighting, url):
    for number in range(10):
        add(lighting, number)
    with CaptureQueriesContext(connection) as few:
        assert len(body(client.get(url))) > 0
    for number in range(10, 50):
        add(lighting, number)
    with CaptureQueriesContext(connection) as many:
        text = body(client.get(url))
    assert text.count("rue Victoria") == 50
    assert len(many) == len(few)
