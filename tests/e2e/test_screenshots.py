"""Screenshots of the portal (issue 13, "a portal a city would show off"): the home page,
a request page, the dashboard and the requests queue, at 1280 px and 375 px, from the
demo served by the live server, in French.

With ``HUB_SCREENSHOTS=1`` the PNGs are written to ``docs/screenshots/`` (run once to
refresh the committed pictures); otherwise to a temporary directory.  Either way the test
checks what the pictures are meant to show: the home's search box, tiles, news cards
with their images loaded and the alerts in force; the request's status chip, timeline,
photo gallery (the requester's) and department; the queue's labelled filters; and, on
the public pages at 375 px, no horizontal scrolling (reflow)."""

from __future__ import annotations

import io
import os
from pathlib import Path

import pytest

from tests.e2e.test_accessibility import sign_in

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True, serialized_rollback=True)]

WIDTHS = {"1280": (1280, 900), "375": (375, 812)}
DOCS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"


def road_photo(seed: int) -> bytes:
    """A plausible picture of a pothole (asphalt, a dark hole, a painted line)."""
    import random

    from PIL import Image, ImageDraw, ImageFilter

    rng = random.Random(seed)
    picture = Image.new("RGB", (800, 600), (96, 98, 102))
    draw = ImageDraw.Draw(picture)
    for _ in range(6000):
        x, y, shade = rng.randint(0, 799), rng.randint(0, 599), rng.randint(70, 130)
        draw.point((x, y), fill=(shade, shade, shade + 3))
    draw.polygon([(560 + seed * 20, 0), (620 + seed * 20, 0), (700, 600), (640, 600)],
                 fill=(236, 200, 60))
    draw.ellipse([180 + seed * 30, 230, 470 + seed * 30, 410], fill=(38, 36, 34))
    draw.ellipse([220 + seed * 30, 260, 430 + seed * 30, 380], fill=(58, 62, 66))
    out = io.BytesIO()
    picture.filter(ImageFilter.SMOOTH).save(out, "JPEG", quality=85)
    return out.getvalue()


@pytest.fixture
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


@pytest.fixture
def shots(tmp_path):
    if os.environ.get("HUB_SCREENSHOTS") == "1":
        DOCS.mkdir(parents=True, exist_ok=True)
        return DOCS
    return tmp_path


def a_request_with_history():
    """The demo resident's pothole, answered by the roads department over a few days,
    with the two photos the resident sent."""
    from django.contrib.auth import get_user_model
    from django.core.files.uploadedfile import SimpleUploadedFile

    from modules.requetes import services
    from modules.requetes.models import Category

    users = get_user_model().objects
    resident = users.get(email="resident@example.com")
    admin = users.get(email="admin@example.com")
    photos = [SimpleUploadedFile(f"nid-de-poule-{n}.jpg", road_photo(n), "image/jpeg")
              for n in (1, 2)]
    created = services.create_request(
        actor=resident, category=Category.objects.get(service_code="voirie"),
        description="Nid-de-poule d’environ 40 cm devant le 120, rue Saint-Laurent, dans "
                    "la voie de droite. Les voitures font un écart pour l’éviter.",
        latitude="45.2530", longitude="-74.1335", address="120, rue Saint-Laurent",
        answers={"largeur_cm": "40"}, photos=photos)
    services.transition(created, actor=admin, to_status="acknowledged",
                        public_message="Merci ! Le service des travaux publics a reçu "
                                       "votre signalement.")
    services.transition(created, actor=admin, to_status="in_progress",
                        public_message="Une équipe passera cette semaine pour le colmater.")
    return resident, admin, created


def an_alert_in_force() -> None:
    """The demo's alerts went out days ago and have expired: the latest one is kept in
    force a day longer, as a snow-removal or water notice would be while it lasts."""
    import datetime

    from django.utils import timezone

    from modules.alertes.models import Alert

    if Alert.objects.active().exists():
        return
    latest = (Alert.objects.filter(status=Alert.Status.SENT).exclude(kind=Alert.Kind.CANCEL)
              .order_by("-sent_at").first())
    assert latest is not None, "the demo sends alerts"
    Alert.objects.filter(pk=latest.pk).update(
        expires_at=timezone.now() + datetime.timedelta(days=1))


