"""Delivery channels are alertes' own hook (``alertes_channels``): the throwaway module,
found through its entry point like a pip-installed package, adds a webhook channel with
no edit outside its folder (``tests/throwaway/webhook.py``), and alertes takes it like
its own four: addresses on it (service, page, API), the alert editor, the outbox and the
worker, up to a local HTTP server receiving the POST."""

from __future__ import annotations

import json
import logging
import re
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from django.core.exceptions import ValidationError
from django.test import override_settings

from hub.notify import Notice, NoticeTopic, Recipient, deliver_notice
from hub.plugins import hookimpl
from hub.plugins.manager import get_plugin_manager
from modules.alertes import channels, hookspecs, notices, ratelimit, services
from modules.alertes.forms import AddressForm
from modules.alertes.models import Address, Alert, ConsentRecord, Delivery, Subscriber

from .conftest import approve_through_workflow, make_subscriber

BASE = "/api/v1/alert-subscription/"
PAGE = "/fr/alertes/abonnement/"


class WebhookReceiver:
    """A partner's system on 127.0.0.1: records each POST (path, headers, JSON body) and
    answers ``status`` (a list is answered in turn, the last one repeated)."""

    def __init__(self):
        self.status: int | list[int] = 200
        self.received: list[dict] = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_POST(self):
                length = int(self.headers.get("Content-Length") or 0)
                body = json.loads(self.rfile.read(length))
                receiver.received.append({"path": self.path, "body": body,
                                          "headers": dict(self.headers)})
                status = receiver.status
                if isinstance(status, list):
                    status = status.pop(0) if len(status) > 1 else status[0]
                self.send_response(status)
                self.send_header("X-Request-Id", f"req-{len(receiver.received)}")
                self.send_header("Content-Length", "0")
                self.end_headers()

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/alertes"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def stop(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver(settings):
    settings.THROWAWAY_WEBHOOK_ALLOW_LOOPBACK = True
    server = WebhookReceiver()
    yield server
    server.stop()


def emergency(officer, **extra):
    return Alert.objects.create(
        severity="emergency", title_fr="Avis d'ébullition", title_en="Boil-water advisory",
        body_fr="Faites bouillir l'eau une minute.", body_en="Boil water for one minute.",
        sms_fr="Faites bouillir l'eau", sms_en="Boil water", channels=["email"],
        created_by=officer, **extra)


# --- the registry ---------------------------------------------------------------------

def test_hook_alertes_channels(db):
    """alertes' four and the throwaway module's webhook, in module order (alertes 20,
    throwaway 99); a disabled module's channel is gone."""
    registered = channels.available_channels()
    assert list(registered) == ["email", "sms", "voice", "push", "webhook"]
    assert type(registered["webhook"]).__module__ == "tests.throwaway.webhook"
    assert str(registered["webhook"].label) == "Adresse web (webhook)"
    assert channels.channel_choices(addable=True) == [
        (code, registered[code].label) for code in ("email", "sms", "voice", "webhook")]
    assert channels.unverified_reachable() == ["voice", "push", "webhook"]
    with override_settings(HUB_DISABLED_MODULES=["throwaway"]):
        assert list(channels.available_channels()) == ["email", "sms", "voice", "push"]
        assert "webhook" not in dict(AddressForm().fields["channel"].choices)


def test_the_error_type_is_the_public_one():
    """A plugin raises ``modules.alertes.hookspecs.DeliveryError``: the very class the
    worker catches (and the one alertes' own channels raise)."""
    assert channels.DeliveryError is hookspecs.DeliveryError
    assert services.delivery.DeliveryError is hookspecs.DeliveryError
    assert ratelimit.Throttle is hookspecs.Throttle


class Duplicates:
    """A second package declaring a channel whose code alertes already uses, and one
    whose code does not fit the database's 10 characters."""

    class Email:
        code = "email"
        label = "Courriel bis"

        def send(self, delivery):
            return "x"

    class TooLong(Email):
        code = "pigeon-voyageur"

    def __init__(self, order: int = 50):
        self.order = order

    @hookimpl
    def hub_module(self):
        return {"slug": "doublon", "name_fr": "Doublon", "order": self.order}

    @hookimpl
    def alertes_channels(self):
        return [self.Email(), self.TooLong()]


@pytest.fixture
def duplicates(request, db):
    pm = get_plugin_manager()
    plugin = Duplicates(getattr(request, "param", 50))
    pm.register(plugin, name="doublon")
    yield plugin
    pm.unregister(plugin)


