"""Push notifications: the browser's subscription, Web Push to a push service on
127.0.0.1 that checks the VAPID signature and decrypts the payload, and app tokens
through the ``alertes_app_push`` hook."""

import base64
import json
from datetime import timedelta
from io import StringIO

import pytest
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from django.conf import settings
from django.core.management import call_command
from django.test import Client
from django.utils import timezone

from hub.plugins import hookimpl
from hub.plugins.manager import get_plugin_manager
from modules.alertes import services
from modules.alertes.channels import webpush
from modules.alertes.models import Address, Alert, ConsentRecord, Delivery, Subscriber
from modules.alertes.services import push_subscriptions

SUBSCRIBE = "/fr/alertes/abonnement/notifications/"


def browser(service, subscriber, status=201):
    subscription = service.new_device()
    service.devices[subscription["endpoint"].rsplit("/", 1)[-1]]["status"] = status
    return push_subscriptions.subscribe(subscriber, subscription["endpoint"], subscription["keys"])


def push_alert(**extra):
    fields = {"title_fr": "Fuite de gaz", "title_en": "Gas leak", "body_fr": "Évacuez.",
              "push_fr": "Évacuez la rue Victoria immédiatement.",
              "push_en": "Leave Victoria Street now.", "severity": "emergency",
              "channels": ["push"], "status": "sending", **extra}
    return Alert.objects.create(**fields)


def send(alert):
    services.build_outbox(alert)
    return services.deliver(list(Delivery.objects.filter(alert=alert)
                                 .values_list("pk", flat=True)))


# --- the browser's subscription ---------------------------------------------------------

def csrf_client(user):
    client = Client(enforce_csrf_checks=True)
    client.force_login(user)
    assert client.get("/fr/alertes/abonnement/").status_code == 200
    return client, client.cookies[settings.CSRF_COOKIE_NAME].value


def test_the_page_offers_the_button_with_the_public_key_and_the_worker(client, citizen,
                                                                        vapid):
    client.force_login(citizen)
    page = client.get("/fr/alertes/abonnement/").content.decode()
    assert f'data-key="{vapid}"' in page and 'data-worker="/alertes/sw.js"' in page
    assert 'action="/fr/alertes/abonnement/notifications/"' in page
    assert "alertes/push.js" in page and 'aria-live="polite"' in page
    worker = client.get("/alertes/sw.js")
    assert worker.status_code == 200
    assert worker["Content-Type"].startswith("application/javascript")
    script = worker.content.decode()
    assert "showNotification" in script and "notificationclick" in script
    assert "openWindow" in script


def test_without_vapid_keys_the_page_says_it_is_unavailable(client, citizen):
    client.force_login(citizen)
    page = client.get("/fr/alertes/abonnement/").content.decode()
    assert "push-form" not in page


def test_subscribing_stores_the_browser_for_the_signed_in_citizen(citizen, service):
    client, token = csrf_client(citizen)
    subscription = service.new_device()
    body = json.dumps(subscription)
    refused = client.post(SUBSCRIBE, body, content_type="application/json")
    assert refused.status_code == 403  # no CSRF token
    assert not Address.objects.filter(channel="push").exists()
    response = client.post(SUBSCRIBE, body, content_type="application/json",
                           HTTP_X_CSRFTOKEN=token)
    assert response.status_code == 201, response.content
    address = Address.objects.get(channel="push")
    assert address.subscriber.user == citizen and address.verified
    assert address.value == subscription["endpoint"]
    assert address.push_keys == subscription["keys"]
    assert ConsentRecord.objects.filter(scope="channel:push", action="given").count() == 1
    # The same browser again: updated, not duplicated.
    again = client.post(SUBSCRIBE, body, content_type="application/json",
                        HTTP_X_CSRFTOKEN=token)
    assert again.status_code == 201 and Address.objects.filter(channel="push").count() == 1


def test_a_browser_belongs_to_whoever_subscribed_it_last(citizen, other_citizen, service):
    subscription = service.new_device()
    first = Subscriber.objects.create(user=citizen)
    second = Subscriber.objects.create(user=other_citizen)
    push_subscriptions.subscribe(first, subscription["endpoint"], subscription["keys"])
    push_subscriptions.subscribe(second, subscription["endpoint"], subscription["keys"])
    assert list(Address.objects.values_list("subscriber", flat=True)) == [second.pk]


