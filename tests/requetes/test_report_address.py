"""The report form's civic address (issue 3, item 6): without JavaScript an address alone
places the request (geocoded from the hub's civic address register); with JavaScript the
field autocompletes and moves the pin (its attributes are checked here)."""

from __future__ import annotations

import uuid

import pytest
from django.urls import reverse
from django.utils import translation

from hub.models import CivicAddress
from modules.requetes.models import ServiceRequest

from .conftest import INSIDE


@pytest.fixture
def register(db):
    def add(number, street, lat, lon, municipality="Salaberry-de-Valleyfield"):
        return CivicAddress.objects.create(number=number, street=street, latitude=lat,
                                           longitude=lon, municipality=municipality)

    return {"victoria": add(12, "rue Victoria", INSIDE[0], INSIDE[1]),
            "montreal": add(5, "rue Sherbrooke", 45.50, -73.56, "Montréal")}


def url(language="fr"):
    return reverse("requetes:report", args=["eclairage"]).replace("/fr/", f"/{language}/")


def post_data(**extra):
    data = {"description": "Lampadaire éteint", "q_poteau": "42",
            "submission_key": str(uuid.uuid4())}
    data.update(extra)
    return {k: v for k, v in data.items() if v is not None}


def test_form_fields_for_autocomplete(citizen_client, lighting, register):
    body = citizen_client.get(url()).content.decode()
    assert 'name="address"' in body and "data-address-autocomplete" in body
    assert 'data-url="/fr/adresses/suggestions/"' in body
    assert 'data-lat-field="id_latitude"' in body and 'data-lon-field="id_longitude"' in body
    assert "hub/address-autocomplete.js" in body
    # The address comes first: without the map, it is all a citizen needs to give.
    assert body.index('name="address"') < body.index('name="latitude"')


def test_location_step_with_an_address_only(citizen_client, lighting, register,
                                            make_request, other_citizen):
    existing = make_request(actor=other_citizen)
    response = citizen_client.get(url(), {"address": "12, Rue VICTORIA, Valleyfield",
                                          "latitude": "", "longitude": ""})
    body = response.content.decode()
    assert response.status_code == 200
    assert "<textarea" in body  # on to the next step
    assert 'value="45.255600"' in body and 'value="-74.132000"' in body
    assert "12 rue Victoria, Salaberry-de-Valleyfield" in body
    assert existing.reference in body  # the nearby check used the geocoded point


def test_report_with_an_address_only(citizen_client, lighting, register, citizen):
    response = citizen_client.post(url(), post_data(address="12 r. Victoria"))
    assert response.status_code == 302
    request = ServiceRequest.objects.get()
    assert (float(request.latitude), float(request.longitude)) == pytest.approx(INSIDE)
    assert request.address == "12 rue Victoria, Salaberry-de-Valleyfield"


def test_coordinates_win_over_the_address(citizen_client, lighting, register):
    response = citizen_client.post(url(), post_data(
        address="Devant le 14, rue Victoria", latitude="45.2560", longitude="-74.1330"))
    assert response.status_code == 302
    request = ServiceRequest.objects.get()
    assert (float(request.latitude), float(request.longitude)) == pytest.approx(
        (45.256, -74.133))
    assert request.address == "Devant le 14, rue Victoria"


@pytest.mark.parametrize(("data", "message"), [
    ({"address": "14 rue Victoria"}, "address register"),
    ({"address": "rue Victoria"}, "address register"),
    ({"address": "<script>alert(1)</script>"}, "address register"),
    ({"address": ""}, "give the civic address"),
    ({}, "give the civic address"),
    ({"address": "5 rue Sherbrooke, Montréal"}, "outside the city"),
    ({"address": "12 rue Victoria", "latitude": "45.25"}, "Longitude must be a number"),
])
def test_bad_addresses_create_nothing(citizen_client, lighting, register, data, message):
    with translation.override("en"):
        response = citizen_client.post(url("en"), post_data(**data))
    body = response.content.decode()
    assert response.status_code == 400
    assert message.lower() in body.lower()
    assert "<script>alert(1)</script>" not in body
    assert not ServiceRequest.objects.exists()


def test_location_step_unknown_address_stays_on_the_step(citizen_client, lighting, register):
    with translation.override("en"):
        response = citizen_client.get(url("en"), {"address": "99 rue Nulle-Part"})
    body = response.content.decode()
    assert "address register" in body
    assert "<textarea" not in body and "Step 2 of 3" in body
