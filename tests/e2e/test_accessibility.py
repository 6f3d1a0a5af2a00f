"""Accessibility in a real browser (issue 2, item 15): axe-core through
axe-playwright-python on the hub's pages, in French and English, must find nothing."""

import pytest

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True, serialized_rollback=True)]

AXE_OPTIONS = {"runOnly": {"type": "tag",
                           "values": ["wcag2a", "wcag2aa", "wcag21aa", "wcag22aa"]}}
LANGUAGES = ["fr", "en"]
PUBLIC_PAGES = {"home": "/{lang}/", "sign-up": "/{lang}/compte/signup/",
                "sign-in": "/{lang}/compte/login/"}
PRIVATE_PAGES = {"profile": "/{lang}/compte/profil/", "mon-espace": "/{lang}/mon-espace/"}


def assert_no_violations(page, where):
    from axe_playwright_python.sync_playwright import Axe

    results = Axe().run(page, options=AXE_OPTIONS)
    assert results.violations_count == 0, (
        f"axe found {results.violations_count} violation(s) on {where}:\n"
        + results.generate_report())


def open_page(page, path, lang):
    response = page.goto(path)
    assert response is not None and response.ok, (path, response and response.status)
    assert page.locator("html").get_attribute("lang") == lang


@pytest.mark.parametrize("lang", LANGUAGES)
@pytest.mark.parametrize("name", PUBLIC_PAGES)
def test_public_page_has_no_axe_violation(page, lang, name):
    path = PUBLIC_PAGES[name].format(lang=lang)
    open_page(page, path, lang)
    assert_no_violations(page, path)


@pytest.mark.parametrize("lang", LANGUAGES)
@pytest.mark.parametrize("name", PRIVATE_PAGES)
def test_signed_in_page_has_no_axe_violation(page, context, demo_site, lang, name):
    from tests.conftest import make_user

    user = make_user("axe@example.com", first_name="Axelle", last_name="Côté")
    sign_in(context, demo_site, user)
    path = PRIVATE_PAGES[name].format(lang=lang)
    open_page(page, path, lang)
    assert_no_violations(page, path)


@pytest.mark.parametrize("lang", LANGUAGES)
def test_sign_up_errors_have_no_axe_violation(page, lang):
    """A sign-up with errors: the error summary and the fields' errors stay accessible."""
    path = f"/{lang}/compte/signup/"
    open_page(page, path, lang)
    page.locator("input[name=email]").fill("pas-une-adresse")
    page.locator("input[name=password1]").fill("court")
    page.locator("input[name=password2]").fill("different")
    # Let the server validate (the browser's own validation would stop the submit).
    page.locator("form.form").evaluate("form => form.noValidate = true")
    page.locator("form.form button[type=submit]").click()
    summary = page.locator(".error-summary")
    summary.wait_for()
    assert summary.locator("li").count() >= 1
    assert_no_violations(page, f"{path} (with errors)")


def test_home_page_fits_320px_without_horizontal_scroll(page):
    page.set_viewport_size({"width": 320, "height": 640})
    open_page(page, "/fr/", "fr")
    scroll_width = page.evaluate("document.documentElement.scrollWidth")
    assert scroll_width <= 320, f"the home page is {scroll_width}px wide at 320px"


def sign_in(context, live_server, user):
    """Give the browser a session for ``user`` without going through the form."""
    from django.conf import settings
    from django.test import Client

    client = Client()
    client.force_login(user)
    cookie = client.cookies[settings.SESSION_COOKIE_NAME]
    host = live_server.url.split("://", 1)[1].split(":")[0]
    context.add_cookies([{"name": cookie.key, "value": cookie.value, "domain": host,
                          "path": "/"}])


@pytest.mark.parametrize(("lang", "other", "label"), [("fr", "en", "English"),
                                                      ("en", "fr", "français")])
def test_language_link_is_named_in_its_own_language(page, lang, other, label):
    open_page(page, f"/{lang}/", lang)
    link = page.locator(f"a.lang-switch[hreflang='{other}']")
    assert link.get_attribute("lang") == other
    assert link.inner_text().strip() == label


def test_skip_link_is_the_first_stop_and_reaches_main(page):
    open_page(page, "/fr/", "fr")
    page.keyboard.press("Tab")
    focused = page.evaluate("document.activeElement.getAttribute('href')")
    assert focused == "#main"
    assert page.locator("a.skip-link").is_visible()
    page.keyboard.press("Enter")
    assert page.evaluate("document.activeElement.id") == "main"


def test_error_summary_takes_the_focus(page):
    open_page(page, "/fr/compte/login/", "fr")
    page.locator("form.form").evaluate("form => form.noValidate = true")
    page.locator("form.form button[type=submit]").click()
    page.locator(".error-summary").wait_for()
    assert page.evaluate("document.activeElement.className") == "error-summary"
