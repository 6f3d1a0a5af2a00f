"""Personal notices: `alertes` implements the hub's ``hub_notify``.

Each notice is built with the hub's own dataclasses and handed to the hub's real entry
point, ``hub.notify.deliver_notice``; it reaches the local SMTP server (aiosmtpd), the
Twilio-like HTTP server or the Web Push endpoint through the outbox and the worker.
The notice topic comes from a tiny plugin implementing the hub hook
``hub_notice_topics`` (a hub hook, not another module's object)."""

from __future__ import annotations

from datetime import timedelta
from email import message_from_bytes

import pytest
from django.utils import timezone

from hub.notify import Notice, NoticeTopic, Recipient, deliver_notice
from hub.plugins import hookimpl
from hub.plugins.manager import get_plugin_manager
from modules.alertes import notices, services
from modules.alertes.models import (
    ConsentRecord,
    Delivery,
    NoticePreference,
    Subscriber,
)
from modules.alertes.models import (
    Notice as NoticeRow,
)
from modules.alertes.services import push_subscriptions

TOPIC = "essais-avis"
API = "/api/v1/alert-subscription/"


class NoticeTopics:
    """A module that declares one notice topic, as `requetes` declares "My requests"."""

    @hookimpl
    def hub_notice_topics(self):
        return [NoticeTopic(slug=TOPIC, name_fr="Mes demandes d'essai",
                            name_en="My test requests",
                            description_fr="Le suivi de vos demandes d'essai.",
                            default_channels=("email",))]


@pytest.fixture(autouse=True)
def notice_topic():
    pm = get_plugin_manager()
    pm.register(NoticeTopics(), name="notice-topics-test")
    yield TOPIC
    pm.unregister(name="notice-topics-test")


def notice(recipient, key="essai:1", *, urgency="normal", subject="Votre demande avance",
           short="", url="https://ville.example/fr/requetes/2026-00042/"):
    return Notice(recipient=recipient, topic=TOPIC, subject=subject,
                  body="Votre demande 2026-00042 est prise en charge.\nMerci de votre patience.",
                  url=url, short=short, urgency=urgency, dedupe_key=key, source="essais")


def tell(capture, item) -> bool:
    """The hub's entry point, the outbox enqueued after the commit (ImmediateBackend:
    the worker runs then)."""
    with capture(execute=True):
        taken = deliver_notice(item)
    return taken


# --- channels ---------------------------------------------------------------------------

def test_an_account_is_emailed_at_its_own_address_by_default(
        citizen, smtp, django_capture_on_commit_callbacks):
    assert tell(django_capture_on_commit_callbacks, notice(Recipient.for_user(citizen)))
    [envelope] = smtp.messages
    assert envelope.rcpt_tos == [citizen.email]
    message = message_from_bytes(envelope.original_content)
    assert message["Subject"] == "Votre demande avance"
    assert message["List-Unsubscribe"] is None  # a service message, not a subscription
    parts = {part.get_content_type(): part.get_payload(decode=True).decode()
             for part in message.walk() if not part.is_multipart()}
    assert "prise en charge" in parts["text/plain"]
    assert "https://ville.example/fr/requetes/2026-00042/" in parts["text/plain"]
    assert "/fr/alertes/abonnement/#avis-personnels" in parts["text/plain"]
    assert 'href="https://ville.example/fr/requetes/2026-00042/"' in parts["text/html"]
    delivery = Delivery.objects.get()
    assert delivery.status == "sent" and delivery.alert is None
    assert delivery.notice.dedupe_key == "essai:1" and delivery.channel == "email"
    # Created silently: no alert topic, no consent to alerts, no address.
    subscriber = Subscriber.objects.get(user=citizen)
    assert not subscriber.topics.exists() and not subscriber.addresses.exists()
    assert not ConsentRecord.objects.exists()


def test_a_caller_with_only_a_phone_gets_a_text_message(
        db, twilio, smtp, django_capture_on_commit_callbacks):
    caller = Recipient(phone="450 370-4820", language="fr")
    tell(django_capture_on_commit_callbacks,
         notice(caller, short="Ville: votre requête 2026-00042 est reçue."))
    [body] = twilio.bodies("+14503704820")
    # GSM-7 spelling (ê → e, ç → c) and the link.
    assert body == ("Ville: votre requete 2026-00042 est recue. "
                    "https://ville.example/fr/requetes/2026-00042/")
    assert not smtp.messages
    delivery = Delivery.objects.get()
    assert delivery.status == "sent" and delivery.subscriber is None
    assert delivery.provider_id.startswith("SM")


