"""The subscription API places the subscriber from a civic address (the hub's register)
or a map point, like the web form; bad input is a 400 and changes nothing."""

from __future__ import annotations

import pytest

from hub.models import CivicAddress
from modules.alertes import services
from modules.alertes.models import ConsentRecord

from .test_api_writes import BASE, patch


@pytest.fixture
def inside(districts):
    north, _south = districts
    ring = north.geometry["coordinates"][0]
    lon = (min(p[0] for p in ring) + max(p[0] for p in ring)) / 2
    lat = (min(p[1] for p in ring) + max(p[1] for p in ring)) / 2
    CivicAddress.objects.create(number=41, street="rue Victoria", latitude=lat,
                                longitude=lon, municipality="Salaberry-de-Valleyfield")
    return lat, lon


def test_an_address_places_the_subscriber(client, citizen, topics, districts, inside):
    client.force_login(citizen)
    response = patch(client, BASE + "preferences/", {"civic_address": "41, RUE VICTORIA"})
    assert response.status_code == 200, response.content
    data = response.json()
    assert data["district"] == "nord-test"
    assert data["civic_address"] == CivicAddress.objects.get().label
    # Another change keeps the address and its district.
    data = patch(client, BASE + "preferences/", {"language": "en"}).json()
    assert data["district"] == "nord-test" and data["civic_address"]


def test_a_point_places_the_subscriber(client, citizen, topics, districts, inside):
    client.force_login(citizen)
    response = patch(client, BASE + "preferences/", {"point": list(inside)})
    assert response.status_code == 200, response.content
    assert response.json()["district"] == "nord-test"


@pytest.mark.parametrize("body, field", [
    ({"civic_address": "999 rue Inconnue"}, "civic_address"),
    ({"civic_address": "<script>alert(1)</script>"}, "civic_address"),
    ({"civic_address": "x" * 300}, "civic_address"),
    ({"point": [45.2]}, "point"),
    ({"point": [95, -74.1]}, "point"),
    ({"point": ["abc", "def"]}, "point"),
    ({"point": [10.0, 10.0]}, "latitude"),  # in no district
])
def test_bad_places_are_400_and_change_nothing(client, citizen, topics, districts, inside,
                                              body, field):
    client.force_login(citizen)
    response = patch(client, BASE + "preferences/", body)
    assert response.status_code == 400 and field in response.json(), response.content
    subscriber = services.subscriber_for(citizen)
    assert subscriber.district is None and subscriber.civic_address == ""
    assert not ConsentRecord.objects.filter(method="api").exists()
