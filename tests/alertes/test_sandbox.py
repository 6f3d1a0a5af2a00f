"""The sandbox channel (issue 13): with no SMS, voice or push provider configured, those
channels write each message to the test box instead of failing; the admin's "Boîte de
test" and the resident's "Messages reçus" show them; production refuses the sandbox.

Alerts go through the real send path (``services.send``, the outbox, the worker task
run by the immediate task backend on commit), email through a real local SMTP server.
"""

import re

import pytest
from django.core.management import call_command
from django.core.management.base import SystemCheckError
from django.test import Client

from modules.alertes import services
from modules.alertes.channels import available_channels, sandbox
from modules.alertes.models import Address, Alert, Delivery, SandboxMessage
from tests.conftest import make_user

from .conftest import make_subscriber

pytestmark = pytest.mark.django_db

PUSH_ENDPOINT = "https://fcm.googleapis.com/fcm/send/appareil-de-test"
PUSH_KEYS = {"p256dh": "BPcMbnWQL5GOYX_5pTXq3SqcT8v7v3jXh3bHcBfnMFUoGA2wsC5aZ4V9u0kK2WxV"
                       "bR6HuyAHkFszR2bLh9Z1pGc", "auth": "8eDyX_uCN0XRhSbY5hs7Hg"}
BOX = "/admin/alertes/boite-de-test/"
RECEIVED = "/fr/alertes/messages-recus/"


@pytest.fixture
def sandbox_on(settings):
    settings.ALERTES_SANDBOX = True
    for name in ("ALERTES_TWILIO_ACCOUNT_SID", "ALERTES_TWILIO_AUTH_TOKEN",
                 "ALERTES_TWILIO_FROM", "ALERTES_VAPID_PRIVATE_KEY"):
        setattr(settings, name, "")
    return settings


@pytest.fixture
def residents(topics):
    """Resident A (every channel) and resident B (a mobile number), both with accounts."""
    alice = make_user("alice@example.com")
    bob = make_user("bob@example.com")
    a = make_subscriber(user=alice, email="alice@example.com", sms="+14505551001",
                        voice="+14505551002", topics=[topics["urgences"]])
    a.addresses.create(channel="push", value=PUSH_ENDPOINT, push_keys=PUSH_KEYS)
    make_subscriber(user=bob, sms="+14505552002", topics=[topics["urgences"]])
    return alice, bob


def send_emergency(officer, topics, capture) -> Alert:
    alert = Alert.objects.create(
        severity="emergency", channels=["email", "sms", "voice", "push"], created_by=officer,
        title_fr="Avis d’ébullition", body_fr="Faites bouillir l’eau une minute.",
        sms_fr="Avis d'ebullition: faites bouillir l'eau", voice_fr="Avis d’ébullition. "
        "Faites bouillir l’eau une minute avant de la boire.")
    alert.topics.set([topics["urgences"]])
    with capture(execute=True):
        services.send(alert, officer)
    alert.refresh_from_db()
    return alert


def signed_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_an_alert_without_providers_reaches_the_test_box_not_failures(
        sandbox_on, officer, topics, residents, smtp, django_capture_on_commit_callbacks):
    alert = send_emergency(officer, topics, django_capture_on_commit_callbacks)
    rows = {(d.channel, d.address): d for d in Delivery.objects.filter(alert=alert)}
    assert set(rows) == {("email", "alice@example.com"), ("sms", "+14505551001"),
                         ("voice", "+14505551002"), ("push", PUSH_ENDPOINT),
                         ("sms", "+14505552002")}
    # Every row sent, none failed; the sandboxed ones say so in their provider id.
    assert {d.status for d in rows.values()} == {"sent"}
    assert not rows[("email", "alice@example.com")].provider_id.startswith("sandbox:")
    for key in rows:
        if key[0] != "email":
            assert sandbox.is_sandbox_id(rows[key].provider_id), key
    # Email went to the real (local) SMTP server, the rest to the test box, as sent.
    assert [e.rcpt_tos for e in smtp.messages] == [["alice@example.com"]]
    sms = SandboxMessage.objects.get(channel="sms", address="+14505551001")
    assert sms.body == alert.sms("fr") and sms.kind == "alert"
    assert sms.delivery == rows[("sms", "+14505551001")]
    assert rows[("sms", "+14505551001")].provider_id == f"sandbox:{sms.pk}"
    voice = SandboxMessage.objects.get(channel="voice")
    assert voice.body == alert.voice("fr") and voice.say_language == "fr-CA"
    assert "<Say" in voice.twiml and "Faites bouillir" in voice.twiml
    push = SandboxMessage.objects.get(channel="push")
    assert push.title == "Avis d’ébullition" and push.body
    assert push.url.endswith(f"/fr/alertes/{alert.pk}/")
    assert services.report(alert)["sandbox"] == 4
    assert alert.status == "sent"


def test_the_admin_test_box_and_report_show_them(
        sandbox_on, officer, topics, residents, smtp, django_capture_on_commit_callbacks):
    alert = send_emergency(officer, topics, django_capture_on_commit_callbacks)
    client = signed_in(officer)
    page = client.get(BOX, HTTP_ACCEPT_LANGUAGE="fr").content.decode()
    assert "Boîte de test" in page
    for number in ("+14505551001", "+14505551002", "+14505552002"):
        assert number in page
    assert "Avis d&#x27;ebullition: faites bouillir l&#x27;eau" in page
    assert "fr-CA" in page and "TwiML" in page
    # One phone per recipient, the newest recipient first.
    assert page.count('class="sandbox-phone"') == 4
    # Searching keeps one recipient.
    found = client.get(BOX, {"q": "2002"}).content.decode()
    assert "+14505552002" in found and "+14505551001" not in found
    report = client.get(f"/admin/alertes/{alert.pk}/rapport/").content.decode()
    assert "4 messages sont allés dans la boîte de test, pas à un téléphone" in report


