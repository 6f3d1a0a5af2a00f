"""Webhooks, public pages, CAP feed, banner, Mon Espace, privacy."""

from datetime import timedelta
from pathlib import Path

import pytest
from django.conf import settings
from django.utils import timezone
from lxml import etree

from modules.alertes import services
from modules.alertes.channels import twilio_signature
from modules.alertes.models import Address, Alert, ConsentRecord, Delivery, Subscriber

from .conftest import TOKEN, make_subscriber

# OASIS CAP 1.2 schema, vendored from the workplace standards so a clone is self-contained.
XSD = Path(__file__).resolve().parent / "schemas" / "CAP-v1.2.xsd"
INBOUND = "/fr/alertes/twilio/entrant/"
STATUS = "/fr/alertes/twilio/statut/"


def signed_post(client, path, params, token=TOKEN):
    url = settings.BASE_URL.rstrip("/") + path
    return client.post(path, params, HTTP_X_TWILIO_SIGNATURE=twilio_signature(url, params,
                                                                               token))


def published_alert(officer, topics, **extra):
    fields = {"title_fr": "Avis d'ébullition", "title_en": "Boil-water notice",
              "body_fr": "Faites bouillir l'eau.", "body_en": "Boil the water.",
              "severity": "notice", "channels": ["email"], "status": "sent",
              "sent_at": timezone.now(), "created_by": officer, **extra}
    alert = Alert.objects.create(**fields)
    alert.topics.set([topics["deneigement"]])
    return alert


@pytest.fixture
def sms_subscriber(topics):
    return make_subscriber(sms="+14505559999", topics=[topics["deneigement"]], language="fr")


def test_inbound_wrong_signature_is_403(client, twilio, sms_subscriber):
    params = {"From": "+14505559999", "Body": "STOP"}
    assert client.post(INBOUND, params, HTTP_X_TWILIO_SIGNATURE="faux").status_code == 403
    assert client.post(INBOUND, params).status_code == 403
    assert signed_post(client, INBOUND, params, token="autre").status_code == 403
    assert Address.objects.filter(channel="sms").exists()
    assert client.get(INBOUND).status_code == 405


@pytest.mark.parametrize("word,language", [("STOP", "en"), ("stop", "en"), ("Arrêt", "fr"),
                                           ("ARRET", "fr"), ("unsubscribe", "en"),
                                           ("Désabonner", "fr")])
def test_stop_keywords_unsubscribe_with_confirmation(client, twilio, sms_subscriber, word,
                                                     language):
    response = signed_post(client, INBOUND, {"From": "+14505559999", "Body": f" {word} "})
    assert response.status_code == 200
    body = response.content.decode()
    assert "<Message>" in body
    assert ("unsubscribed" in body) == (language == "en")
    assert ("abonn" in body.lower()) == (language == "fr") or language == "en"
    assert not Address.objects.filter(channel="sms").exists()
    record = ConsentRecord.objects.get(subscriber=sms_subscriber, action="withdrawn")
    assert record.method == "sms" and record.scope == "channel:sms"


def test_stop_from_an_unknown_number_is_answered(client, db, twilio):
    response = signed_post(client, INBOUND, {"From": "+15145550000", "Body": "STOP"})
    assert response.status_code == 200 and "<Message>" in response.content.decode()


@pytest.mark.parametrize("word", ["HELP", "aide", "Info", "AIDE"])
def test_help_keywords(client, twilio, sms_subscriber, word):
    response = signed_post(client, INBOUND, {"From": "+14505559999", "Body": word})
    text = etree.fromstring(response.content).findtext("Message")
    assert len(text) <= 160
    assert "450 370-4820" in text and "Valleyfield" in text
    assert Address.objects.filter(channel="sms").exists()


def test_other_messages_get_no_reply(client, twilio, sms_subscriber):
    response = signed_post(client, INBOUND, {"From": "+14505559999", "Body": "Bonjour"})
    assert response.status_code == 200 and "<Message>" not in response.content.decode()


