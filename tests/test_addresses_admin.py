"""The civic address register in the admin (City → Civic addresses): administrators
list, search and correct addresses; the district follows the point; other staff are
kept out."""

from __future__ import annotations

import pytest

from hub.models import CivicAddress

from .test_addresses import districts, register  # noqa: F401 - fixtures

BASE = "/admin/snippets/hub/civicaddress/"


@pytest.fixture
def admin_client(client, administrator):
    client.force_login(administrator)
    return client


def test_list_and_search(admin_client, register, django_assert_max_num_queries):  # noqa: F811
    with django_assert_max_num_queries(25):
        response = admin_client.get(BASE)
    body = response.content.decode()
    assert response.status_code == 200
    assert "41 rue Victoria" in body and "Mgr-Langlois" in body
    found = admin_client.get(BASE, {"q": "victoria"}).content.decode()
    assert "41 rue Victoria" in found and "Mgr-Langlois" not in found


def test_list_queries_do_not_grow_with_rows(admin_client, register, districts):  # noqa: F811
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as few:
        admin_client.get(BASE)
    for number in range(100, 140):
        CivicAddress.objects.create(number=number, street="rue Jacques-Cartier",
                                    municipality="Salaberry-de-Valleyfield",
                                    latitude=45.25, longitude=-74.05)
    with CaptureQueriesContext(connection) as many:
        admin_client.get(BASE)
    assert len(many) == len(few)


def test_moving_a_point_moves_the_district(admin_client, register, districts):  # noqa: F811
    west, east = districts
    address = register["victoria"]
    assert address.district == west
    response = admin_client.post(f"{BASE}edit/{address.pk}/", {
        "number": "41", "suffix": "", "unit": "", "street": "rue Victoria",
        "postal_code": "J6T 1A1", "municipality": "Salaberry-de-Valleyfield",
        "latitude": "45.25", "longitude": "-74.05"})
    assert response.status_code == 302, response.content.decode()[:2000]
    address.refresh_from_db()
    assert address.district == east and address.longitude == -74.05


def test_bad_input_changes_nothing(admin_client, register):  # noqa: F811
    address = register["victoria"]
    response = admin_client.post(f"{BASE}edit/{address.pk}/", {
        "number": "quarante", "street": "", "municipality": "Salaberry-de-Valleyfield",
        "latitude": "abc", "longitude": "-74.05"})
    assert response.status_code == 200
    address.refresh_from_db()
    assert (address.number, address.longitude) == (41, -74.15)


def test_other_staff_are_kept_out(client, agent_a, register):  # noqa: F811
    client.force_login(agent_a)
    response = client.get(BASE)
    assert response.status_code == 302
