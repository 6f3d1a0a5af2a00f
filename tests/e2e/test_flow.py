"""The citizen's whole journey in a real browser (issue 2, item 13)."""

import re

import pytest
from django.core import mail

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True, serialized_rollback=True)]

EMAIL = "nouvelle.citoyenne@example.com"
PASSWORD = "Un-mot-de-passe-solide-2024"
PANELS = ["My requests", "My communications", "Latest news", "My services",
          "Panneau jetable"]


def test_sign_up_confirm_sign_in_mon_espace_sign_out(page, demo_site):
    from playwright.sync_api import expect

    # / redirects by the browser's language (fr-CA) to /fr/.
    page.goto("/")
    expect(page).to_have_url(re.compile(r"/fr/$"))
    expect(page.locator("html")).to_have_attribute("lang", "fr")

    # The header's language link switches to English.
    page.locator("a.lang-switch[hreflang='en']").click()
    expect(page).to_have_url(re.compile(r"/en/$"))
    expect(page.locator("html")).to_have_attribute("lang", "en")

    # Sign up.
    page.get_by_role("link", name="Create an account").click()
    expect(page).to_have_url(re.compile(r"/en/compte/signup/$"))
    page.get_by_label("Email").fill(EMAIL)
    page.locator("input[name=password1]").fill(PASSWORD)
    page.locator("input[name=password2]").fill(PASSWORD)
    page.locator("form.form button[type=submit]").click()
    expect(page).to_have_url(re.compile(r"/confirm-email/$"))

    # The confirmation email, read from the test outbox (the demo also told the demo
    # resident about their request: only this person's mail counts here).
    mine = [m for m in mail.outbox if EMAIL in m.to]
    assert len(mine) == 1, [m.subject for m in mail.outbox]
    message = mine[0]
    assert message.to == [EMAIL]
    links = re.findall(r"https?://\S+/confirm-email/\S+/", message.body)
    assert links, message.body
    page.goto(links[0])
    page.locator("form.form button[type=submit]").click()

    # Sign in.
    expect(page).to_have_url(re.compile(r"/compte/login/"))
    page.locator("input[name=login]").fill(EMAIL)
    page.locator("input[name=password]").fill(PASSWORD)
    page.locator("form.form button[type=submit]").click()

    # Mon Espace, with every enabled module's panel.
    expect(page).to_have_url(re.compile(r"/en/mon-espace/$"))
    for title in PANELS:
        expect(page.get_by_role("heading", level=2, name=title)).to_be_visible()

    # Sign out from the header (allauth may ask to confirm).
    page.locator(".account-nav").get_by_role("button", name="Sign out").click()
    if re.search(r"/compte/logout/$", page.url):
        page.locator("main form button[type=submit]").click()
    # Signed out: back on the English home page, the header offers to sign in again and
    # Mon Espace asks for a login.
    expect(page).to_have_url(re.compile(r"/en/$"))
    expect(page.locator(".account-nav a[href$='/compte/login/']")).to_be_visible()
    expect(page.locator(".account-nav form[action$='/compte/logout/']")).to_have_count(0)
    page.goto("/en/mon-espace/")
    expect(page).to_have_url(re.compile(r"/en/compte/login/\?next="))