def test_status_callback_marks_delivered(client, twilio, officer, topics, sms_subscriber):
    alert = published_alert(officer, topics)
    row = Delivery.objects.create(alert=alert, subscriber=sms_subscriber, channel="sms",
                                  address="+14505559999", status="sent", provider_id="SM1")
    params = {"MessageSid": "SM1", "MessageStatus": "delivered"}
    assert client.post(STATUS, params, HTTP_X_TWILIO_SIGNATURE="x").status_code == 403
    row.refresh_from_db()
    assert row.status == "sent"
    assert signed_post(client, STATUS, params).status_code == 204
    row.refresh_from_db()
    assert row.status == "delivered" and row.delivered_at
    signed_post(client, STATUS, {"MessageSid": "SM1", "MessageStatus": "undelivered",
                                 "ErrorCode": "30003"})
    row.refresh_from_db()
    assert row.status == "failed" and "30003" in row.error


def test_public_pages_show_published_alerts_only(client, officer, topics, sms_subscriber):
    alert = published_alert(officer, topics)
    draft = Alert.objects.create(title_fr="Brouillon secret", body_fr="x", created_by=officer)
    Delivery.objects.create(alert=alert, subscriber=sms_subscriber, channel="sms",
                            address="+14505559999", status="sent")
    index = client.get("/fr/alertes/").content.decode()
    assert "Avis d&#x27;ébullition" in index and "Brouillon secret" not in index
    assert "Boil-water notice" in client.get("/en/alertes/").content.decode()
    detail = client.get(f"/fr/alertes/{alert.pk}/").content.decode()
    assert "Faites bouillir" in detail and "+14505559999" not in detail
    assert client.get(f"/fr/alertes/{draft.pk}/").status_code == 404
    assert client.get("/fr/alertes/999999/").status_code == 404
    archive = client.get("/fr/alertes/archives/?page=abc")
    assert archive.status_code == 200 and "Avis d&#x27;ébullition" in archive.content.decode()


def test_expired_alert_is_not_current(client, officer, topics):
    published_alert(officer, topics, expires_at=timezone.now() - timedelta(hours=1))
    assert "Avis d&#x27;ébullition" not in client.get("/fr/alertes/").content.decode()
    assert "Avis d&#x27;ébullition" in client.get("/fr/alertes/archives/").content.decode()


def test_emergency_banner_on_every_page(client, site, officer, topics):
    alert = published_alert(officer, topics, severity="emergency", title_fr="Fuite de gaz")
    assert "Fuite de gaz" in client.get("/fr/").content.decode()
    assert "Fuite de gaz" in client.get("/fr/alertes/archives/").content.decode()
    alert.expires_at = timezone.now() - timedelta(minutes=1)
    alert.save()
    assert "Fuite de gaz" not in client.get("/fr/").content.decode()


def validate(xml: bytes):
    schema = etree.XMLSchema(etree.parse(str(XSD)))
    document = etree.fromstring(xml)
    schema.assertValid(document)
    return document


def test_cap_documents_validate_against_the_schema(client, officer, topics, districts):
    alert = published_alert(officer, topics, expires_at=timezone.now() + timedelta(hours=3))
    alert.districts.set(districts)
    response = client.get(f"/fr/alertes/cap/{alert.pk}.xml")
    assert response.status_code == 200
    document = validate(response.content)
    ns = {"c": "urn:oasis:names:tc:emergency:cap:1.2"}
    sent = document.findtext("c:sent", namespaces=ns)
    assert not sent.endswith("Z") and sent[-6] in "+-" and sent[-3] == ":"
    assert document.findtext("c:msgType", namespaces=ns) == "Alert"
    assert document.findtext("c:code", namespaces=ns) == "profile:CAP-CP:0.4"
    languages = [i.findtext("c:language", namespaces=ns)
                 for i in document.findall("c:info", ns)]
    assert languages == ["fr-CA", "en-CA"]
    polygon = document.find("c:info/c:area/c:polygon", ns).text.split()
    assert polygon[0] == polygon[-1] and polygon[0] == "45.200000,-74.200000"
    cancel = services.create_correction(alert, "cancel", officer)
    Alert.objects.filter(pk=cancel.pk).update(status="sent", sent_at=timezone.now())
    document = validate(client.get(f"/fr/alertes/cap/{cancel.pk}.xml").content)
    assert document.findtext("c:msgType", namespaces=ns) == "Cancel"
    references = document.findtext("c:references", namespaces=ns).split(",")
    assert references[1] == f"urn:uuid:{alert.identifier}" and len(references) == 3
    draft = Alert.objects.create(title_fr="Brouillon", body_fr="x")
    assert client.get(f"/fr/alertes/cap/{draft.pk}.xml").status_code == 404