def test_a_caller_with_a_phone_and_an_email_gets_both(
        db, twilio, smtp, django_capture_on_commit_callbacks):
    caller = Recipient(phone="4503704820", email="Appelant@Example.com", language="en")
    tell(django_capture_on_commit_callbacks, notice(caller, subject="Your request moved"))
    assert twilio.bodies("+14503704820") == [
        "Your request moved https://ville.example/fr/requetes/2026-00042/"]
    [envelope] = smtp.messages
    assert envelope.rcpt_tos == ["appelant@example.com"]
    body = message_from_bytes(envelope.original_content).get_payload()[0].get_payload(
        decode=True).decode()
    assert "See it online:" in body  # the recipient's language
    assert "abonnement" not in body  # no preferences page without an account
    assert set(Delivery.objects.values_list("channel", "status")) == {("sms", "sent"),
                                                                      ("email", "sent")}


def test_push_reaches_the_browser_when_the_person_chose_push(
        citizen, smtp, service, django_capture_on_commit_callbacks):
    subscriber = services.subscriber_for(citizen)
    device = service.new_device()
    push_subscriptions.subscribe(subscriber, device["endpoint"], device["keys"])
    notices.set_preferences(subscriber, notices.clean_preferences({TOPIC: ["push"]}))
    tell(django_capture_on_commit_callbacks,
         notice(Recipient.for_user(citizen), short="Demande 2026-00042 : prise en charge",
                urgency="urgent"))
    [received] = service.received
    assert received["payload"]["title"] == "Votre demande avance"
    assert received["payload"]["body"] == "Demande 2026-00042 : prise en charge"
    assert received["payload"]["url"] == "https://ville.example/fr/requetes/2026-00042/"
    assert received["payload"]["alert"] is None and received["urgency"] == "high"
    assert not smtp.messages  # push only, as chosen
    assert Delivery.objects.get().status == "sent"


def test_email_chosen_goes_to_the_confirmed_alertes_address(
        citizen, smtp, django_capture_on_commit_callbacks):
    subscriber = services.subscriber_for(citizen)
    subscriber.addresses.create(channel="email", value="maison@example.com",
                                verified_at=timezone.now())
    subscriber.addresses.create(channel="email", value="pas-confirme@example.com")
    tell(django_capture_on_commit_callbacks, notice(Recipient.for_user(citizen)))
    assert [e.rcpt_tos for e in smtp.messages] == [["maison@example.com"]]


def test_choosing_nothing_tells_nothing(citizen, smtp, django_capture_on_commit_callbacks):
    subscriber = services.subscriber_for(citizen)
    notices.set_preferences(subscriber, {TOPIC: []})
    assert tell(django_capture_on_commit_callbacks, notice(Recipient.for_user(citizen)))
    assert not smtp.messages and not Delivery.objects.exists()
    assert NoticeRow.objects.count() == 1  # taken, kept for the record


# --- once, and at the right time --------------------------------------------------------

def test_the_same_dedupe_key_twice_tells_once(citizen, smtp,
                                              django_capture_on_commit_callbacks):
    first = notice(Recipient.for_user(citizen), key="requetes:event:7:user:1")
    assert tell(django_capture_on_commit_callbacks, first)
    assert tell(django_capture_on_commit_callbacks, first)
    again = notice(Recipient.for_user(citizen), key="requetes:event:7:user:1",
                   subject="Autre texte")
    assert tell(django_capture_on_commit_callbacks, again)
    assert len(smtp.messages) == 1
    assert Delivery.objects.count() == 1 and NoticeRow.objects.count() == 1


def _quiet_now(subscriber):
    """Quiet hours around the current local time."""
    now = timezone.localtime()
    subscriber.quiet_start = (now - timedelta(hours=1)).time().replace(second=0,
                                                                      microsecond=0)
    subscriber.quiet_end = (now + timedelta(hours=2)).time().replace(second=0,
                                                                    microsecond=0)
    subscriber.save()


def test_quiet_hours_hold_a_normal_notice_not_an_urgent_one(
        citizen, smtp, django_capture_on_commit_callbacks):
    subscriber = services.subscriber_for(citizen)
    _quiet_now(subscriber)
    tell(django_capture_on_commit_callbacks, notice(Recipient.for_user(citizen), key="n"))
    held = Delivery.objects.get(notice__dedupe_key="n")
    assert held.status == "queued" and held.not_before is not None
    assert held.not_before > timezone.now()
    assert timezone.localtime(held.not_before).time() == subscriber.quiet_end
    assert not smtp.messages
    tell(django_capture_on_commit_callbacks,
         notice(Recipient.for_user(citizen), key="u", urgency="urgent"))
    urgent = Delivery.objects.get(notice__dedupe_key="u")
    assert urgent.status == "sent" and urgent.not_before is None
    assert len(smtp.messages) == 1
    # Once the quiet hours are over (moved to a second ago), the sweep sends it.
    Delivery.objects.filter(pk=held.pk).update(
        not_before=timezone.now() - timedelta(seconds=1))
    with django_capture_on_commit_callbacks(execute=True):
        services.dispatch_due()
    held.refresh_from_db()
    assert held.status == "sent" and len(smtp.messages) == 2


