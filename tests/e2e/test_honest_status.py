"""Issue 13, item 2 ("success shown where nothing happened"), in Debian's Chromium:

* a resident adding a mobile number on a server without an SMS provider is told the
  code could not be sent, and why — not "Nous avons envoyé un code";
* an emergency sent through the real service (the officer's "send now" on the report)
  to residents whose SMS and calls a local Twilio-like server refuses: the report and
  the alert lists say "Envoyé avec 6 échecs", per channel, with the reasons in French.
"""

import re

import pytest

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True, serialized_rollback=True)]

NBSP = "\u00a0"


def sign_in(context, live_server, user):
    from django.conf import settings
    from django.test import Client

    client = Client()
    client.force_login(user)
    cookie = client.cookies[settings.SESSION_COOKIE_NAME]
    host = live_server.url.split("://", 1)[1].split(":")[0]
    context.add_cookies([{"name": cookie.key, "value": cookie.value, "domain": host,
                          "path": "/"}])


@pytest.fixture
def fr_context(browser, live_server, settings):
    settings.BASE_URL = live_server.url
    ctx = browser.new_context(locale="fr-CA", base_url=live_server.url)
    ctx.set_default_timeout(15_000)
    yield ctx
    ctx.close()


def test_a_subscription_without_a_provider_says_the_code_could_not_be_sent(
        fr_context, live_server, settings):
    from playwright.sync_api import expect

    from modules.alertes.models import Address
    from tests.conftest import make_user

    settings.ALERTES_SANDBOX = False  # no test box either: nothing can take the code
    for name in ("ALERTES_TWILIO_ACCOUNT_SID", "ALERTES_TWILIO_AUTH_TOKEN",
                 "ALERTES_TWILIO_FROM", "ALERTES_TWILIO_MESSAGING_SERVICE_SID"):
        setattr(settings, name, "")
    resident = make_user("mobile@example.com", first_name="Léa", last_name="Gagnon")
    sign_in(fr_context, live_server, resident)
    page = fr_context.new_page()
    page.goto("/fr/alertes/abonnement/")
    form = page.locator("form", has=page.locator("input[name=action][value=add_address]"))
    form.locator("select[name=channel]").select_option("sms")
    form.locator("input[name=value]").fill("450 555-1234")
    form.locator("button[type=submit]").click()
    page.wait_for_load_state()
    expect(page.get_by_text(re.compile("Le code n’a pas pu être envoyé"))).to_be_visible()
    body = page.locator("body").inner_text()
    assert f"Le code n’a pas pu être envoyé{NBSP}: Aucun fournisseur SMS n’est configuré." \
        in body
    assert "Nous avons envoyé" not in body
    assert Address.objects.get(channel="sms").verified_at is None
    page.close()