def _key(size=65, first=4):
    point = ec.generate_private_key(ec.SECP256R1()).public_key().public_bytes(
        Encoding.X962, PublicFormat.UncompressedPoint)
    raw = bytes([first]) + point[1:size] if size <= 65 else point + b"\0" * (size - 65)
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


AUTH = base64.urlsafe_b64encode(b"0123456789abcdef").rstrip(b"=").decode()


@pytest.mark.parametrize("payload,field", [
    ("pas du json", "subscription"),
    ('["liste"]', "subscription"),
    ({"endpoint": "http://push.example.com/x", "keys": {"p256dh": _key(), "auth": AUTH}},
     "endpoint"),
    ({"endpoint": "https://evil.example.com/x", "keys": {"p256dh": _key(), "auth": AUTH}},
     "endpoint"),
    ({"endpoint": "https://10.0.0.5/x", "keys": {"p256dh": _key(), "auth": AUTH}},
     "endpoint"),
    ({"endpoint": "https://fcm.googleapis.com:8443/x",
      "keys": {"p256dh": _key(), "auth": AUTH}}, "endpoint"),
    ({"endpoint": "https://user:pw@fcm.googleapis.com/x",
      "keys": {"p256dh": _key(), "auth": AUTH}}, "endpoint"),
    ({"endpoint": "https://fcm.googleapis.com/fcm/send/" + "x" * 600,
      "keys": {"p256dh": _key(), "auth": AUTH}}, "endpoint"),
    ({"endpoint": "", "keys": {"p256dh": _key(), "auth": AUTH}}, "endpoint"),
    ({"endpoint": "https://fcm.googleapis.com/fcm/send/abc"}, "keys"),
    ({"endpoint": "https://fcm.googleapis.com/fcm/send/abc",
      "keys": {"p256dh": _key(64), "auth": AUTH}}, "keys"),
    ({"endpoint": "https://fcm.googleapis.com/fcm/send/abc",
      "keys": {"p256dh": _key(first=7), "auth": AUTH}}, "keys"),
    ({"endpoint": "https://fcm.googleapis.com/fcm/send/abc",
      "keys": {"p256dh": "B" + "A" * 86, "auth": AUTH}}, "keys"),  # not on the curve
    ({"endpoint": "https://fcm.googleapis.com/fcm/send/abc",
      "keys": {"p256dh": _key(), "auth": "c2hvcnQ"}}, "keys"),
    ({"endpoint": "https://fcm.googleapis.com/fcm/send/abc",
      "keys": {"p256dh": _key(), "auth": ["liste"]}}, "keys"),
    ({"endpoint": "https://fcm.googleapis.com/fcm/send/abc",
      "keys": {"p256dh": "!!!", "auth": AUTH}}, "keys"),
])
def test_bad_subscriptions_are_a_clear_400_and_store_nothing(citizen_client, vapid, payload,
                                                             field):
    body = payload if isinstance(payload, str) else json.dumps(payload)
    response = citizen_client.post(SUBSCRIBE, body, content_type="application/json")
    assert response.status_code == 400
    assert field in response.json()["errors"]
    assert not Address.objects.exists()


def test_loopback_endpoints_only_when_allowed(citizen_client, service, settings):
    settings.ALERTES_PUSH_ALLOW_LOOPBACK = False
    response = citizen_client.post(SUBSCRIBE, json.dumps(service.new_device()),
                                   content_type="application/json")
    assert response.status_code == 400 and not Address.objects.exists()


def test_a_real_push_service_endpoint_is_accepted(citizen_client, vapid):
    endpoint = "https://updates.push.services.mozilla.com/wpush/v2/gAAAAABk"
    response = citizen_client.post(SUBSCRIBE, json.dumps(
        {"endpoint": endpoint, "keys": {"p256dh": _key(), "auth": AUTH}}),
        content_type="application/json")
    assert response.status_code == 201
    assert Address.objects.get(channel="push").value == endpoint


def test_anonymous_cannot_subscribe(client, service):
    response = client.post(SUBSCRIBE, json.dumps(service.new_device()),
                           content_type="application/json")
    assert response.status_code == 302 and "next=" in response["Location"]
    assert not Address.objects.exists()


# --- sending -------------------------------------------------------------------------------