def test_cap_atom_feed_lists_documents(client, officer, topics):
    alert = published_alert(officer, topics)
    response = client.get("/fr/alertes/cap.atom")
    assert response.status_code == 200 and "atom" in response["Content-Type"]
    feed = etree.fromstring(response.content)
    links = [link.get("href") for link in feed.iter("{http://www.w3.org/2005/Atom}link")]
    assert any(href.endswith(f"/fr/alertes/cap/{alert.pk}.xml") for href in links)


def test_mon_espace_lists_subscriptions_and_messages(client, site, citizen, other_citizen,
                                                     officer, topics):
    subscriber = services.subscriber_for(citizen)
    subscriber.topicsubscription_set.create(topic=topics["deneigement"])
    alert = published_alert(officer, topics)
    Delivery.objects.create(alert=alert, subscriber=subscriber, channel="sms",
                            address="+14505559999", status="delivered",
                            sent_at=timezone.now())
    client.force_login(citizen)
    page = client.get("/fr/mon-espace/").content.decode()
    assert "Déneigement" in page and "Avis d&#x27;ébullition" in page and "Livré" in page
    client.force_login(other_citizen)
    page = client.get("/fr/mon-espace/").content.decode()
    assert "Avis d&#x27;ébullition" not in page


def test_privacy_export_and_erase(citizen, officer, topics):
    from hub.accounts.services import delete_account, export_user_data

    subscriber = services.subscriber_for(citizen)
    services.add_address(subscriber, "voice", "450 370-4820")
    alert = published_alert(officer, topics)
    Delivery.objects.create(alert=alert, subscriber=subscriber, channel="voice",
                            address="+14503704820", status="sent")
    data = export_user_data(citizen)["modules"]["alertes"]
    assert data["addresses"][0]["address"] == "+14503704820"
    assert data["deliveries"][0]["channel"] == "voice" and data["consents"]
    delete_account(citizen)
    assert not Subscriber.objects.exists() and not Address.objects.exists()
    row = Delivery.objects.get()
    assert row.subscriber is None and "4820" not in row.address
    assert ConsentRecord.objects.filter(action="withdrawn", method="erasure").exists()


def test_demo_data_is_idempotent(site):
    from modules.alertes import demo

    counts = (Subscriber.objects.count(), Address.objects.count(), Delivery.objects.count(),
              Alert.objects.count())
    demo.load()
    assert counts == (Subscriber.objects.count(), Address.objects.count(),
                      Delivery.objects.count(), Alert.objects.count())
    # The sent alerts, their corrections (CAP Update/Cancel) and the one awaiting approval.
    expected_alerts = len(demo.ALERTS) + len(demo.CORRECTIONS) + 1
    assert counts[0] >= 500 and counts[3] == expected_alerts and counts[2] > 100
    assert Alert.objects.filter(title_fr=demo.PENDING["title_fr"]).count() == 1
    assert Delivery.objects.filter(status="failed").exists()


def test_cap_feed_answers_at_its_fixed_address(client, site):
    feed = client.get("/alertes/cap.atom")
    assert feed.status_code == 200
    assert b"<feed" in feed.content
    assert client.get("/alertes/cap/999999.xml").status_code == 404
