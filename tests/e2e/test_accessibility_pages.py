"""axe-core (wcag2a, wcag2aa, wcag21aa, wcag22aa) on the public templates, in French and
English (issue 12, item 16): the report wizard's steps with and without errors, the
confirmation, Mes requêtes, a request page, the public map, the alerts' index, archive,
detail and subscription (with errors), a bad link, the news index and a news page, the
services directory, search, and the error pages (404, 403, 500 through the site's
handlers, CSRF failure).

One test per language and group of pages (the demo loads once per test): every page of the
group is checked and the failure lists all the pages with a violation, not the first."""

from __future__ import annotations

import pytest

from tests.conftest import make_user
from tests.e2e.test_accessibility import AXE_OPTIONS, sign_in

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True, serialized_rollback=True)]

LANGUAGES = ["fr", "en"]
TILES = "/static/leaflet/images/layers.png?{z}/{x}/{y}"


def axe_report(page, where: str) -> str:
    from axe_playwright_python.sync_playwright import Axe

    assert page.locator("html").get_attribute("lang"), where
    results = Axe().run(page, options=AXE_OPTIONS)
    if results.violations_count == 0:
        return ""
    return f"--- {where}: {results.violations_count} violation(s)\n{results.generate_report()}"


def visit(page, path: str, status: int = 200) -> None:
    response = page.goto(path)
    assert response is not None and response.status == status, (path, response.status)


def check_all(page, checks) -> None:
    """``checks``: (name, callable that leaves the page to check) pairs."""
    reports = []
    for name, go in checks:
        go()
        reports.append(axe_report(page, f"{name} ({page.url})"))
    failures = [r for r in reports if r]
    assert not failures, "\n".join(failures)


def url(name: str, lang: str, *args) -> str:
    from django.urls import reverse
    from django.utils import translation

    with translation.override(lang):
        return reverse(name, args=args)


@pytest.fixture
def resident(context, demo_site, settings):
    settings.REQUETES_MAP_TILES_URL = TILES
    user = make_user("axe.resident@example.com", first_name="Axelle", last_name="Côté")
    sign_in(context, demo_site, user)
    return user


@pytest.mark.parametrize("lang", LANGUAGES)
def test_report_wizard_and_requests_pages(page, resident, lang):
    from modules.requetes import services
    from modules.requetes.models import Category

    eclairage = Category.objects.get(service_code="eclairage")
    created = services.create_request(actor=resident, category=eclairage,
                                      description="Lampadaire éteint.",
                                      latitude="45.2556", longitude="-74.1320")
    report = url("requetes:report", lang, "eclairage")

    def step3_with_errors():
        visit(page, f"{report}?latitude=45.2556&longitude=-74.1320")
        page.locator("form[enctype='multipart/form-data'] button[type=submit]").click()
        page.locator(".error-summary").wait_for()

    check_all(page, [
        ("requests index", lambda: visit(page, url("requetes:index", lang))),
        ("step 1", lambda: visit(page, url("requetes:choose_category", lang))),
        ("step 1, no match", lambda: visit(
            page, url("requetes:choose_category", lang) + "?q=zzzz")),
        ("step 2", lambda: visit(page, report)),
        ("step 2 with errors", lambda: visit(page, f"{report}?latitude=abc&longitude=xyz")),
        ("step 3", lambda: visit(page, f"{report}?latitude=45.2556&longitude=-74.1320")),
        ("step 3 with errors", step3_with_errors),
        ("confirmation", lambda: visit(
            page, url("requetes:confirmation", lang, created.reference))),
        ("Mes requêtes", lambda: visit(page, url("requetes:mine", lang))),
        ("request page", lambda: visit(page, url("requetes:detail", lang, created.reference))),
        ("public map", lambda: visit(page, url("requetes:public_map", lang))),
    ])


@pytest.mark.parametrize("lang", LANGUAGES)
def test_alerts_pages(page, resident, lang):
    from modules.alertes.models import Alert

    alert = Alert.objects.filter(status="sent").order_by("-pk").first()
    assert alert is not None, "the demo sends alerts"
    subscription = url("alertes:subscription", lang)

    def subscription_with_errors():
        visit(page, subscription)
        form = page.locator("form:has(input[name=action][value=add_address])")
        form.locator("select[name=channel]").select_option("email")
        form.locator("input[name=value]").fill("pas-un-courriel")
        form.evaluate("f => f.noValidate = true")
        form.locator("button[type=submit]").click()
        page.locator(".error-summary").first.wait_for()

    check_all(page, [
        ("alerts index", lambda: visit(page, url("alertes:index", lang))),
        ("alerts archive", lambda: visit(page, url("alertes:archive", lang))),
        ("alert detail", lambda: visit(page, url("alertes:detail", lang, alert.pk))),
        ("subscription", lambda: visit(page, subscription)),
        ("messages received", lambda: visit(page, url("alertes:messages", lang))),
        ("subscription with errors", subscription_with_errors),
        ("bad verification link", lambda: visit(
            page, url("alertes:verify_email", lang, "pas-un-jeton"), 400)),
    ])


@pytest.mark.parametrize("lang", LANGUAGES)
def test_content_pages(page, demo_site, lang):
    from modules.actualites.models import NewsIndexPage, NewsPage

    index = NewsIndexPage.objects.live().filter(locale__language_code=lang).first()
    news = NewsPage.objects.live().filter(locale__language_code=lang).first()
    check_all(page, [
        ("home", lambda: visit(page, f"/{lang}/")),
        ("news index", lambda: visit(page, index.url)),
        ("news page", lambda: visit(page, news.url)),
        ("services directory", lambda: visit(page, url("liens_services:index", lang))),
        ("search", lambda: visit(page, url("hub:search", lang) + "?q=collecte")),
        ("search, nothing found", lambda: visit(page, url("hub:search", lang) + "?q=zzzzqq")),
    ])


@pytest.mark.parametrize("lang", LANGUAGES)
def test_error_pages(page, resident, demo_site, settings, lang):
    settings.ROOT_URLCONF = "tests.e2e.error_urls"
    def csrf_failure():
        # A form of this site posted without its CSRF token (a forged or stale page).
        visit(page, f"/{lang}/")
        page.evaluate("""action => { const f = document.createElement('form');
            f.method = 'post'; f.action = action; document.body.append(f); f.submit(); }""",
                      url("alertes:subscription", lang))
        page.wait_for_load_state()

    check_all(page, [
        ("404", lambda: visit(page, f"/{lang}/cette-page-nexiste-pas/", 404)),
        ("CSRF failure", csrf_failure),
        ("403", lambda: visit(page, f"/{lang}/e2e/interdit/", 403)),
        ("500", lambda: visit(page, f"/{lang}/e2e/erreur/", 500)),
    ])
