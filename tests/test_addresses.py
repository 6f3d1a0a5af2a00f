"""The civic address register (hub.addresses): normalisation, geocoding, suggestions,
the CSV import (command, bad lines, dry run, idempotence), the autocomplete endpoint."""

from __future__ import annotations

import io

import pytest
from django.core.cache import cache
from django.core.management import call_command
from django.core.management.base import CommandError
from django.test import override_settings
from freezegun import freeze_time

from hub import addresses, demo_addresses
from hub.models import CivicAddress, District


def _square(lon_min, lat_min, lon_max, lat_max):
    ring = [[lon_min, lat_min], [lon_max, lat_min], [lon_max, lat_max], [lon_min, lat_max],
            [lon_min, lat_min]]
    return {"type": "Polygon", "coordinates": [ring]}


@pytest.fixture
def districts(db):
    west = District.objects.create(name="Ouest", slug="ouest",
                                   geometry=_square(-74.20, 45.20, -74.10, 45.30))
    east = District.objects.create(name="Est", slug="est",
                                   geometry=_square(-74.10, 45.20, -74.00, 45.30))
    return west, east


def add(number, street, lat, lon, *, suffix="", unit="", municipality="Salaberry-de-Valleyfield",
        postal_code=""):
    return CivicAddress.objects.create(number=number, suffix=suffix, unit=unit, street=street,
                                       municipality=municipality, postal_code=postal_code,
                                       latitude=lat, longitude=lon)


@pytest.fixture
def register(districts):
    return {
        "victoria": add(41, "rue Victoria", 45.25, -74.15, postal_code="j6t1a1"),
        "victoria_a": add(41, "rue Victoria", 45.2501, -74.1501, suffix="a"),
        "langlois": add(20, "boulevard Mgr-Langlois", 45.26, -74.05),
        "cecile": add(75, "rue Sainte-Cécile", 45.255, -74.13),
        "academie": add(12, "rue de l'Académie", 45.251, -74.131),
        "laurent": add(300, "rue Saint-Laurent", 45.28, -74.02),
        "laurent_unit": add(300, "rue Saint-Laurent", 45.28, -74.02, unit="4"),
        "montreal": add(300, "rue Saint-Laurent", 45.50, -73.56, municipality="Montréal"),
        "maple_rue": add(10, "rue des Érables", 45.21, -74.11),
        "maple_av": add(10, "avenue des Érables", 45.22, -74.01),
    }


# --- normalisation ------------------------------------------------------------------------

@pytest.mark.parametrize(("text", "expected"), [
    ("Boul. Mgr-Langlois", "boulevard monseigneur langlois"),
    ("boulevard Monseigneur Langlois", "boulevard monseigneur langlois"),
    ("BD MGR LANGLOIS", "boulevard monseigneur langlois"),
    ("Rue Sainte-Cécile", "rue sainte cecile"),
    ("r. Ste Cecile", "rue sainte cecile"),
    ("Av. du Centenaire", "avenue du centenaire"),
    ("ch. du Canal", "chemin du canal"),
    ("St-Laurent", "saint laurent"),
    ("rue de l’Académie", "rue de l academie"),  # typographic apostrophe
    ("rue de l'Academie", "rue de l academie"),
    ("Montée   Saint-Timothée", "montee saint timothee"),
    ("Place de l'Œuvre, Ça", "place de l oeuvre ca"),
    ("rue Jacques‑Cartier", "rue jacques cartier"),  # non-breaking hyphen
    ("", ""),
])
def test_normalise(text, expected):
    assert addresses.normalise(text) == expected
    assert addresses.normalise(addresses.normalise(text)) == expected  # idempotent


def test_keys_filled_on_save(register):
    cecile = register["cecile"]
    assert cecile.street_key == "rue sainte cecile"
    assert cecile.street_core == "sainte cecile"
    assert cecile.search_key.startswith("75 rue sainte cecile salaberry de valleyfield")
    assert register["victoria"].postal_code == "J6T 1A1"
    assert register["victoria_a"].suffix == "A"
    assert cecile.label == "75 rue Sainte-Cécile, Salaberry-de-Valleyfield"


def test_district_computed_from_the_point(register, districts):
    west, east = districts
    assert register["victoria"].district == west
    assert register["langlois"].district == east
    assert register["montreal"].district is None  # outside every district
    # moving the point moves the district on save
    victoria = register["victoria"]
    victoria.longitude = -74.05
    victoria.save()
    victoria.refresh_from_db()
    assert victoria.district == east


