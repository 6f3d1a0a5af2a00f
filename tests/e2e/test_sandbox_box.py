"""Issue 13, "every channel visible without a provider", in Debian's Chromium: an
emergency sent through the real service on a server with no SMS, voice or push provider
shows, in the admin's "Boîte de test", the SMS and the call each resident would have
received (one phone per recipient), and the resident's "Messages reçus" shows their own.
"""

import os

import pytest

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True, serialized_rollback=True)]


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


def test_the_test_box_shows_an_emergency_sent_without_providers(
        fr_context, live_server, settings):
    from playwright.sync_api import expect

    from hub.roles import ADMINISTRATORS
    from modules.alertes import services
    from modules.alertes.models import Alert, Delivery, SandboxMessage, Topic
    from tests.alertes.conftest import make_subscriber
    from tests.conftest import make_user

    settings.ALERTES_SANDBOX = True
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    for name in ("ALERTES_TWILIO_ACCOUNT_SID", "ALERTES_TWILIO_AUTH_TOKEN",
                 "ALERTES_TWILIO_FROM", "ALERTES_VAPID_PRIVATE_KEY"):
        setattr(settings, name, "")
    urgences, _ = Topic.objects.get_or_create(slug="urgences", defaults={
        "name_fr": "Urgences", "name_en": "Emergencies", "is_emergency": True})
    resident = make_user("lea@example.com", first_name="Léa")
    make_subscriber(user=resident, sms="+14505557001", voice="+14505557002",
                    topics=[urgences])
    make_subscriber(sms="+14505558001", topics=[urgences])
    officer = make_user("officier@example.com", is_staff=True, is_superuser=False,
                        groups=[ADMINISTRATORS])
    alert = Alert.objects.create(
        severity="emergency", channels=["sms", "voice"], created_by=officer,
        title_fr="Bris d’aqueduc", body_fr="Coupure d’eau rue Victoria.",
        sms_fr="Bris d'aqueduc: coupure d'eau rue Victoria",
        voice_fr="Bris d’aqueduc. Coupure d’eau rue Victoria jusqu’à midi.")
    alert.topics.set([urgences])
    services.send(alert, officer)  # the worker task runs at commit (immediate backend)
    assert set(Delivery.objects.filter(alert=alert).values_list("status", flat=True)) \
        == {"sent"}
    assert SandboxMessage.objects.count() == 3

    sign_in(fr_context, live_server, officer)
    page = fr_context.new_page()
    page.goto("/admin/")
    page.get_by_role("link", name="Boîte de test").first.click()
    expect(page.get_by_role("heading", name="Boîte de test").first).to_be_visible()
    phone = page.locator("section.sandbox-phone", has=page.get_by_role(
        "heading", name="+14505557001"))
    expect(phone).to_be_visible()
    expect(phone.get_by_text("Bris d'aqueduc: coupure d'eau rue Victoria")).to_be_visible()
    call = page.locator("section.sandbox-phone", has=page.get_by_role(
        "heading", name="+14505557002"))
    expect(call.locator(".sandbox-message__body")).to_have_text(
        "Bris d’aqueduc. Coupure d’eau rue Victoria jusqu’à midi.")
    expect(call.get_by_text("Lu à voix haute en fr-CA")).to_be_visible()
    expect(page.locator("section.sandbox-phone")).to_have_count(3)
    if os.environ.get("HUB_SCREENSHOTS"):  # as tests/e2e/test_screenshots.py
        page.screenshot(path=str(settings.BASE_DIR / "docs" / "screenshots"
                                 / "boite-de-test-1280.png"), full_page=True)

    resident_context = fr_context.browser.new_context(locale="fr-CA",
                                                       base_url=live_server.url)
    try:
        sign_in(resident_context, live_server, resident)
        mine = resident_context.new_page()
        mine.goto("/fr/alertes/messages-recus/")
        expect(mine.get_by_role("heading", name="Messages reçus")).to_be_visible()
        expect(mine.get_by_text("Bris d'aqueduc: coupure d'eau rue Victoria")).to_be_visible()
        expect(mine.get_by_text("+14505558001")).to_have_count(0)
    finally:
        resident_context.close()
