"""The report form's address field in a real browser (Chromium, as in tests/e2e): typing
asks the autocomplete endpoint, the suggestions fill a <datalist>, and choosing one fills
latitude/longitude and moves the map's pin.  Skipped without /usr/bin/chromium."""

import pytest

from tests.conftest import make_user
from tests.e2e.conftest import CHROMIUM, REQUIRED, browser, context, demo_site, page  # noqa: F401

pytestmark = [
    pytest.mark.e2e, pytest.mark.django_db(transaction=True, serialized_rollback=True),
    pytest.mark.skipif(not CHROMIUM.exists() and not REQUIRED, reason="no Chromium"),
]

PASSWORD = "Un-mot-de-passe-solide-2024"


def test_address_autocomplete_moves_the_pin(page, demo_site, settings):  # noqa: F811
    from playwright.sync_api import expect

    from hub.models import CivicAddress

    settings.REQUETES_MAP_TILES_URL = "/static/leaflet/images/layers.png?{z}/{x}/{y}"
    target = CivicAddress.objects.get(number=41, street="rue Victoria")
    make_user("adresse@example.com", password=PASSWORD)
    page.goto("/fr/compte/login/")
    page.locator("input[name=login]").fill("adresse@example.com")
    page.locator("input[name=password]").fill(PASSWORD)
    page.locator("form.form button[type=submit]").click()
    page.wait_for_url("**/mon-espace/")

    page.goto("/fr/requetes/nouvelle/eclairage/")
    address = page.locator("#id_address")
    expect(address).to_have_attribute("list", "id_address-suggestions-0")
    address.press_sequentially("41 rue vic", delay=30)
    options = page.locator("#id_address-suggestions-0 option")
    expect(options.first).to_have_attribute("value", target.label)
    expect(page.locator(".leaflet-marker-icon")).to_have_count(0)

    address.fill(target.label)  # what choosing the suggestion does
    latitude, longitude = page.locator("#id_latitude"), page.locator("#id_longitude")
    expect(latitude).to_have_value(f"{target.latitude:.6f}")
    expect(longitude).to_have_value(f"{target.longitude:.6f}")
    expect(page.locator(".leaflet-marker-icon")).to_have_count(1)

    page.locator("form[method=get] button[type=submit]").click()
    expect(page.locator("textarea[name=description]")).to_be_visible()
    expect(page.locator("#id_address")).to_have_value(target.label)
