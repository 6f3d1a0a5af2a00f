"""Voice calls through the Twilio-like server on 127.0.0.1: the Calls API, the TwiML
Twilio fetches when the line answers, the key pressed, the status callbacks."""

from datetime import timedelta

import pytest
from django.conf import settings
from django.utils import timezone

from modules.alertes import services
from modules.alertes.models import Address, Alert, Delivery

from .conftest import SID, make_subscriber
from .phone import PhoneNetwork, client_transport, http_transport, says, sign

MESSAGE_FR = "Avis d'évacuation : quittez la rue Victoria avant 18 h."
MESSAGE_EN = "Evacuation notice: leave Victoria Street before 6 p.m."


def voice_alert(**extra):
    fields = {"title_fr": "Évacuation", "title_en": "Evacuation", "body_fr": "Texte web",
              "body_en": "Web text", "voice_fr": MESSAGE_FR, "voice_en": MESSAGE_EN,
              "severity": "emergency", "channels": ["voice"], "status": "sending", **extra}
    return Alert.objects.create(**fields)


def send(alert):
    services.build_outbox(alert)
    return services.deliver(list(Delivery.objects.filter(alert=alert)
                                 .values_list("pk", flat=True)))


def due(alert):
    Delivery.objects.filter(alert=alert, status="queued").update(
        not_before=timezone.now() - timedelta(seconds=1))


@pytest.fixture
def phone(db, twilio, client):
    return PhoneNetwork(twilio, client_transport(client))


@pytest.fixture
def sweep(django_capture_on_commit_callbacks):
    """The every-minute ``dispatch_due``, with its on-commit enqueue run."""
    def run():
        with django_capture_on_commit_callbacks(execute=True):
            return services.dispatch_due()
    return run


@pytest.fixture
def landline(db):
    return make_subscriber(voice="+14503701111", language="fr")


def test_a_call_reads_the_message_twice_in_canadian_french_and_1_confirms(phone, twilio,
                                                                       landline):
    alert = voice_alert()
    assert send(alert)["sent"] == 1
    [call] = twilio.calls
    form = call["form"]
    assert twilio.requests[-1]["path"] == f"/2010-04-01/Accounts/{SID}/Calls.json"
    assert form["To"] == "+14503701111" and form["From"] == "+14505550000"
    assert form["MachineDetection"] == "DetectMessageEnd"
    row = Delivery.objects.get(alert=alert)
    assert form["Url"] == f"{settings.BASE_URL}/fr/alertes/twilio/appel/{row.pk}/"
    assert form["StatusCallback"] == f"{settings.BASE_URL}/fr/alertes/twilio/appel/statut/"
    assert row.status == "sent" and row.provider_id == call["sid"]

    phone.outcomes["+14503701111"] = ["human:1"]
    [played] = phone.play()
    message, confirmed = played["documents"]
    gather = message.find("Gather")
    assert gather.get("numDigits") == "1"
    assert gather.get("action") == f"{settings.BASE_URL}/fr/alertes/twilio/appel/{row.pk}/touche/"
    spoken = says(gather)
    assert {language for language, _ in spoken} == {"fr-CA"}
    assert [text for _, text in spoken].count(MESSAGE_FR) == 2  # said, then repeated
    assert "1" in spoken[-1][1]  # "press 1" comes last, inside the Gather
    assert message.find("Hangup") is not None
    assert confirmed.find("Say").get("language") == "fr-CA"
    assert played["statuses"] == [204]
    row.refresh_from_db()
    assert row.status == "delivered" and row.delivered_at is not None
    assert row.acknowledged_at is not None and row.answered_by == "human"


def test_english_subscribers_hear_canadian_english(phone, twilio):
    make_subscriber(voice="+14503702222", language="en")
    alert = voice_alert()
    send(alert)
    [played] = phone.play()
    spoken = says(played["documents"][0])
    assert {language for language, _ in spoken} == {"en-CA"}
    assert [text for _, text in spoken].count(MESSAGE_EN) == 2
    row = Delivery.objects.get(alert=alert)
    assert row.status == "delivered" and row.acknowledged_at is None  # listened, no key


def test_a_machine_gets_the_message_as_voicemail(phone, twilio, landline):
    alert = voice_alert()
    send(alert)
    phone.outcomes["+14503701111"] = ["machine"]
    [played] = phone.play()
    [voicemail] = played["documents"]
    assert voicemail.find("Gather") is None  # nobody to press 1
    assert [text for _, text in says(voicemail)].count(MESSAGE_FR) == 2
    assert voicemail[-1].tag == "Hangup"
    row = Delivery.objects.get(alert=alert)
    assert row.answered_by == "machine" and row.status == "delivered"
    assert row.acknowledged_at is None


def test_another_key_replays_the_message(phone, twilio, landline):
    alert = voice_alert()
    send(alert)
    phone.outcomes["+14503701111"] = ["human:5"]
    [played] = phone.play()
    _first, redirect, again = played["documents"]
    assert redirect.find("Redirect").text.strip().endswith(
        f"/fr/alertes/twilio/appel/{Delivery.objects.get(alert=alert).pk}/")
    assert [text for _, text in says(again)].count(MESSAGE_FR) == 2
    assert Delivery.objects.get(alert=alert).acknowledged_at is None