# --- Mon Espace -------------------------------------------------------------------------

def test_the_received_list_shows_notices_with_their_truthful_state(
        citizen, client, smtp, twilio, officer, topics, django_capture_on_commit_callbacks,
        django_assert_max_num_queries):
    subscriber = services.subscriber_for(citizen)
    subscriber.addresses.create(channel="sms", value="+14503704821",
                                verified_at=timezone.now())
    notices.set_preferences(subscriber, {TOPIC: ["email", "sms"]})
    twilio.mode = "invalid"  # Twilio refuses the number: a permanent failure
    tell(django_capture_on_commit_callbacks,
         notice(Recipient.for_user(citizen), key="a", subject="Demande reçue"))
    _quiet_now(subscriber)
    tell(django_capture_on_commit_callbacks,
         notice(Recipient.for_user(citizen), key="b", subject="Demande fermée"))
    states = dict(Delivery.objects.filter(notice__dedupe_key="a")
                  .values_list("channel", "status"))
    assert states == {"email": "sent", "sms": "failed"}
    # An alert's delivery is listed beside them.
    from modules.alertes.models import Alert

    alert = Alert.objects.create(title_fr="Avis d'ébullition", body_fr="Faites bouillir.",
                                 status="sent", sent_at=timezone.now())
    Delivery.objects.create(alert=alert, subscriber=subscriber, channel="email",
                            address=citizen.email, status="sent", sent_at=timezone.now())
    with django_assert_max_num_queries(2):  # the subscriber, then every row at once
        rows = services.received(citizen)
        [(row.notice.subject if row.notice_id else row.alert.title()) for row in rows]
    assert [row.notice.subject if row.notice_id else row.alert.title() for row in rows][:1] \
        == ["Avis d'ébullition"]  # newest first
    client.force_login(citizen)
    page = client.get("/fr/mon-espace/").content.decode()
    assert "Demande reçue" in page and "Demande fermée" in page
    assert "Avis d&#x27;ébullition" in page
    # The failure's reason, in the page's language, with Twilio's own status and code.
    assert "Twilio l’a refusé (HTTP 400, erreur 21211)" in page
    assert "Échec" in page or "Failed" in page
    assert 'href="https://ville.example/fr/requetes/2026-00042/"' in page


# --- preferences ------------------------------------------------------------------------

def test_the_subscription_page_offers_the_notice_channels(
        citizen, client, smtp, django_capture_on_commit_callbacks):
    client.force_login(citizen)
    page = client.get("/fr/alertes/abonnement/").content.decode()
    assert 'id="avis-personnels"' in page and "Mes demandes d&#x27;essai" in page
    assert f'id="notice-{TOPIC}-email" checked' in page  # the topic's default
    sms = page[page.index(f'id="notice-{TOPIC}-sms"'):]
    assert sms.startswith(f'id="notice-{TOPIC}-sms" disabled')  # no confirmed mobile
    assert f'notice-{TOPIC}-sms-why' in page
    assert 'value="voice"' not in page[page.index('id="avis-personnels"'):]
    subscriber = services.subscriber_for(citizen)
    subscriber.addresses.create(channel="sms", value="+14503704822",
                                verified_at=timezone.now())
    response = client.post("/fr/alertes/abonnement/", {
        "action": "notices", f"notice_{TOPIC}": ["sms"]})
    assert response.status_code == 302
    assert NoticePreference.objects.get(subscriber=subscriber, topic=TOPIC).channels == ["sms"]
    page = client.get("/fr/alertes/abonnement/").content.decode()
    assert f'id="notice-{TOPIC}-sms" checked' in page
    assert f'id="notice-{TOPIC}-email" checked' not in page
    refused = client.post("/fr/alertes/abonnement/", {
        "action": "notices", f"notice_{TOPIC}": ["voice"]})
    assert refused.status_code == 400
    assert NoticePreference.objects.get(subscriber=subscriber, topic=TOPIC).channels == ["sms"]


@pytest.mark.parametrize("value", [
    {"inconnu": ["email"]},           # a topic nobody declares
    {TOPIC: ["voice"]},               # not offered for notices
    {TOPIC: ["pigeon"]},              # not a channel
    {TOPIC: "email"},                 # not a list
    ["email"],                        # not a mapping
])
def test_api_refuses_a_bad_topic_or_channel_and_saves_nothing(client, citizen, value):
    client.force_login(citizen)
    before = client.get(API).json()
    assert before["notice_channels"][TOPIC] == ["email"]
    response = client.patch(API + "preferences/", {"language": "en",
                                                   "notice_channels": value},
                            content_type="application/json")
    assert response.status_code == 400
    assert "notice_channels" in response.json()
    after = client.get(API).json()
    assert after["language"] == before["language"] == "fr"
    assert after["notice_channels"] == before["notice_channels"]
    assert not NoticePreference.objects.exists()