def whole_admin_page(page, path, width: int) -> None:
    """Wagtail's admin scrolls inside its layout, not the document: the viewport is made
    as tall as the content so the picture shows the whole page."""
    page.set_viewport_size({"width": width, "height": WIDTHS[str(width)][1]})
    page.goto(path)
    page.wait_for_load_state("networkidle")
    height = page.evaluate(
        "() => Math.max(...[...document.querySelectorAll('body, main, #main, .content-wrapper,"
        " .w-main')].map(e => e.scrollHeight))")
    page.set_viewport_size({"width": width, "height": min(max(height, 600), 6000)})


def no_horizontal_scroll(page) -> bool:
    return page.evaluate(
        "() => document.documentElement.scrollWidth <= window.innerWidth")


def test_screenshots_of_the_portal(media, shots, browser, demo_site, settings):
    from django.urls import reverse
    from playwright.sync_api import expect

    # The pictures show the city's modules, not the test suite's throwaway one.
    settings.HUB_DISABLED_MODULES = ["throwaway"]
    resident, admin, created = a_request_with_history()
    an_alert_in_force()
    detail = f"/fr/requetes/{created.reference}/"
    problems = []

    for name, (width, height) in WIDTHS.items():
        public = browser.new_context(locale="fr-CA", base_url=demo_site.url,
                                     viewport={"width": width, "height": height})
        staff = browser.new_context(locale="fr-CA", base_url=demo_site.url,
                                    viewport={"width": width, "height": height})
        try:
            page = public.new_page()
            page.goto("/fr/")
            expect(page.locator("form[role=search] input[name=q]")).to_be_visible()
            expect(page.locator(".tiles .tile")).not_to_have_count(0)
            cards = page.locator(".home-section--news .card")
            expect(cards).to_have_count(3)
            images = page.locator(".home-section--news img.card__image")
            expect(images).to_have_count(3)
            images.last.scroll_into_view_if_needed()
            page.wait_for_function(
                "() => [...document.querySelectorAll('.home-section--news img')]"
                ".every(img => img.complete && img.naturalWidth > 0)")
            expect(page.locator(".home-section--alerts .alert-item")).not_to_have_count(0)
            if name == "375" and not no_horizontal_scroll(page):
                problems.append("home scrolls sideways at 375 px")
            page.screenshot(path=shots / f"home-{name}.png", full_page=True)

            sign_in(public, demo_site, resident)
            page.goto(detail)
            expect(page.locator(".page-head .chip--in_progress")).to_be_visible()
            expect(page.locator("ol.timeline > li")).to_have_count(3)
            expect(page.locator(".gallery img")).to_have_count(2)
            page.wait_for_function(
                "() => [...document.querySelectorAll('.gallery img')]"
                ".every(img => img.complete && img.naturalWidth > 0)")
            expect(page.locator(".department-contact")).to_be_visible()
            if name == "375" and not no_horizontal_scroll(page):
                problems.append("request page scrolls sideways at 375 px")
            page.screenshot(path=shots / f"request-{name}.png", full_page=True)

            sign_in(staff, demo_site, admin)
            admin_page = staff.new_page()
            whole_admin_page(admin_page, reverse("requetes_dashboard:index"), width)
            expect(admin_page.locator("h1")).to_be_visible()
            admin_page.screenshot(path=shots / f"dashboard-{name}.png", full_page=True)

            whole_admin_page(admin_page, reverse("requetes_admin:queue"), width)
            filters = admin_page.locator("form.rq-filters")
            for field in ("q", "status", "category", "sort"):
                expect(filters.locator(f"label[for={field}]")).to_be_visible()
            expect(filters.locator("fieldset legend")).to_be_visible()
            expect(admin_page.locator(".rq-table .rq-chip").first).to_be_visible()
            admin_page.screenshot(path=shots / f"queue-{name}.png", full_page=True)
        finally:
            public.close()
            staff.close()

    assert not problems, problems
    for page_name in ("home", "request", "dashboard", "queue"):
        for name in WIDTHS:
            assert (shots / f"{page_name}-{name}.png").stat().st_size > 10_000