def test_an_alert_with_failed_channels_shows_its_failures(fr_context, live_server, settings):
    from playwright.sync_api import expect

    from modules.alertes.models import Alert, Delivery
    from modules.alertes.roles import COMMUNICATIONS_OFFICERS
    from tests.alertes.conftest import SID, TOKEN, FakeTwilio, make_subscriber
    from tests.conftest import make_user

    twilio = FakeTwilio()
    twilio.mode = "invalid"  # HTTP 400, Twilio 21211, for every text and call
    settings.ALERTES_TWILIO_BASE_URL = twilio.url
    settings.ALERTES_TWILIO_ACCOUNT_SID = SID
    settings.ALERTES_TWILIO_AUTH_TOKEN = TOKEN
    settings.ALERTES_TWILIO_FROM = "+14505550000"
    settings.ALERTES_RATE_LIMITS = {"sms_long_code": None, "voice": None}
    try:
        for n in range(3):
            make_subscriber(email=f"r{n}@example.com", sms=f"+1450555000{n}",
                            voice=f"+1450555100{n}")
        officer = make_user("communications@example.com", is_staff=True,
                            groups=[COMMUNICATIONS_OFFICERS])
        alert = Alert.objects.create(title_fr="Fuite de gaz", body_fr="Évacuez la rue.",
                                     sms_fr="Fuite de gaz: evacuez", severity="emergency",
                                     channels=["email"], created_by=officer)
        sign_in(fr_context, live_server, officer)
        page = fr_context.new_page()
        page.goto(f"/admin/alertes/{alert.pk}/rapport/")
        # Before sending: the override is shown (only "Courriel" was ticked).
        plan = page.locator("[data-sending-plan]")
        expect(plan).to_contain_text(f"Urgence{NBSP}: envoyée sur tous les canaux")
        expect(plan).to_contain_text(f"Cases cochées{NBSP}: Courriel")
        page.get_by_role("button", name="Envoyer l’urgence maintenant").click()
        page.wait_for_load_state()

        rows = dict(Delivery.objects.filter(alert=alert).values_list("channel", "status")
                    .order_by("channel").distinct())
        assert set(rows) == {"email", "sms", "voice"}
        assert Delivery.objects.filter(alert=alert, status="failed").count() == 6
        assert len(twilio.requests) == 6  # the real service called the provider

        page.goto(f"/admin/alertes/{alert.pk}/rapport/")
        summary = page.locator("[data-sending-summary]")
        expect(summary).to_contain_text("Envoyé avec 6 échecs")
        expect(summary).to_contain_text("3 échecs")
        header = page.locator(".nice-padding > p").first
        expect(header).to_contain_text("Envoyé avec 6 échecs")
        body = page.locator("body").inner_text()
        assert "Twilio l’a refusé (HTTP 400, erreur 21211)" in body
        assert "Courriel" in body and "Appel téléphonique" in body

        page.goto("/admin/alertes/envois/")
        row = page.locator("tr", has=page.get_by_role("link", name="Fuite de gaz"))
        expect(row).to_contain_text("Envoyé avec 6 échecs")
        expect(row).not_to_contain_text(re.compile(r"^\s*Envoyé\s*$"))

        page.goto("/admin/snippets/alertes/alert/")
        expect(page.locator("tr", has_text="Fuite de gaz")).to_contain_text(
            "Envoyé avec 6 échecs")
        page.goto(f"/admin/snippets/alertes/alert/edit/{alert.pk}/")
        expect(page.locator("[data-sending-summary]")).to_contain_text("Envoyé avec 6 échecs")
        page.close()
    finally:
        twilio.stop()


def test_choosing_emergency_ticks_and_locks_every_channel(fr_context, live_server, settings):
    """The emergency override, visible before sending: on the compose screen, choosing
    "Urgence" ticks and locks every channel box (an emergency goes out on all of them);
    another severity gives the officer's own ticks back."""
    from playwright.sync_api import expect

    from modules.alertes.roles import COMMUNICATIONS_OFFICERS
    from tests.conftest import make_user

    officer = make_user("communications@example.com", is_staff=True,
                        groups=[COMMUNICATIONS_OFFICERS])
    sign_in(fr_context, live_server, officer)
    page = fr_context.new_page()
    page.goto("/admin/snippets/alertes/alert/add/")
    boxes = page.locator("input[type=checkbox][name=channels]")
    expect(boxes.first).to_be_enabled()
    count = boxes.count()
    assert count >= 4
    boxes.first.check()
    page.locator("select[name=severity]").select_option("emergency")
    for n in range(count):
        expect(boxes.nth(n)).to_be_checked()
        expect(boxes.nth(n)).to_be_disabled()
    page.locator("select[name=severity]").select_option("info")
    expect(boxes.first).to_be_enabled()
    expect(boxes.first).to_be_checked()
    expect(boxes.nth(1)).not_to_be_checked()
    expect(page.locator("[data-sending-plan]")).to_contain_text(
        "Une urgence part sur tous les canaux")
    page.close()