def test_relocate_after_boundaries_change(register, districts):
    west, east = districts
    were_west = CivicAddress.objects.filter(district=west).count()
    assert were_west == 5
    east.geometry = _square(-74.20, 45.20, -74.00, 45.30)
    east.save()
    west.geometry = {}
    west.save()
    changed = addresses.relocate_all()
    assert changed == were_west
    assert CivicAddress.objects.filter(district=east).count() == 9  # Montréal still none
    assert not CivicAddress.objects.filter(district=west).exists()


# --- geocoding ------------------------------------------------------------------------------

@pytest.mark.parametrize(("text", "key"), [
    ("41 rue Victoria", "victoria"),
    ("41, RUE VICTORIA", "victoria"),
    ("41 victoria", "victoria"),  # the street type may be left out
    ("41 rue Victoria, Salaberry-de-Valleyfield (Québec) J6T 1A1", "victoria"),
    ("41 rue Victoria J6T1A1", "victoria"),
    ("41A rue Victoria", "victoria_a"),
    ("41-A rue Victoria", "victoria_a"),
    ("41 a rue Victoria", "victoria_a"),
    ("20 boul. Mgr-Langlois", "langlois"),
    ("20 Bd Monseigneur Langlois, Valleyfield", "langlois"),
    ("20 mgr langlois", "langlois"),
    ("75 r. Ste-Cécile", "cecile"),
    ("75 rue sainte cecile", "cecile"),
    ("12 rue de l’Académie", "academie"),
    ("12 rue de l academie", "academie"),
    ("12 academie", "academie"),
    ("300 rue St-Laurent, Salaberry-de-Valleyfield", "laurent"),
    ("300 St-Laurent Salaberry de Valleyfield", "laurent"),
    ("300 rue Saint-Laurent app. 4, Salaberry-de-Valleyfield", "laurent_unit"),
    ("4-300 rue Saint-Laurent, Salaberry-de-Valleyfield", "laurent_unit"),
    ("300 rue Saint-Laurent #4 Salaberry-de-Valleyfield", "laurent_unit"),
    ("300 rue Saint-Laurent, Montréal", "montreal"),
    ("10 rue des Érables", "maple_rue"),
    ("10 av des erables", "maple_av"),
])
def test_geocode_hits(register, text, key):
    found = addresses.geocode(text)
    assert found is not None, text
    assert found.pk == register[key].pk


@pytest.mark.parametrize("text", [
    "", "   ", "rue Victoria",  # no number
    "42 rue Victoria",  # no such number
    "41 rue Victorias",  # no such street
    "41B rue Victoria",  # no such suffix
    "41 boulevard Victoria",  # the typed street type contradicts
    "300 rue Saint-Laurent",  # two municipalities have it: ambiguous
    "10 des Érables",  # rue or avenue: ambiguous
    "9999999 rue Victoria",
    "41",
    "' OR 1=1 --", "%", "41 %", "41 _", "41 r%",
    "x" * 5000,
])
def test_geocode_misses(register, text):
    assert addresses.geocode(text) is None


def test_geocode_ignores_trailing_text(register):
    # What follows the street is read as municipality, province, unit…: never as SQL.
    for text in ("41 rue Victoria' OR '1'='1", "41 rue Victoria\x00", "41 rue Victoria, QC"):
        assert addresses.geocode(text) == register["victoria"]
    assert CivicAddress.objects.count() == len(register)


def test_locate_returns_the_point(register):
    assert addresses.locate("75 rue Sainte-Cécile") == (45.255, -74.13)
    assert addresses.locate("76 rue Sainte-Cécile") is None


def test_district_for_point(districts):
    west, east = districts
    assert addresses.district_for_point(45.25, -74.15) == west
    assert addresses.district_for_point(45.25, -74.05) == east
    assert addresses.district_for_point(46.0, -74.05) is None
    assert addresses.district_for_point(None, None) is None


def test_suggest(register):
    labels = [a.label for a in addresses.suggest("41 vic")]
    assert labels == ["41 rue Victoria, Salaberry-de-Valleyfield",
                      "41A rue Victoria, Salaberry-de-Valleyfield"]
    assert [a.label for a in addresses.suggest("41 a rue vic")] == [
        "41A rue Victoria, Salaberry-de-Valleyfield"]
    assert {a.pk for a in addresses.suggest("st laurent")} == {
        register["laurent"].pk, register["laurent_unit"].pk, register["montreal"].pk}
    assert [a.pk for a in addresses.suggest("ste-cé")] == [register["cecile"].pk]
    assert addresses.suggest("vi") == []  # below three characters
    assert addresses.suggest("zzz") == []
    assert addresses.suggest("%%%") == []
    assert len(addresses.suggest("rue", limit=2)) == 2


# --- import ---------------------------------------------------------------------------------