def test_an_emergency_reaches_the_browser_encrypted_and_signed(service, vapid):
    subscriber = Subscriber.objects.create(language="fr")
    browser(service, subscriber)
    alert = push_alert()
    assert send(alert)["sent"] == 1
    [message] = service.received
    assert message["payload"] == {
        "title": "Fuite de gaz", "body": "Évacuez la rue Victoria immédiatement.",
        "url": f"{settings.BASE_URL}/fr/alertes/{alert.pk}/", "tag": f"alerte-{alert.pk}",
        "severity": "emergency", "lang": "fr", "alert": alert.pk}
    assert message["urgency"] == "high" and message["ttl"] == "86400"
    assert message["topic"] == f"alerte-{alert.pk}"
    assert message["claims"]["sub"] == "mailto:alertes@valleyfield.example"
    assert message["claims"]["aud"] == service.url
    row = Delivery.objects.get(alert=alert)
    assert row.status == "sent" and row.provider_id.startswith(f"{service.url}/message/")
    assert not service.refused


def test_a_notice_in_english_is_normal_urgency_and_lives_until_it_expires(service, vapid):
    subscriber = Subscriber.objects.create(language="en")
    browser(service, subscriber)
    subscriber.topicsubscription_set.create(topic_id=_topic().pk)
    alert = push_alert(severity="notice", expires_at=timezone.now() + timedelta(hours=1))
    alert.topics.set([_topic()])
    send(alert)
    [message] = service.received
    assert message["payload"]["title"] == "Gas leak"
    assert message["payload"]["body"] == "Leave Victoria Street now."
    assert message["payload"]["url"] == f"{settings.BASE_URL}/en/alertes/{alert.pk}/"
    assert message["urgency"] == "normal" and 3500 <= int(message["ttl"]) <= 3600


def _topic():
    from modules.alertes.models import Topic

    return Topic.objects.get_or_create(slug="travaux", defaults={"name_fr": "Travaux"})[0]


@pytest.mark.parametrize("status", [410, 404])
def test_a_gone_subscription_marks_the_device_failing(service, vapid, status):
    """Marked failing (not deleted): kept with its keys so that the browser's
    ``pushsubscriptionchange`` can still replace it (test_push_subscription_change.py)."""
    subscriber = Subscriber.objects.create(language="fr")
    dead = browser(service, subscriber, status=status)
    kept = browser(service, subscriber)
    alert = push_alert()
    counts = send(alert)
    assert counts["sent"] == 1 and counts["failed"] == 1
    gone = Delivery.objects.get(alert=alert, status="failed")
    assert str(status) in gone.error and "failing" in gone.error and gone.attempts == 1
    dead.refresh_from_db()
    assert dead.failing and str(status) in dead.failing_reason
    assert not Address.objects.get(pk=kept.pk).failing
    # The next alert does not try the gone device again.
    send(push_alert(title_fr="Deuxième"))
    assert len(service.refused) == 1


@pytest.mark.parametrize("status", [429, 503])
def test_busy_push_services_are_retried(service, vapid, status,
                                        django_capture_on_commit_callbacks):
    subscriber = Subscriber.objects.create(language="fr")
    address = browser(service, subscriber, status=status)
    alert = push_alert()
    assert send(alert)["retry"] == 1
    row = Delivery.objects.get(alert=alert)
    assert row.status == "queued" and str(status) in row.error and row.not_before
    service.devices["d1"]["status"] = 201
    Delivery.objects.filter(pk=row.pk).update(not_before=timezone.now())
    with django_capture_on_commit_callbacks(execute=True):
        services.dispatch_due(now=timezone.now() + timedelta(seconds=1))
    row.refresh_from_db()
    assert row.status == "sent" and row.attempts == 2
    assert Address.objects.filter(pk=address.pk, failing=False).exists()
    assert len(service.received) == 1


def test_a_subscription_for_another_vapid_key_marks_the_address(service, vapid, settings):
    subscriber = Subscriber.objects.create(language="fr")
    browser(service, subscriber)
    service.public_key = webpush.generate_vapid_keys()[1]  # the service expects another key
    alert = push_alert()
    assert send(alert)["failed"] == 1
    assert Address.objects.get(channel="push").failing
    assert "403" in Delivery.objects.get(alert=alert).error


def test_not_configured_fails_clearly(service, settings):
    subscriber = Subscriber.objects.create(language="fr")
    browser(service, subscriber)
    settings.ALERTES_VAPID_PRIVATE_KEY = ""
    alert = push_alert()
    assert send(alert)["failed"] == 1
    assert "not configured" in Delivery.objects.get(alert=alert).error
    assert not service.received