def test_the_first_module_in_order_keeps_a_code_and_the_other_is_logged(duplicates, caplog):
    with caplog.at_level(logging.WARNING, logger="modules.alertes.channels"):
        registered = channels.available_channels()
    assert type(registered["email"]).__name__ == "EmailChannel"  # alertes: order 20 < 50
    assert "pigeon-voyageur" not in registered
    assert list(registered) == ["email", "sms", "voice", "push", "webhook"]
    messages = [r.getMessage() for r in caplog.records]
    assert any("'email' of module doublon ignored: module alertes already declares it" in m
               for m in messages), messages
    assert any("of module doublon ignored: its code must be a string of 1 to 10" in m
               for m in messages), messages


@pytest.mark.parametrize("duplicates", [10], indirect=True)
def test_a_module_before_alertes_in_module_order_takes_the_code(duplicates, caplog):
    with caplog.at_level(logging.WARNING, logger="modules.alertes.channels"):
        registered = channels.available_channels()
    assert isinstance(registered["email"], Duplicates.Email)  # order 10 < alertes' 20
    assert list(registered) == ["email", "sms", "voice", "push", "webhook"]
    assert any("'email' of module alertes ignored: module doublon already declares it"
               in r.getMessage() for r in caplog.records)


# --- addresses on any registered channel ------------------------------------------------

def test_a_subscriber_adds_a_webhook_address_through_the_service(receiver, topics):
    subscriber = make_subscriber(topics=[topics["deneigement"]])
    address = services.add_address(subscriber, "webhook", f"  {receiver.url}#ignored ")
    assert (address.channel, address.value) == ("webhook", receiver.url)
    assert not address.verified  # none needed: the audience takes it as it is
    assert ConsentRecord.objects.filter(subscriber=subscriber, action="given",
                                        scope="channel:webhook").exists()


@pytest.mark.parametrize("channel, value, field", [
    ("fax", "4503704820", "channel"),             # no module declares it
    ("push", "https://push.example/x", "channel"),  # registered, but not typed in
    ("webhook", "ftp://partenaire.example/alertes", "value"),
    ("webhook", "https://10.0.0.7/alertes", "value"),  # the city's own network
    ("webhook", "http://partenaire.example/alertes", "value"),  # https only
    ("webhook", "", "value"),
])
def test_unknown_channels_and_bad_addresses_are_refused_and_nothing_is_saved(
        channel, value, field, topics, settings):
    settings.THROWAWAY_WEBHOOK_ALLOW_LOOPBACK = True
    subscriber = make_subscriber(topics=[topics["deneigement"]])
    with pytest.raises(ValidationError) as error:
        services.add_address(subscriber, channel, value)
    assert list(error.value.message_dict) == [field]
    assert not Address.objects.exists()
    assert not ConsentRecord.objects.filter(scope__startswith="channel:").exists()


def test_the_subscription_page_offers_the_webhook(citizen_client, citizen, topics, receiver):
    page = citizen_client.get(PAGE).content.decode()
    assert '<option value="webhook">Adresse web (webhook)</option>' in page
    response = citizen_client.post(PAGE, {"action": "add_address", "channel": "webhook",
                                          "value": receiver.url})
    assert response.status_code == 302
    address = Address.objects.get(subscriber__user=citizen)
    assert (address.channel, address.value) == ("webhook", receiver.url)
    page = citizen_client.get(PAGE).content.decode()
    assert "L’adresse est ajoutée." in page and "<td>Adresse web (webhook)</td>" in page
    assert "<td>Prêt</td>" in page  # needs no confirmation: used as it is
    dashboard = citizen_client.get("/fr/mon-espace/").content.decode()
    assert "Adresse web (webhook)" in dashboard and "à confirmer" not in dashboard
    response = citizen_client.post(PAGE, {"action": "add_address", "channel": "webhook",
                                          "value": "https://192.168.0.10/"})
    assert response.status_code == 400
    assert "Cette adresse web n’est pas sur Internet." in response.content.decode()
    assert Address.objects.count() == 1