GOOD = """numero;suffixe;odonyme;code_postal;municipalite;latitude;longitude
41;;rue Victoria;J6T 1A1;Salaberry-de-Valleyfield;45.25;-74.15
43;A;rue Victoria;J6T 1A1;Salaberry-de-Valleyfield;45,2502;-74,1502
20;;boul. Mgr-Langlois;;Salaberry-de-Valleyfield;45.26;-74.05
"""

BAD = """numero,rue,municipalite,latitude,longitude
41,rue Victoria,Salaberry-de-Valleyfield,45.25,-74.15
abc,rue Victoria,Salaberry-de-Valleyfield,45.25,-74.15
42,,Salaberry-de-Valleyfield,45.25,-74.15
43,rue Victoria,Salaberry-de-Valleyfield,nord,-74.15
44,rue Victoria,Salaberry-de-Valleyfield,95,-74.15

45,rue Victoria,,45.25,-74.15
46,rue Victoria,Salaberry-de-Valleyfield,45.25,-74.15
"""


def _write(tmp_path, text, name="adresses.csv", encoding="utf-8"):
    path = tmp_path / name
    path.write_bytes(text.encode(encoding))
    return str(path)


def test_import_command_creates_then_updates(districts, tmp_path):
    west, east = districts
    out = io.StringIO()
    call_command("hub", "addresses", "import", _write(tmp_path, GOOD), stdout=out)
    assert "Created 3, updated 0; 0 lines in error" in out.getvalue()
    assert CivicAddress.objects.count() == 3
    langlois = addresses.geocode("20 boulevard Monseigneur-Langlois")
    assert langlois.district == east
    assert addresses.geocode("43A rue Victoria").latitude == pytest.approx(45.2502)
    # Re-import: the same addresses are updated, not duplicated (the point moved east).
    call_command("hub", "addresses", "import",
                 _write(tmp_path, GOOD.replace("45.26;-74.05", "45.26;-74.15")), stdout=out)
    assert "Created 0, updated 3" in out.getvalue()
    assert CivicAddress.objects.count() == 3
    langlois.refresh_from_db()
    assert (langlois.longitude, langlois.district) == (-74.15, west)


def test_import_reports_bad_lines_and_loads_the_others(districts, tmp_path):
    out, err = io.StringIO(), io.StringIO()
    call_command("hub", "addresses", "import", _write(tmp_path, BAD), stdout=out, stderr=err)
    errors = err.getvalue()
    assert "line 3: Le numéro civique «\u00a0abc\u00a0» n’est pas un nombre entier." in errors
    assert "line 4: La rue manque." in errors
    assert "line 5: La latitude et la longitude doivent être des nombres" in errors
    assert "line 6: La latitude et la longitude doivent être des nombres" in errors
    assert "line 8: La municipalité manque" in errors
    assert "5 lines in error" in out.getvalue()
    assert sorted(CivicAddress.objects.values_list("number", flat=True)) == [41, 46]


def test_import_municipality_option(districts, tmp_path):
    out, err = io.StringIO(), io.StringIO()
    call_command("hub", "addresses", "import", _write(tmp_path, BAD),
                 "--municipality", "Salaberry-de-Valleyfield", stdout=out, stderr=err)
    assert 45 in CivicAddress.objects.values_list("number", flat=True)


def test_import_dry_run_writes_nothing(districts, tmp_path):
    out = io.StringIO()
    call_command("hub", "addresses", "import", _write(tmp_path, GOOD), "--dry-run", stdout=out)
    assert "Dry run (nothing written): would create 3, update 0" in out.getvalue()
    assert not CivicAddress.objects.exists()
    add(41, "rue Victoria", 45.25, -74.15)
    call_command("hub", "addresses", "import", _write(tmp_path, GOOD), "--dry-run", stdout=out)
    assert "would create 2, update 1" in out.getvalue()
    assert CivicAddress.objects.count() == 1


def test_import_specific_generic_columns_and_bom(districts, tmp_path):
    text = ("\ufeffNuméro,Générique,Lien,Spécifique,Municipalité,Latitude,Longitude\n"
            "7,rue,du,Marché,Salaberry-de-Valleyfield,45.25,-74.14\n")
    call_command("hub", "addresses", "import", _write(tmp_path, text), stdout=io.StringIO())
    assert addresses.geocode("7 rue du Marche").street == "rue du Marché"


