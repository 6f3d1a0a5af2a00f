"""The one rule of what the public sees of a request's place (``public.py``), checked on
all five public outputs: Open311 (JSON and XML, list and detail), the app API (a
follower's view and the nearby list), the public map (its list and its map points), the
report form's "already reported nearby" list, a follower's page of the request, and open
data (CSV and GeoJSON).

One request per precision, same point and address: ``exact`` (public space) shows the
stored point and address; ``approximate`` (reported at a home) shows the point rounded
to 3 decimals and the street without civic number or unit, and the civic number appears
nowhere."""

from __future__ import annotations

import csv
import io
import json

import pytest
from django.urls import reverse
from lxml import etree

from modules.requetes import services
from modules.requetes.models import Category

pytestmark = pytest.mark.django_db

POINT = (45.255649, -74.132051)
ADDRESS = "1234 rue Victoria, app. 3"
EXPECTED = {
    "exact": (45.255649, -74.132051, "1234 rue Victoria, app. 3"),
    "approximate": (45.256, -74.132, "rue Victoria"),
}


@pytest.fixture
def garbage(departments):
    return Category.objects.create(
        service_code="ordures", name_fr="Ordures", name_en="Garbage",
        department=departments[1], location_precision="approximate")


@pytest.fixture
def made(citizen, other_citizen, lighting, garbage):
    """{precision: request}, both public, both followed by another resident."""
    assert lighting.location_precision == "exact"  # the default
    result = {}
    for precision, category, answers in (("exact", lighting, {"poteau": "7"}),
                                         ("approximate", garbage, {})):
        obj = services.create_request(
            actor=citizen, category=category, description=f"Problème {precision}",
            description_public=True, latitude=POINT[0], longitude=POINT[1],
            address=ADDRESS, answers=answers)
        services.follow(obj, user=other_citizen)
        result[precision] = obj
    return result


def _body(response) -> str:
    if response.streaming:
        return b"".join(response.streaming_content).decode()
    return response.content.decode()


def _check(precision, latitude, longitude, address, where):
    lat, lon, street = EXPECTED[precision]
    assert (float(latitude), float(longitude), address) == (lat, lon, street), where


def test_open311_json_and_xml(client, made):
    for precision, obj in made.items():
        for url in ("/open311/v2/requests.json",
                    f"/open311/v2/requests/{obj.reference}.json"):
            rows = {r["service_request_id"]: r for r in client.get(url).json()}
            row = rows[obj.reference]
            _check(precision, row["lat"], row["long"], row["address"], url)
        for url in ("/open311/v2/requests.xml",
                    f"/open311/v2/requests/{obj.reference}.xml"):
            root = etree.fromstring(client.get(url).content)
            element = next(e for e in root.findall("request")
                           if e.findtext("service_request_id") == obj.reference)
            _check(precision, element.findtext("lat"), element.findtext("long"),
                   element.findtext("address"), url)


def test_app_api_follower_view_and_nearby(client, made, other_citizen, citizen):
    client.force_login(other_citizen)
    for precision, obj in made.items():
        data = client.get(f"/api/v1/requests/{obj.reference}/").json()
        _check(precision, data["latitude"], data["longitude"], data["address"],
               "API detail")
        lat, lon, _street = EXPECTED[precision]
        near = client.get("/api/v1/requests/nearby/", {
            "category": obj.category.service_code, "lat": lat, "long": lon}).json()
        row = next(r for r in near if r["reference"] == obj.reference)
        assert row["address"] == EXPECTED[precision][2]
        assert row["distance_m"] == 0  # measured to the public point
    # The requester's own request stays whole in the app.
    client.force_login(citizen)
    mine = client.get(f"/api/v1/requests/{made['approximate'].reference}/").json()
    assert (mine["latitude"], mine["longitude"], mine["address"]) == (*POINT, ADDRESS)


def test_web_follower_detail(client, made, other_citizen, citizen):
    """A follower is not the requester: the request's page shows them the public place."""
    client.force_login(other_citizen)
    for precision, obj in made.items():
        response = client.get(reverse("requetes:detail", args=[obj.reference]))
        place = response.context["place"]
        _check(precision, place["latitude"], place["longitude"], place["address"],
               "web follower detail")
        if precision == "approximate":
            assert "1234" not in _body(response)
    client.force_login(citizen)
    mine = client.get(reverse("requetes:detail", args=[made["approximate"].reference]))
    assert ADDRESS in _body(mine)


def test_public_map_list_and_points(client, made):
    response = client.get(reverse("requetes:public_map"))
    rows = {row["reference"]: row for row in response.context["rows"]}
    points = {p["url"].removeprefix("#req-"): p for p in response.context["points"]}
    for precision, obj in made.items():
        row, point = rows[obj.reference], points[obj.reference]
        _check(precision, row["latitude"], row["longitude"], row["address"], "map list")
        _check(precision, point["lat"], point["lon"], row["address"], "map point")
    # The page of the approximate category alone shows no civic number and no exact point.
    html = _body(client.get(reverse("requetes:public_map"),
                            {"categorie": made["approximate"].category.service_code}))
    assert "1234" not in html and str(POINT[0]) not in html
    assert EXPECTED["approximate"][2] in html


def test_report_form_nearby_list(client, made, other_citizen):
    client.force_login(other_citizen)
    for precision, obj in made.items():
        lat, lon, street = EXPECTED[precision]
        response = client.get(reverse("requetes:report", args=[obj.category.service_code]),
                              {"latitude": lat, "longitude": lon})
        row = next(r for r in response.context["nearby"] if r["reference"] == obj.reference)
        _check(precision, row["latitude"], row["longitude"], row["address"], "form nearby")
        html = _body(response)
        assert street in html
        if precision == "approximate":
            assert "1234" not in html


def test_open_data_csv_and_geojson(client, made):
    text = _body(client.get(reverse("requetes:open_data_csv")))
    rows = {row["reference"]: row for row in csv.DictReader(io.StringIO(text))}
    geojson = json.loads(_body(client.get(reverse("requetes:open_data_geojson"))))
    features = {f["id"]: f for f in geojson["features"]}
    for precision, obj in made.items():
        row = rows[obj.reference]
        _check(precision, row["latitude"], row["longitude"], row["street"], "CSV")
        feature = features[obj.reference]
        longitude, latitude = feature["geometry"]["coordinates"]
        _check(precision, latitude, longitude, feature["properties"]["street"], "GeoJSON")