def test_staff_without_alert_rights_cannot_open_the_test_box(
        sandbox_on, officer, topics, residents, smtp, django_capture_on_commit_callbacks):
    send_emergency(officer, topics, django_capture_on_commit_callbacks)
    editor = make_user("redaction@example.com", is_staff=True, groups=["Rédacteurs"])
    response = signed_in(editor).get(BOX)
    assert response.status_code == 302 and response["Location"] == "/admin/"
    alice, _bob = residents
    response = signed_in(alice).get(BOX)
    assert response.status_code == 302 and "/login/" in response["Location"]


def test_residents_see_their_own_messages_received_only(
        sandbox_on, officer, topics, residents, smtp, django_capture_on_commit_callbacks):
    send_emergency(officer, topics, django_capture_on_commit_callbacks)
    alice, bob = residents
    page = signed_in(alice).get(RECEIVED).content.decode()
    assert "Messages reçus" in page
    assert "Avis d&#x27;ebullition: faites bouillir l&#x27;eau" in page  # the SMS text
    assert "Faites bouillir l’eau une minute avant de la boire" in page  # the call
    assert "+14505551001" in page and "+14505551002" in page
    assert "Boîte de test" in page
    assert "Courriel" in page  # the email delivery, with its state
    assert "+14505552002" not in page
    other = signed_in(bob).get(RECEIVED).content.decode()
    assert "+14505552002" in other
    assert "+14505551001" not in other and "+14505551002" not in other
    assert "avant de la boire" not in other  # Bob has no phone call
    # Mon Espace leads there.
    assert RECEIVED in signed_in(alice).get("/fr/mon-espace/").content.decode()
    anonymous = Client().get(RECEIVED)
    assert anonymous.status_code == 302 and "/login/" in anonymous["Location"]


def test_a_phone_code_goes_to_the_test_box_and_confirms_the_number(
        sandbox_on, topics, django_capture_on_commit_callbacks):
    carole = make_user("carole@example.com")
    client = signed_in(carole)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post("/fr/alertes/abonnement/", {
            "action": "add_address", "channel": "sms", "value": "450 555-3003"})
    assert response.status_code == 302
    message = SandboxMessage.objects.get(address="+14505553003")
    assert message.kind == "code" and message.channel == "sms"
    code = re.search(r"\b(\d{6})\b", message.body).group(1)
    page = client.get(RECEIVED).content.decode()
    assert code in page and "Code de vérification" in page
    address = Address.objects.get(value="+14505553003")
    with django_capture_on_commit_callbacks(execute=True):
        client.post("/fr/alertes/abonnement/", {"action": "verify_code",
                                                "address": address.pk, "code": code})
    address.refresh_from_db()
    assert address.verified


def test_only_channels_without_their_provider_are_sandboxed(sandbox_on, twilio, settings):
    channels = available_channels()
    assert not getattr(channels["sms"], "sandbox", False)  # Twilio configured: real
    assert not getattr(channels["voice"], "sandbox", False)
    assert getattr(channels["push"], "sandbox", False)  # no VAPID keys
    assert not getattr(channels["email"], "sandbox", False)
    settings.ALERTES_SANDBOX = False
    assert not any(getattr(c, "sandbox", False) for c in available_channels().values())


def test_without_the_sandbox_a_missing_provider_still_fails(
        settings, officer, topics, residents, smtp, django_capture_on_commit_callbacks):
    settings.ALERTES_SANDBOX = False
    alert = send_emergency(officer, topics, django_capture_on_commit_callbacks)
    sms = Delivery.objects.get(alert=alert, address="+14505551001")
    assert sms.status == "failed" and "not configured" in sms.error
    assert not SandboxMessage.objects.exists()


def test_the_sandbox_default_follows_debug(settings):
    del settings.ALERTES_SANDBOX
    settings.DEBUG = True
    assert sandbox.enabled()
    settings.DEBUG = False
    assert not sandbox.enabled()
    settings.ALERTES_SANDBOX = "false"  # as read from the environment
    settings.DEBUG = True
    assert not sandbox.enabled()


def test_deploy_check_refuses_the_sandbox_in_production(settings):
    settings.DEBUG = False
    settings.ALERTES_SANDBOX = True
    with pytest.raises(SystemCheckError, match=r"alertes\.E001"):
        call_command("check", "--deploy", "--tag", "security")
    settings.ALERTES_SANDBOX = False
    call_command("check", "--deploy", "--tag", "security", "--fail-level", "ERROR")
    del settings.ALERTES_SANDBOX  # unset: follows DEBUG, off here
    call_command("check", "--deploy", "--tag", "security", "--fail-level", "ERROR")


def test_law25_export_and_erasure_cover_the_test_box(
        sandbox_on, officer, topics, residents, smtp, django_capture_on_commit_callbacks):
    send_emergency(officer, topics, django_capture_on_commit_callbacks)
    alice, _bob = residents
    # A code texted to Alice's number has no delivery: matched on her address.
    assert type(available_channels()["sms"]).__name__ == "SandboxChannel"
    available_channels()["sms"].send_text("+14505551001", "Ville: votre code est 123456")
    exported = services.export_user(alice)["test_box"]
    assert {m["channel"] for m in exported} == {"sms", "voice", "push"}
    assert any(m["text"] == "Ville: votre code est 123456" for m in exported)
    assert all(m["to"] != "+14505552002" for m in exported)
    services.erase_user(alice)
    assert set(SandboxMessage.objects.values_list("address", flat=True)) == {"+14505552002"}