def test_busy_or_no_answer_is_called_twice_more_then_failed(phone, twilio, landline, sweep):
    alert = voice_alert()
    phone.outcomes["+14503701111"] = ["busy", "no-answer", "busy"]
    send(alert)
    phone.play()
    row = Delivery.objects.get(alert=alert)
    assert row.status == "queued" and row.attempts == 1 and "busy" in row.error
    assert row.not_before >= timezone.now() + timedelta(seconds=100)  # not at once
    sweep()  # not due yet: no call
    assert len(twilio.calls) == 1
    for calls in (2, 3):
        due(alert)
        sweep()
        assert len(twilio.calls) == calls
        phone.play()
    row.refresh_from_db()
    assert row.status == "failed" and row.attempts == 3
    assert "3 calls" in row.error
    assert [r["outcome"] for r in phone.log] == ["busy", "no-answer", "busy"]
    due(alert)
    sweep()
    assert len(twilio.calls) == 3  # no fourth call


def test_answered_on_the_second_call_and_late_callbacks_of_the_first_are_ignored(
        phone, twilio, landline, sweep):
    alert = voice_alert()
    phone.outcomes["+14503701111"] = ["no-answer", "human:1"]
    send(alert)
    [first] = phone.play()
    due(alert)
    sweep()
    phone.play()
    row = Delivery.objects.get(alert=alert)
    assert row.status == "delivered" and row.acknowledged_at and row.attempts == 2
    assert row.provider_id == twilio.calls[1]["sid"]
    # Twilio repeats the first call's callback (a retry on its side): nothing changes.
    late = {"AccountSid": SID, "CallSid": first["sid"], "CallStatus": "no-answer"}
    assert phone.post(twilio.calls[0]["form"]["StatusCallback"], late)[0] == 204
    assert Delivery.objects.get(alert=alert).status == "delivered"


def test_a_cancelled_alert_is_not_called_again(phone, twilio, landline):
    alert = voice_alert()
    phone.outcomes["+14503701111"] = ["busy"]
    send(alert)
    Alert.objects.filter(pk=alert.pk).update(status="cancelled")
    phone.play()
    row = Delivery.objects.get(alert=alert)
    assert row.status == "failed" and row.error == "alert cancelled"


def test_an_invalid_number_fails_and_marks_the_address(phone, twilio, landline):
    alert = voice_alert()
    phone.outcomes["+14503701111"] = ["failed"]
    send(alert)
    phone.play()
    row = Delivery.objects.get(alert=alert)
    assert row.status == "failed" and "13224" in row.error and row.attempts == 1
    assert Address.objects.get(channel="voice").failing


def test_a_fax_line_fails_and_is_not_called_again(phone, twilio, landline):
    alert = voice_alert()
    phone.outcomes["+14503701111"] = ["fax"]
    send(alert)
    [played] = phone.play()
    assert played["documents"][0].find("Say") is None
    row = Delivery.objects.get(alert=alert)
    assert row.status == "failed" and row.answered_by == "fax"
    assert Address.objects.get(channel="voice").failing


@pytest.mark.parametrize("path", ["/fr/alertes/twilio/appel/{pk}/",
                                  "/fr/alertes/twilio/appel/{pk}/touche/",
                                  "/fr/alertes/twilio/appel/statut/"])
def test_webhooks_refuse_unsigned_or_forged_requests(client, phone, twilio, landline, path):
    alert = voice_alert()
    send(alert)
    row = Delivery.objects.get(alert=alert)
    path = path.format(pk=row.pk)
    params = {"CallSid": row.provider_id, "CallStatus": "completed", "Digits": "1",
              "AnsweredBy": "human"}
    url = settings.BASE_URL + path
    assert client.post(path, params).status_code == 403
    assert client.post(path, params, HTTP_X_TWILIO_SIGNATURE="faux").status_code == 403
    forged = sign(url, params, token="un-autre-jeton")
    assert client.post(path, params, HTTP_X_TWILIO_SIGNATURE=forged).status_code == 403
    tampered = sign(url, {**params, "CallStatus": "busy"})
    assert client.post(path, params, HTTP_X_TWILIO_SIGNATURE=tampered).status_code == 403
    assert client.get(path).status_code == 405
    row.refresh_from_db()
    assert row.status == "sent" and row.acknowledged_at is None and row.answered_by == ""


def test_twiml_for_an_unknown_delivery_is_404(phone, twilio, landline):
    url = f"{settings.BASE_URL}/fr/alertes/twilio/appel/999999/"
    assert phone.post(url, {"CallSid": "CA1", "AnsweredBy": "human"})[0] == 404


def test_not_configured_fails_clearly(landline):
    alert = voice_alert()
    assert send(alert)["failed"] == 1
    assert "not configured" in Delivery.objects.get(alert=alert).error


def test_a_provider_error_on_the_calls_api_is_retried(twilio, landline):
    twilio.mode = "500"
    alert = voice_alert()
    assert send(alert)["retry"] == 1
    row = Delivery.objects.get(alert=alert)
    assert row.status == "queued" and "HTTP 500" in row.error


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_the_whole_call_over_real_http(live_server, twilio, settings):
    settings.BASE_URL = live_server.url
    make_subscriber(voice="+14503703333", language="fr")
    network = PhoneNetwork(twilio, http_transport)
    network.outcomes["+14503703333"] = ["human:1"]
    alert = voice_alert()
    send(alert)
    assert twilio.calls[0]["form"]["Url"].startswith(live_server.url)
    [played] = network.play()
    assert played["statuses"] == [204]
    row = Delivery.objects.get(alert=alert)
    assert row.status == "delivered" and row.acknowledged_at is not None