def test_manage_py_alertes_vapid_prints_a_working_key_pair():
    out = StringIO()
    call_command("alertes", "vapid", "--subject", "mailto:ti@valleyfield.example", stdout=out)
    lines = dict(line.split(" = ", 1) for line in out.getvalue().splitlines()
                 if " = " in line)
    private = webpush.b64url_decode(json.loads(lines["ALERTES_VAPID_PRIVATE_KEY"]))
    public = webpush.b64url_decode(json.loads(lines["ALERTES_VAPID_PUBLIC_KEY"]))
    assert json.loads(lines["ALERTES_VAPID_SUBJECT"]) == "mailto:ti@valleyfield.example"
    key = ec.derive_private_key(int.from_bytes(private, "big"), ec.SECP256R1())
    assert key.public_key().public_bytes(Encoding.X962, PublicFormat.UncompressedPoint) \
        == public


# --- app push through the hook -------------------------------------------------------------

class FakeFCM:
    """An app push plugin: answers for ``fcm:`` tokens only."""

    def __init__(self):
        self.sent = []
        self.unregistered = set()

    @hookimpl
    def alertes_app_push(self, deliveries, payloads):
        results = {}
        for delivery in deliveries:
            if not delivery.address.startswith("fcm:"):
                continue
            token = delivery.address[4:]
            if token in self.unregistered:
                results[delivery.pk] = {"unregistered": True}
            else:
                self.sent.append((token, payloads[delivery.pk]))
                results[delivery.pk] = {"id": f"projects/ville/messages/{len(self.sent)}"}
        return results or None


@pytest.fixture
def fcm():
    plugin = FakeFCM()
    pm = get_plugin_manager()
    pm.register(plugin, name="fake-fcm")
    yield plugin
    pm.unregister(name="fake-fcm")


def test_app_tokens_go_through_the_app_push_hook(fcm, db):
    subscriber = Subscriber.objects.create(language="fr")
    push_subscriptions.add_device_token(subscriber, "fcm:jeton-android-0001")
    push_subscriptions.add_device_token(subscriber, "apns:jeton-iphone-0001")
    fcm.unregistered.add("jeton-android-0002")
    other = Subscriber.objects.create(language="fr")
    push_subscriptions.add_device_token(other, "fcm:jeton-android-0002")
    alert = push_alert()
    send(alert)
    rows = {d.address: d for d in Delivery.objects.filter(alert=alert)}
    assert rows["fcm:jeton-android-0001"].status == "sent"
    assert rows["fcm:jeton-android-0001"].provider_id == "projects/ville/messages/1"
    [(token, payload)] = fcm.sent
    assert token == "jeton-android-0001" and payload["title"] == "Fuite de gaz"
    # Nobody speaks APNs here: a clear failure, the address kept.
    assert rows["apns:jeton-iphone-0001"].status == "failed"
    assert "no app push service installed for apns" in rows["apns:jeton-iphone-0001"].error
    assert Address.objects.filter(value="apns:jeton-iphone-0001").exists()
    # The service says the token no longer exists: removed.
    assert rows["fcm:jeton-android-0002"].status == "failed"
    assert not Address.objects.filter(value="fcm:jeton-android-0002").exists()


def test_without_an_app_push_plugin_app_tokens_fail_clearly(db):
    subscriber = Subscriber.objects.create(language="fr")
    push_subscriptions.add_device_token(subscriber, "fcm:jeton-android-0001")
    alert = push_alert()
    assert send(alert)["failed"] == 1
    assert "alertes_app_push" in Delivery.objects.get(alert=alert).error


@pytest.mark.parametrize("token", ["", "jeton", "gcm:abcdefghij", "fcm:court", "fcm:a b c d e f",
                                   "fcm:" + "x" * 500])
def test_bad_device_tokens_are_refused(db, token):
    subscriber = Subscriber.objects.create(language="fr")
    with pytest.raises(webpush.ValidationError):
        push_subscriptions.add_device_token(subscriber, token)
    assert not Address.objects.exists()


def test_the_page_lists_the_browser_without_showing_its_endpoint(client, citizen, service):
    subscriber = Subscriber.objects.create(user=citizen)
    address = browser(service, subscriber)
    client.force_login(citizen)
    page = client.get("/fr/alertes/abonnement/").content.decode()
    assert address.value not in page  # a long opaque URL, meaningless to a resident
    assert f'name="address" value="{address.pk}"' in page  # it can be removed