def test_the_api_adds_and_removes_an_address_on_any_channel(client, citizen, topics,
                                                            receiver):
    client.force_login(citizen)
    response = client.post(BASE + "addresses/", {"channel": "webhook", "address": receiver.url},
                           content_type="application/json")
    assert response.status_code == 201, response.content
    created = response.json()
    assert created["channel"] == "webhook" and created["address"] == receiver.url
    assert created in client.get(BASE).json()["addresses"]
    for body, field in (({"channel": "fax", "address": "4503704820"}, "channel"),
                        ({"channel": "webhook", "address": "pas une adresse"}, "address"),
                        ({"channel": "push", "address": "https://push.example/"}, "channel")):
        response = client.post(BASE + "addresses/", body, content_type="application/json",
                               HTTP_ACCEPT_LANGUAGE="fr")
        assert response.status_code == 400 and list(response.json()) == [field], body
    response = client.post(BASE + "phones/", {"number": "123"}, content_type="application/json")
    assert response.status_code == 400 and list(response.json()) == ["number"]
    assert Address.objects.count() == 1
    schema = client.get("/api/schema/?format=json").json()
    assert f"{BASE}addresses/" in schema["paths"]
    assert client.delete(BASE + f"addresses/{created['id']}/").status_code == 204
    assert not Address.objects.exists()
    assert ConsentRecord.objects.filter(scope="channel:webhook", action="withdrawn").exists()


def test_the_alert_editor_offers_every_registered_channel(client, officer, topics):
    client.force_login(officer)
    page = client.get("/admin/snippets/alertes/alert/add/").content.decode()
    offered = re.findall(r'name="channels" value="([^"]+)"', page)
    assert offered == ["email", "sms", "voice", "push", "webhook"]
    assert "Adresse web (webhook)" in page
    response = client.post("/admin/snippets/alertes/alert/add/", {
        "severity": "notice", "title_fr": "Collecte reportée", "body_fr": "Demain.",
        "sms_fr": "", "title_en": "", "body_en": "", "sms_en": "", "push_fr": "",
        "push_en": "", "voice_fr": "", "voice_en": "", "topics": [topics["loisirs"].pk],
        "channels": ["webhook", "email"]})
    assert response.status_code == 302
    assert Alert.objects.get().channels == ["webhook", "email"]
    response = client.post("/admin/snippets/alertes/alert/add/", {
        "severity": "notice", "title_fr": "Autre", "body_fr": "Demain.",
        "topics": [topics["loisirs"].pk], "channels": ["fax"]})
    assert response.status_code == 200 and Alert.objects.count() == 1


# --- through the real outbox and worker ---------------------------------------------------

def test_an_emergency_reaches_the_webhook_through_the_outbox(
        officer, topics, receiver, django_capture_on_commit_callbacks):
    subscriber = make_subscriber(topics=[topics["deneigement"]], language="en")
    services.add_address(subscriber, "webhook", receiver.url)
    alert = emergency(officer)
    with django_capture_on_commit_callbacks(execute=True):
        services.send(alert, officer)
    row = Delivery.objects.get(alert=alert, channel="webhook")
    assert row.status == "sent" and row.provider_id == "req-1" and row.attempts == 1
    [request] = receiver.received
    assert request["path"] == "/alertes"
    assert request["headers"]["Content-Type"] == "application/json"
    assert request["headers"]["Idempotency-Key"] == f"webhook-{row.pk}"
    assert request["body"] == {
        "type": "alert", "id": str(alert.identifier), "kind": "alert",
        "severity": "emergency", "language": "en", "title": "Boil-water advisory",
        "text": "Boil water for one minute.", "short": "Boil water"}


def test_an_approved_alert_on_the_webhook_channel_goes_out(
        officer, approver, topics, receiver, smtp, django_capture_on_commit_callbacks):
    """The channel chosen in the alert (as the editor's checkbox stores it) is the one
    used: the webhook gets it, the email address of the same subscriber does not."""
    subscriber = make_subscriber(email="r@example.com", topics=[topics["deneigement"]])
    services.add_address(subscriber, "webhook", receiver.url)
    alert = Alert.objects.create(severity="notice", title_fr="Collecte reportée",
                                 body_fr="La collecte est reportée à demain.",
                                 channels=["webhook"], created_by=officer)
    alert.topics.set([topics["deneigement"]])
    with django_capture_on_commit_callbacks(execute=True):
        approve_through_workflow(alert, officer, approver)
    assert list(Delivery.objects.filter(alert=alert).values_list("channel", "status")) == [
        ("webhook", "sent")]
    assert [r["body"]["title"] for r in receiver.received] == ["Collecte reportée"]
    assert not [m for m in smtp.messages if m.rcpt_tos == ["r@example.com"]]


