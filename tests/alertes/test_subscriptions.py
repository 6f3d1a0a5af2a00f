"""Subscribing, verifying addresses, consent records, leaving."""

import re
import time
from unittest import mock

import pytest
from django.core import mail, signing
from django.core.exceptions import ValidationError

from modules.alertes import services, tokens
from modules.alertes.models import Address, ConsentRecord, Subscriber

URL = "/fr/alertes/abonnement/"


def test_page_needs_sign_in(client, db):
    response = client.get(URL)
    assert response.status_code == 302 and "/compte/login/" in response["Location"]


def test_preferences_keep_emergencies_and_record_consent(citizen_client, citizen, topics,
                                                         districts):
    response = citizen_client.post(URL, {
        "action": "preferences", "topics": [topics["deneigement"].pk], "language": "en",
        "latitude": "45.25", "longitude": "-74.15", "quiet_start": "22:00", "quiet_end": "07:00"})
    assert response.status_code == 302
    subscriber = Subscriber.objects.get(user=citizen)
    assert set(subscriber.topics.values_list("slug", flat=True)) == {"urgences", "deneigement"}
    assert subscriber.language == "en" and subscriber.district == districts[0]
    scopes = set(ConsentRecord.objects.filter(subscriber=subscriber, action="given")
                 .values_list("scope", flat=True))
    assert scopes == {"topic:urgences", "topic:deneigement"}
    # Unticking everything keeps the emergency topic; the withdrawal is recorded.
    citizen_client.post(URL, {"action": "preferences", "language": "fr"})
    assert list(subscriber.topics.values_list("slug", flat=True)) == ["urgences"]
    assert ConsentRecord.objects.filter(subscriber=subscriber, action="withdrawn",
                                        scope="topic:deneigement", method="web").exists()


def test_quiet_hours_need_both_ends(citizen_client, citizen, topics):
    response = citizen_client.post(URL, {"action": "preferences", "language": "fr",
                                         "quiet_start": "22:00"})
    assert response.status_code == 400
    assert "quiet" in response.content.decode().lower() or "calme" in \
        response.content.decode().lower()
    assert Subscriber.objects.get(user=citizen).quiet_start is None


def test_bad_input_is_a_form_error(citizen_client, citizen, topics):
    response = citizen_client.post(URL, {"action": "add_address", "channel": "email",
                                         "value": "pas-un-courriel"})
    assert response.status_code == 400
    response = citizen_client.post(URL, {"action": "add_address", "channel": "sms",
                                         "value": "123"})
    assert response.status_code == 400
    response = citizen_client.post(URL, {"action": "add_address", "channel": "fax",
                                         "value": "4503704820"})
    assert response.status_code == 400
    assert citizen_client.post(URL, {"action": "inconnue"}).status_code == 400
    assert not Address.objects.exists()