def test_api_sets_the_notice_channels(client, citizen):
    client.force_login(citizen)
    response = client.patch(API + "preferences/", {"notice_channels": {TOPIC: ["sms", "push",
                                                                               "sms"]}},
                            content_type="application/json")
    assert response.status_code == 200, response.content
    assert response.json()["notice_channels"][TOPIC] == ["sms", "push"]


# --- privacy ----------------------------------------------------------------------------

def test_export_and_erasure_cover_notices(citizen, smtp, django_capture_on_commit_callbacks):
    from hub.accounts.services import delete_account, export_user_data

    tell(django_capture_on_commit_callbacks, notice(Recipient.for_user(citizen)))
    data = export_user_data(citizen)["modules"]["alertes"]
    [exported] = data["notices"]
    assert exported["subject"] == "Votre demande avance"
    assert exported["deliveries"][0]["address"] == citizen.email
    delete_account(citizen)
    row = NoticeRow.objects.get()
    assert row.user is None and row.body == "" and row.subject == "—"
    delivery = Delivery.objects.get()
    assert delivery.subscriber is None and citizen.email not in delivery.address


def test_a_notice_needs_no_consent_and_a_left_subscriber_still_gets_it(
        citizen, smtp, django_capture_on_commit_callbacks):
    subscriber = services.subscriber_for(citizen)
    services.leave(subscriber, "web")
    tell(django_capture_on_commit_callbacks, notice(Recipient.for_user(citizen)))
    assert len(smtp.messages) == 1


# serialized_rollback: the flush after a transactional test recreates content types and
# permissions with other ids, which the next serialized test's restore collides with.
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_two_concurrent_calls_with_the_same_key_tell_once(citizen, smtp):
    """Two workers hand the hub the same notice at the same moment: the unique key lets
    one write the outbox; the other finds it taken and writes nothing."""
    import threading

    from django.db import connection

    item = notice(Recipient.for_user(citizen), key="requetes:event:99:user:1")
    # PostgreSQL: both calls at once (the barrier).  The test database of SQLite (one
    # in-memory database shared by the threads) refuses a second writer outright
    # instead of waiting as a database file does: there the two calls take turns.
    parallel = connection.vendor == "postgresql"
    start = threading.Barrier(2 if parallel else 1)
    answers, errors = [], []

    def worker():
        try:
            start.wait(timeout=10)
            answers.append(deliver_notice(item))
        except Exception as exc:  # reported below, not swallowed
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for thread in threads:
        thread.start()
        if not parallel:
            thread.join(timeout=60)
    for thread in threads:
        thread.join(timeout=60)
    assert not errors and answers == [True, True]
    assert NoticeRow.objects.count() == 1 and Delivery.objects.count() == 1
    assert len(smtp.messages) == 1


class AppPush:
    """An app push service (FCM-like) plugged in through ``alertes_app_push``."""

    def __init__(self):
        self.sent = []

    @hookimpl
    def alertes_app_push(self, deliveries, payloads):
        results = {}
        for delivery in deliveries:
            if delivery.address.startswith("fcm:"):
                self.sent.append((delivery.address, payloads[delivery.pk]))
                results[delivery.pk] = {"id": f"projects/ville/messages/{len(self.sent)}"}
        return results or None


def test_an_app_token_gets_the_notice_through_the_app_push_hook(
        citizen, smtp, django_capture_on_commit_callbacks):
    app = AppPush()
    pm = get_plugin_manager()
    pm.register(app, name="app-push-notices-test")
    try:
        subscriber = services.subscriber_for(citizen)
        push_subscriptions.add_device_token(subscriber, "fcm:jeton-android-avis-0001")
        notices.set_preferences(subscriber, {TOPIC: ["push"]})
        tell(django_capture_on_commit_callbacks, notice(Recipient.for_user(citizen)))
    finally:
        pm.unregister(name="app-push-notices-test")
    [(token, payload)] = app.sent
    assert token == "fcm:jeton-android-avis-0001"
    assert payload["alert"] is None and payload["notice"] == NoticeRow.objects.get().pk
    assert payload["title"] == "Votre demande avance" and payload["severity"] == "normal"
    delivery = Delivery.objects.get()
    assert delivery.status == "sent" and delivery.provider_id == "projects/ville/messages/1"
