"""The report form's Leaflet map in a real browser: clicking the map, or pressing Enter
on the focused map, fills latitude and longitude; the fields stay usable."""

import pytest

from tests.conftest import make_user

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True, serialized_rollback=True)]

PASSWORD = "Un-mot-de-passe-solide-2024"


def test_map_fills_the_coordinates(page, demo_site, settings):
    from playwright.sync_api import expect

    # Tiles from this site (any image will do): the test never reaches the Internet.
    settings.REQUETES_MAP_TILES_URL = "/static/leaflet/images/layers.png?{z}/{x}/{y}"
    make_user("carte@example.com", password=PASSWORD)
    page.goto("/fr/compte/login/")
    page.locator("input[name=login]").fill("carte@example.com")
    page.locator("input[name=password]").fill(PASSWORD)
    page.locator("form.form button[type=submit]").click()
    page.wait_for_url("**/mon-espace/")

    page.goto("/fr/requetes/nouvelle/eclairage/")
    map_box = page.locator("#report-map")
    expect(map_box).to_be_visible()
    expect(map_box).to_have_attribute("role", "application")
    assert map_box.get_attribute("aria-label")
    latitude, longitude = page.locator("#id_latitude"), page.locator("#id_longitude")
    expect(latitude).to_have_value("")

    box = map_box.bounding_box()
    map_box.click(position={"x": box["width"] / 2 + 30, "y": box["height"] / 2 - 20})
    expect(latitude).not_to_have_value("")
    lat, lon = float(latitude.input_value()), float(longitude.input_value())
    assert 45.18 <= lat <= 45.33 and -74.25 <= lon <= -73.98
    expect(page.locator(".leaflet-marker-icon")).to_have_count(1)
    expect(page.locator("#map-status")).to_contain_text(latitude.input_value())

    # Keyboard: focus the map, Enter puts the pin at its centre.
    map_box.focus()
    page.keyboard.press("ArrowLeft")
    page.keyboard.press("Enter")
    expect(latitude).not_to_have_value(str(lat))
    # Typing coordinates moves the pin (the fields are the source of truth).
    latitude.fill("45.2556")
    longitude.fill("-74.1320")
    longitude.dispatch_event("change")
    page.locator("form[method=get] button[type=submit]").click()
    expect(page.locator("#id_latitude")).to_have_value("45.2556")
    expect(page.locator("#report-map")).to_be_visible()
