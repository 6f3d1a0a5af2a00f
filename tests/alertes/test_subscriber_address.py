"""A subscriber's civic address or map point places them in a zone (issue 4, item 1):
the preferences page, staff registration and the residents' CSV import."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError

from hub.models import CivicAddress, District
from modules.alertes import services
from modules.alertes.models import ConsentRecord, Subscriber
from tests.conftest import make_user

URL = "/fr/alertes/abonnement/"
EAST = {"type": "Polygon", "coordinates": [[[-74.1, 45.2], [-74.0, 45.2], [-74.0, 45.3],
                                            [-74.1, 45.3], [-74.1, 45.2]]]}


@pytest.fixture
def zones(districts):
    north = districts[0]
    east = District.objects.create(name="Est test", slug="est-test", geometry=EAST)
    return north, east


@pytest.fixture
def register(zones):
    def add(number, street, lat, lon):
        return CivicAddress.objects.create(number=number, street=street, latitude=lat,
                                           longitude=lon,
                                           municipality="Salaberry-de-Valleyfield")

    return {"victoria": add(41, "rue Victoria", 45.25, -74.15),
            "langlois": add(20, "boulevard Mgr-Langlois", 45.26, -74.05),
            "far": add(7, "chemin du Bout", 46.5, -74.0)}


def _post(client, **data):
    return client.post(URL, {"action": "preferences", "language": "fr", **data})


def _subscriber(user):
    return Subscriber.objects.get(user=user)


def test_the_page_offers_an_address_field_not_the_district_list(citizen_client, topics,
                                                                 register):
    page = citizen_client.get(URL).content.decode()
    assert 'name="civic_address"' in page and "data-address-autocomplete" in page
    assert 'data-url="/fr/adresses/suggestions/"' in page
    assert 'name="latitude"' in page and 'name="longitude"' in page
    assert 'name="district"' not in page
    assert "hub/address-autocomplete.js" in page


def test_the_address_places_the_resident(citizen_client, citizen, topics, zones, register):
    north, east = zones
    response = _post(citizen_client, civic_address="20 boul. Mgr-Langlois, Valleyfield")
    assert response.status_code == 302
    subscriber = _subscriber(citizen)
    assert subscriber.district == east
    assert subscriber.civic_address == "20 boulevard Mgr-Langlois, Salaberry-de-Valleyfield"
    # Moving: the new address moves the zone.
    _post(citizen_client, civic_address="41 RUE VICTORIA")
    subscriber.refresh_from_db()
    assert subscriber.district == north
    assert "Nord test" in citizen_client.get(URL).content.decode()
    # Saving again unchanged keeps it; a district posted by a resident is ignored.
    _post(citizen_client, civic_address=subscriber.civic_address, district=east.pk)
    subscriber.refresh_from_db()
    assert subscriber.district == north


def test_an_unknown_address_is_an_error_and_changes_nothing(citizen_client, citizen, topics,
                                                           zones, register):
    north, _east = zones
    _post(citizen_client, civic_address="41 rue Victoria", topics=[topics["loisirs"].pk])
    consents = ConsentRecord.objects.count()
    for typed in ("42 rue Victoria", "rue Victoria", "41 boulevard Victoria",
                  "<script>alert(1)</script>"):
        response = _post(citizen_client, civic_address=typed, topics=[topics["deneigement"].pk],
                         language="en")
        assert response.status_code == 400
        page = response.content.decode()
        assert "address register" in page or "registre des adresses" in page
        assert "<script>alert(1)</script>" not in page
        subscriber = _subscriber(citizen)
        assert subscriber.district == north
        assert subscriber.civic_address == "41 rue Victoria, Salaberry-de-Valleyfield"
        assert subscriber.language == "fr"
        assert set(subscriber.topics.values_list("slug", flat=True)) == {"urgences", "loisirs"}
    assert ConsentRecord.objects.count() == consents


def test_an_address_outside_every_district_is_an_error(citizen_client, citizen, topics,
                                                      register):
    response = _post(citizen_client, civic_address="7 chemin du Bout")
    assert response.status_code == 400
    assert _subscriber(citizen).district is None


def test_a_map_point_places_the_resident(citizen_client, citizen, topics, zones, register):
    north, east = zones
    assert _post(citizen_client, latitude="45.25", longitude="-74.05").status_code == 302
    assert _subscriber(citizen).district == east
    # Saving again without a point keeps the zone the point gave.
    assert _post(citizen_client, topics=[topics["loisirs"].pk]).status_code == 302
    assert _subscriber(citizen).district == east
    # The address wins over a point given with it.
    _post(citizen_client, civic_address="41 rue Victoria", latitude="45.25",
          longitude="-74.05")
    assert _subscriber(citizen).district == north
    # Removing the address removes the zone.
    _post(citizen_client, civic_address="")
    subscriber = _subscriber(citizen)
    assert (subscriber.district, subscriber.civic_address) == (None, "")


@pytest.mark.parametrize("point", [
    {"latitude": "46.9", "longitude": "-74.05"},  # in no district
    {"latitude": "45.25"},  # half a point
    {"latitude": "nan", "longitude": "-74.05"},
    {"latitude": "91", "longitude": "-74.05"},
    {"latitude": "45.25", "longitude": "abc"},
])
def test_bad_points_change_nothing(citizen_client, citizen, topics, zones, register, point):
    _post(citizen_client, civic_address="41 rue Victoria")
    assert _post(citizen_client, civic_address="", **point).status_code == 400
    subscriber = _subscriber(citizen)
    assert subscriber.district == zones[0]
    assert subscriber.civic_address.startswith("41 rue Victoria")


def test_staff_may_override_the_district(client, topics, zones, register):
    north, east = zones
    staff = make_user("agent.alertes@example.com", is_staff=True)
    client.force_login(staff)
    assert 'name="district"' in client.get(URL).content.decode()
    _post(client, civic_address="41 rue Victoria", district=east.pk)
    subscriber = _subscriber(staff)
    assert (subscriber.district, subscriber.civic_address[:15]) == (east, "41 rue Victoria")
    # Leaving the list as is follows the address.
    _post(client, civic_address="20 Mgr-Langlois", district=east.pk)
    _post(client, civic_address="41 rue Victoria", district=east.pk)
    assert _subscriber(staff).district == north


def test_without_a_register_the_address_is_kept_unplaced(citizen_client, citizen, topics,
                                                        zones):
    assert not CivicAddress.objects.exists()
    assert _post(citizen_client, civic_address="41 rue Victoria").status_code == 302
    subscriber = _subscriber(citizen)
    assert (subscriber.civic_address, subscriber.district) == ("41 rue Victoria", None)


# --- staff registration and the CSV import --------------------------------------------------

def test_registered_resident_is_placed_from_the_address(officer, topics, zones, register):
    north, east = zones
    subscriber = services.register_resident(name="Mme Lalonde", phone="4503710001",
                                            civic_address="20 bd Monseigneur-Langlois",
                                            actor=officer)
    assert subscriber.district == east
    assert subscriber.civic_address.startswith("20 boulevard Mgr-Langlois")
    # An explicit district wins; the address is kept as typed.
    other = services.register_resident(name="M. Roy", phone="4503710002",
                                       civic_address="20 bd Monseigneur-Langlois",
                                       district=north, actor=officer)
    assert other.district == north and other.civic_address == "20 bd Monseigneur-Langlois"


def test_registering_with_an_unknown_address_creates_nothing(officer, topics, register):
    with pytest.raises(ValidationError) as error:
        services.register_resident(name="Mme X", phone="4503710003",
                                   civic_address="999 rue Inconnue", actor=officer)
    assert "civic_address" in error.value.message_dict
    assert not Subscriber.objects.exists()


CSV = """name,phone,email,address,language,district,topics
Mme Lalonde,450 371-0001,,"20 boul. Mgr-Langlois, Salaberry-de-Valleyfield",fr,,deneigement
Paul Smith,450 371-0002,,41 rue Victoria,en,,
Mme Inconnue,450 371-0003,,999 rue Inconnue,fr,,
M. Choix,450 371-0004,,41 rue Victoria,fr,est-test,
Sans adresse,450 371-0005,,,fr,,
"""


def test_import_places_residents_without_district(officer, topics, zones, register):
    rows = services.parse_residents_csv(CSV.encode())
    preview = services.import_residents(rows, officer, dry_run=True)
    assert preview["created"] == 4
    assert [line for line, _message in preview["errors"]] == [4]
    assert "999 rue Inconnue" not in preview["errors"][0][1]
    assert not Subscriber.objects.exists()
    result = services.import_residents(rows, officer, dry_run=False)
    assert result["created"] == 4 and len(result["errors"]) == 1
    placed = dict(Subscriber.objects.values_list("name", "district__slug"))
    assert placed == {"Mme Lalonde": "est-test", "Paul Smith": "nord-test",
                      "M. Choix": "est-test", "Sans adresse": None}
    assert not Subscriber.objects.filter(name="Mme Inconnue").exists()