def test_import_refuses_unreadable_files(districts, tmp_path):
    with pytest.raises(CommandError, match=r"must name the columns|doit nommer"):
        call_command("hub", "addresses", "import", _write(tmp_path, "a,b\n1,2\n"))
    with pytest.raises(CommandError, match=r"empty|vide"):
        call_command("hub", "addresses", "import", _write(tmp_path, ""))
    with pytest.raises(CommandError, match="No such file"):
        call_command("hub", "addresses", "import", str(tmp_path / "missing.csv"))
    with pytest.raises(CommandError, match="UTF-8"):  # either language
        call_command("hub", "addresses", "import",
                     _write(tmp_path, GOOD.replace("Cécile", "Cécile") + "1;;rue Léger;;"
                            "Salaberry-de-Valleyfield;45.25;-74.15\n", encoding="cp1252"))
    assert not CivicAddress.objects.exists()
    path = _write(tmp_path, "numero;rue;municipalite;latitude;longitude\n"
                  "1;rue Léger;Salaberry-de-Valleyfield;45.25;-74.15\n", encoding="cp1252")
    call_command("hub", "addresses", "import", path, "--encoding", "cp1252",
                 stdout=io.StringIO())
    assert CivicAddress.objects.get().street == "rue Léger"


def test_import_in_chunks(districts, monkeypatch, django_assert_max_num_queries):
    monkeypatch.setattr(addresses, "CHUNK", 50)
    rows = [(n + 2, {"number": str(n + 1), "street": "rue Victoria",
                     "municipality": "Salaberry-de-Valleyfield", "latitude": "45.25",
                     "longitude": "-74.15"}) for n in range(230)]
    with django_assert_max_num_queries(20):  # 5 chunks: a SELECT and an INSERT each
        result = addresses.import_rows(rows)
    assert (result.created, result.updated, result.errors) == (230, 0, [])
    assert CivicAddress.objects.count() == 230


def test_demo_addresses_fall_in_their_districts(site):
    assert CivicAddress.objects.count() >= 300
    assert not CivicAddress.objects.filter(district__isnull=True).exists()
    for slug, (_postal, streets) in demo_addresses.STREETS.items():
        district = District.objects.get(slug=slug)
        assert set(CivicAddress.objects.filter(district=district)
                   .values_list("street", flat=True)) == set(streets)
    for address in CivicAddress.objects.all()[:50]:
        assert address.district.contains(address.latitude, address.longitude)
    count = CivicAddress.objects.count()
    demo_addresses.load()  # idempotent
    assert CivicAddress.objects.count() == count


# --- the autocomplete endpoint ------------------------------------------------------------

URL = "/fr/adresses/suggestions/"


@pytest.fixture(autouse=True)
def _clear_cache():
    cache.clear()
    yield
    cache.clear()


def test_endpoint_answers_label_point_district(client, register):
    response = client.get(URL, {"q": "75 ste cecile"})
    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    assert response.json() == {"results": [{
        "label": "75 rue Sainte-Cécile, Salaberry-de-Valleyfield", "lat": 45.255,
        "lon": -74.13, "district": "Ouest"}]}


@pytest.mark.parametrize(("query", "status"), [
    ("", 400), ("ab", 400), ("  a   ", 400), ("x" * 201, 400), ("a\x00bc", 400),
    ("<script>alert(1)</script>", 200), ("' OR 1=1 --", 200), ("%%%", 200),
    ("41 rue Victoria; DROP TABLE hub_civicaddress", 200), ("😀😀😀", 200),
])
def test_endpoint_nasty_inputs(client, register, query, status):
    response = client.get(URL, {"q": query})
    assert response.status_code == status
    body = response.json()
    assert body.get("results", []) == []
    assert CivicAddress.objects.count() == len(register)


def test_endpoint_bad_limit_and_method(client, register):
    def count(limit):
        return len(client.get(URL, {"q": "salaberry", "limit": limit}).json()["results"])

    assert (count("x"), count("999"), count("2"), count("-5")) == (8, 9, 2, 1)
    assert client.post(URL, {"q": "rue"}).status_code == 405


@override_settings(HUB_ADDRESS_SUGGESTIONS_PER_MINUTE=5)
def test_endpoint_rate_limited(client, register):
    # The budget is per wall-clock minute: the clock is frozen (a few seconds before a
    # minute boundary), so the requests cannot straddle two windows and flake.
    with freeze_time("2026-03-02 12:00:55") as clock:
        answers = [client.get(URL, {"q": f"{n} rue Victoria"}).status_code
                   for n in range(7)]
        assert answers == [200] * 5 + [429, 429]
        response = client.get(URL, {"q": "41 rue Victoria"}, REMOTE_ADDR="10.0.0.9")
        assert response.status_code == 200  # another client has its own budget
        blocked = client.get(URL, {"q": "rue Victoria"})
        assert blocked["Retry-After"] == "60"
        clock.tick(10)  # the next minute: a new budget
        assert client.get(URL, {"q": "rue Victoria"}).status_code == 200