def test_email_verified_by_signed_link(citizen_client, citizen, topics,
                                       django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        response = citizen_client.post(URL, {"action": "add_address", "channel": "email",
                                             "value": "Claire@Example.com"})
    assert response.status_code == 302
    address = Address.objects.get(channel="email")
    assert address.value == "claire@example.com" and not address.verified
    link = re.search(r"http://\S+", mail.outbox[-1].body).group(0)
    path = link.split("8000", 1)[1] if "8000" in link else link
    assert citizen_client.get(path).status_code == 200  # asks to confirm, changes nothing
    address.refresh_from_db()
    assert not address.verified
    assert citizen_client.post(path).status_code == 200
    address.refresh_from_db()
    assert address.verified


def test_forged_and_expired_email_links(client, citizen, topics):
    subscriber = services.subscriber_for(citizen)
    address = subscriber.addresses.create(channel="email", value="claire@example.com")
    token = tokens.verify_token(address.pk, address.value)
    forged = token[:-3] + ("aaa" if not token.endswith("aaa") else "bbb")
    assert client.post(f"/fr/alertes/abonnement/courriel/{forged}/").status_code == 400
    other_salt = signing.dumps({"a": address.pk, "v": address.value}, salt="autre")
    assert client.post(f"/fr/alertes/abonnement/courriel/{other_salt}/").status_code == 400
    with mock.patch("time.time", return_value=time.time() - 10 * 24 * 3600):
        old = tokens.verify_token(address.pk, address.value)
    assert client.post(f"/fr/alertes/abonnement/courriel/{old}/").status_code == 400
    address.refresh_from_db()
    assert not address.verified


def test_sms_code_verification_and_brute_force_lock(citizen_client, citizen, topics, twilio,
                                                    django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        response = citizen_client.post(URL, {"action": "add_address", "channel": "sms",
                                             "value": "450 555-1234"})
    assert response.status_code == 302
    address = Address.objects.get(channel="sms")
    assert address.value == "+14505551234"
    code = re.search(r"\b(\d{6})\b", twilio.bodies("+14505551234")[-1]).group(1)
    wrong = "000000" if code != "000000" else "111111"
    for _attempt in range(5):
        response = citizen_client.post(URL, {"action": "verify_code", "address": address.pk,
                                             "code": wrong})
        assert response.status_code == 400
    # Locked: even the right code is refused now.
    response = citizen_client.post(URL, {"action": "verify_code", "address": address.pk,
                                         "code": code})
    assert response.status_code == 400
    address.refresh_from_db()
    assert not address.verified and address.code_attempts == 5


def test_sms_code_right_code_verifies(citizen, topics, twilio,
                                      django_capture_on_commit_callbacks):
    subscriber = services.subscriber_for(citizen)
    with django_capture_on_commit_callbacks(execute=True):
        address = services.add_address(subscriber, "sms", "4505551234")
    code = re.search(r"\b(\d{6})\b", twilio.bodies()[-1]).group(1)
    with pytest.raises(ValidationError):
        services.verify_sms_code(address, "12")
    services.verify_sms_code(address, code)
    address.refresh_from_db()
    assert address.verified
    # A new code cannot be requested twice within a minute.
    other = services.add_address(subscriber, "voice", "450 370-4820")
    assert other.value == "+14503704820"


def test_other_citizens_address_is_out_of_reach(client, citizen, other_citizen, topics):
    mine = services.subscriber_for(citizen)
    address = mine.addresses.create(channel="email", value="claire@example.com")
    client.force_login(other_citizen)
    for action in ("remove_address", "verify_code", "resend_code"):
        response = client.post(URL, {"action": action, "address": address.pk, "code": "1"})
        assert response.status_code == 404
    assert client.post(URL, {"action": "remove_address", "address": "x"}).status_code == 404
    assert Address.objects.filter(pk=address.pk).exists()
    page = client.get(URL).content.decode()
    assert "claire@example.com" not in page


def test_leave_in_one_step_and_come_back(citizen_client, citizen, topics):
    citizen_client.get(URL)
    assert citizen_client.post(URL, {"action": "leave"}).status_code == 302
    subscriber = Subscriber.objects.get(user=citizen)
    assert not subscriber.active
    assert ConsentRecord.objects.filter(subscriber=subscriber, scope="all",
                                        action="withdrawn").exists()
    citizen_client.post(URL, {"action": "preferences", "language": "fr"})
    subscriber.refresh_from_db()
    assert subscriber.active


def test_one_click_unsubscribe_rfc8058(client, citizen, topics):
    subscriber = services.subscriber_for(citizen)
    token = tokens.unsubscribe_token(subscriber.pk)
    url = f"/fr/alertes/desabonnement/{token}/"
    assert client.get(url).status_code == 200
    subscriber.refresh_from_db()
    assert subscriber.active
    response = client.post(url, "List-Unsubscribe=One-Click",
                           content_type="application/x-www-form-urlencoded")
    assert response.status_code == 200
    subscriber.refresh_from_db()
    assert not subscriber.active
    assert ConsentRecord.objects.get(subscriber=subscriber, scope="all").method == "email_link"


def test_forged_or_expired_unsubscribe_token(client, citizen, topics):
    subscriber = services.subscriber_for(citizen)
    forged = signing.dumps({"s": subscriber.pk}, salt="alertes.unsubscribe", key="faux")
    assert client.post(f"/fr/alertes/desabonnement/{forged}/").status_code == 400
    assert client.get("/fr/alertes/desabonnement/n-importe-quoi/").status_code == 400
    with mock.patch("time.time", return_value=time.time() - 400 * 24 * 3600):
        old = tokens.unsubscribe_token(subscriber.pk)
    assert client.post(f"/fr/alertes/desabonnement/{old}/").status_code == 400
    subscriber.refresh_from_db()
    assert subscriber.active
    assert not ConsentRecord.objects.filter(action="withdrawn").exists()