def test_a_permanent_error_of_the_plugin_fails_the_row_with_its_reason(
        officer, topics, receiver, django_capture_on_commit_callbacks):
    receiver.status = 410  # nothing listens there any more
    subscriber = make_subscriber(topics=[topics["deneigement"]])
    services.add_address(subscriber, "webhook", receiver.url)
    alert = emergency(officer)
    with django_capture_on_commit_callbacks(execute=True):
        services.send(alert, officer)
    row = Delivery.objects.get(alert=alert, channel="webhook")
    assert (row.status, row.error, row.attempts) == ("failed", "HTTP 410 from the webhook", 1)
    assert row.failed_at is not None and len(receiver.received) == 1
    address = Address.objects.get(channel="webhook")
    assert address.failing and address.failing_reason == "HTTP 410 from the webhook"
    # The failing address is skipped by the next alert.
    assert services.audience_size(emergency(officer)) == 0


def test_a_transient_error_of_the_plugin_is_retried_later(
        officer, topics, receiver, django_capture_on_commit_callbacks):
    receiver.status = [503, 200]
    subscriber = make_subscriber(topics=[topics["deneigement"]])
    services.add_address(subscriber, "webhook", receiver.url)
    alert = emergency(officer)
    with django_capture_on_commit_callbacks(execute=True):
        services.send(alert, officer)
    row = Delivery.objects.get(alert=alert, channel="webhook")
    assert (row.status, row.error) == ("queued", "HTTP 503 from the webhook")
    assert row.not_before is not None
    Delivery.objects.filter(pk=row.pk).update(not_before=None)  # the backoff has passed
    services.deliver([row.pk])
    row.refresh_from_db()
    assert (row.status, row.attempts, row.provider_id) == ("sent", 2, "req-2")
    assert not Address.objects.get(channel="webhook").failing


def test_a_disabled_channel_module_leaves_its_addresses_out(
        officer, topics, receiver, django_capture_on_commit_callbacks):
    subscriber = make_subscriber(email="r@example.com", topics=[topics["deneigement"]])
    services.add_address(subscriber, "webhook", receiver.url)
    with override_settings(HUB_DISABLED_MODULES=["throwaway"]):
        alert = emergency(officer)
        assert services.alert_channels(alert) == ["email", "sms", "voice", "push"]
        assert services.audience_size(alert) == 1  # the email address only
        with pytest.raises(ValidationError) as error:
            services.add_address(subscriber, "webhook", receiver.url + "/autre")
        assert list(error.value.message_dict) == ["channel"]
    assert Subscriber.objects.get().addresses.count() == 2


class NoticeTopics:
    """A module declaring one personal-notice topic through the hub's hook."""

    @hookimpl
    def hub_notice_topics(self):
        return [NoticeTopic(slug="essais-webhook", name_fr="Mes essais", name_en="My trials",
                            default_channels=("email",))]


def test_a_personal_notice_reaches_the_webhook_the_person_chose(
        citizen, receiver, django_capture_on_commit_callbacks):
    """``hub_notify`` on the webhook: the person chose it for the topic, its address
    needs no confirmation (``needs_verification`` false), and the notice's texts reach
    the partner's system through the same outbox and worker."""
    pm = get_plugin_manager()
    pm.register(NoticeTopics(), name="essais-webhook")
    try:
        subscriber = services.subscriber_for(citizen)
        services.add_address(subscriber, "webhook", receiver.url)
        notices.set_preferences(subscriber, {"essais-webhook": ["webhook"]})
        with django_capture_on_commit_callbacks(execute=True):
            assert deliver_notice(Notice(
                recipient=Recipient.for_user(citizen), topic="essais-webhook",
                subject="Votre demande avance", body="Elle est prise en charge.",
                url="https://ville.example/fr/requetes/2026-00042/", urgency="urgent",
                dedupe_key="essais-webhook:1", source="essais"))
    finally:
        pm.unregister(name="essais-webhook")
    row = Delivery.objects.get(channel="webhook")
    assert row.status == "sent" and row.alert_id is None
    [request] = receiver.received
    assert request["body"] == {
        "type": "notice", "id": f"notice-{row.notice_id}", "topic": "essais-webhook",
        "urgency": "urgent", "language": "fr", "title": "Votre demande avance",
        "text": "Elle est prise en charge.",
        "short": "Votre demande avance",
        "url": "https://ville.example/fr/requetes/2026-00042/"}
