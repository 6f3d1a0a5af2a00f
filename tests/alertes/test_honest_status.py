"""Issue 13, item 2: what staff and residents are told says what happened.

* a texted code: "sent" only when the provider accepted it, "could not be sent: why"
  when there is no provider or it refused;
* an alert's status from its deliveries (one aggregate query, whatever the number of
  alerts listed): "Envoyé avec N échecs", "Échec de l'envoi", "Envoi en cours";
* the compose, edit and report screens warn of a channel without its provider and show
  the emergency override (every channel) before sending;
* channel, status and failure reason in French on the report."""

import html

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import translation
from wagtail.admin.panels import ObjectList

from modules.alertes import services
from modules.alertes.admin.snippets import AlertViewSet
from modules.alertes.admin_forms import AlertForm
from modules.alertes.models import Address, Alert, Delivery

from .conftest import make_subscriber

URL = "/fr/alertes/abonnement/"
NBSP = "\u00a0"


def page_text(response) -> str:
    return html.unescape(response.content.decode())


@pytest.fixture
def no_sandbox(settings):
    settings.ALERTES_SANDBOX = False
    for name in ("ALERTES_TWILIO_ACCOUNT_SID", "ALERTES_TWILIO_AUTH_TOKEN", "ALERTES_TWILIO_FROM",
                 "ALERTES_TWILIO_MESSAGING_SERVICE_SID", "ALERTES_VAPID_PRIVATE_KEY"):
        setattr(settings, name, "")


# --- the texted code ---------------------------------------------------------------------

@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_a_code_without_a_provider_says_it_could_not_be_sent(citizen_client, no_sandbox):
    response = citizen_client.post(URL, {"action": "add_address", "channel": "sms",
                                         "value": "450 555-1234"}, follow=True)
    text = page_text(response)
    assert f"Le code n’a pas pu être envoyé{NBSP}: Aucun fournisseur SMS n’est configuré." \
        in text
    assert "Nous avons envoyé un code" not in text
    assert Address.objects.get(channel="sms").verified_at is None


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_a_code_refused_by_the_provider_says_why(citizen_client, twilio):
    twilio.mode = "invalid"
    response = citizen_client.post(URL, {"action": "add_address", "channel": "sms",
                                         "value": "450 555-1234"}, follow=True)
    text = page_text(response)
    assert f"Le code n’a pas pu être envoyé{NBSP}: Twilio l’a refusé (HTTP 400, erreur 21211)" \
        in text
    assert "Nous avons envoyé un code" not in text


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_a_code_the_provider_accepted_says_sent(citizen_client, twilio):
    response = citizen_client.post(URL, {"action": "add_address", "channel": "sms",
                                         "value": "450 555-1234"}, follow=True)
    assert "Nous avons envoyé un code à 6 chiffres à ce numéro." in page_text(response)
    assert len(twilio.bodies("+14505551234")) == 1


def test_the_send_function_reports_its_outcome(db, no_sandbox,
                                               django_capture_on_commit_callbacks):
    subscriber = make_subscriber()
    with django_capture_on_commit_callbacks(execute=True):
        address = services.add_address(subscriber, "sms", "4505551234")
    outcome = address.code_sending
    assert (outcome.state, outcome.error) == ("failed", "SMS provider not configured")


# --- an alert's status from its deliveries ------------------------------------------------

def sent_alert(title, channels=("email", "sms", "voice")):
    return Alert.objects.create(title_fr=title, body_fr="Évacuez la rue.",
                                sms_fr="Fuite de gaz", severity="emergency",
                                channels=list(channels), status="sending")


def deliver(alert):
    # An invalid number marks its address failing; each alert here tries them again.
    Address.objects.update(failing=False)
    services.build_outbox(alert)
    services.deliver(list(Delivery.objects.filter(alert=alert).values_list("pk", flat=True)))
    services.refresh_alert_status(alert.pk)
    alert.refresh_from_db()
    return alert


@pytest.fixture
def failing_phones(db, twilio):
    """Three residents reached by email (accepted) and SMS and voice, which Twilio
    refuses (HTTP 400, invalid number)."""
    twilio.mode = "invalid"
    for n in range(3):
        make_subscriber(email=f"r{n}@example.com", sms=f"+1450555000{n}",
                        voice=f"+1450555100{n}")
    return twilio


def test_failed_sms_and_calls_are_not_sent(failing_phones):
    alert = deliver(sent_alert("Fuite de gaz"))
    summary = services.summary(alert)
    assert (summary.done, summary.failed) == (3, 6)
    with translation.override("en"):
        assert summary.label == "Sent with 6 failures"  # not "Sent"
    with translation.override("fr"):
        assert summary.label == "Envoyé avec 6 échecs"
    by_channel = {row.channel: (row.done, row.failed) for row in summary.channels}
    assert by_channel == {"email": (3, 0), "sms": (0, 3), "voice": (0, 3)}


@translation.override("en")
def test_all_failed_pending_and_fine(failing_phones):
    Address.objects.filter(channel="email").delete()  # SMS and calls only, all refused
    failed = deliver(sent_alert("Tout échoue"))
    assert services.summary(failed).label == "Sending failed"
    failing_phones.mode = "ok"
    fine = deliver(sent_alert("Tout passe"))
    assert services.summary(fine).label == "Sent"
    pending = sent_alert("En attente")
    assert services.summary(pending).label == "Sending"  # no outbox written yet
    services.build_outbox(pending)
    assert services.summary(pending).label == "Sending"
    Alert.objects.filter(pk=pending.pk).update(status="sent")
    Delivery.objects.filter(alert=pending).delete()
    pending.refresh_from_db()
    assert services.summary(pending).label == "Sent to nobody"
    draft = Alert.objects.create(title_fr="Brouillon", body_fr="x", channels=["email"])
    assert services.summary(draft).label == "Draft"


def test_the_status_of_a_list_takes_one_query(failing_phones):
    alerts = [deliver(sent_alert(f"Alerte {n}", channels=("email", "sms")))
              for n in range(4)]
    with CaptureQueriesContext(connection) as queries:
        found = services.summaries(alerts)
    assert len(queries) == 1
    with translation.override("fr"):
        assert {s.label for s in found.values()} == {"Envoyé avec 6 échecs"}


def test_the_admin_screens_say_what_happened(client, officer, failing_phones):
    alert = deliver(sent_alert("Fuite de gaz"))
    client.force_login(officer)
    for url in ("/admin/alertes/envois/", f"/admin/alertes/{alert.pk}/rapport/",
                "/admin/snippets/alertes/alert/",
                f"/admin/snippets/alertes/alert/edit/{alert.pk}/"):
        text = page_text(client.get(url))
        assert "Envoyé avec 6 échecs" in text, url
        if "snippets/alertes/alert/" not in url or "/edit/" in url:  # with the channels
            assert f"Texto (SMS){NBSP}: 3 échecs" in text, url
            assert f"Courriel{NBSP}: 3 envoyés" in text, url
    report = page_text(client.get(f"/admin/alertes/{alert.pk}/rapport/"))
    assert "Twilio l’a refusé (HTTP 400, erreur 21211)" in report
    assert ">failed<" not in report and ">sms<" not in report and ">voice<" not in report


def test_listings_do_not_query_per_alert(client, officer, failing_phones):
    client.force_login(officer)
    deliver(sent_alert("Première", channels=("email", "sms")))
    counts = []
    for extra in range(2):
        with CaptureQueriesContext(connection) as queries:
            client.get("/admin/alertes/envois/")
        with CaptureQueriesContext(connection) as index_queries:
            client.get("/admin/snippets/alertes/alert/")
        counts.append((len(queries), len(index_queries)))
        for n in range(3):
            deliver(sent_alert(f"Encore {extra}-{n}", channels=("email", "sms")))
    assert counts[0] == counts[1]


# --- before sending ----------------------------------------------------------------------

def test_compose_and_report_warn_of_channels_without_a_provider(client, officer, no_sandbox):
    client.force_login(officer)
    text = page_text(client.get("/admin/snippets/alertes/alert/add/"))
    assert "Avant l’envoi" in text
    assert "aucun fournisseur n’est configuré" in text
    draft = Alert.objects.create(title_fr="Travaux", body_fr="x", severity="info",
                                 channels=["email", "sms"], created_by=officer)
    for url in (f"/admin/snippets/alertes/alert/edit/{draft.pk}/",
                f"/admin/alertes/{draft.pk}/rapport/"):
        text = page_text(client.get(url))
        assert f"{NBSP}: aucun fournisseur n’est configuré{NBSP}; ces messages échoueront" \
            in text, url
    plan = services.sending_plan(Alert(severity="info", channels=["email"]))
    assert plan.warnings == []


def test_the_emergency_override_is_shown_and_the_boxes_locked(client, officer, no_sandbox):
    form_class = ObjectList(AlertViewSet.panels, base_form_class=AlertForm).bind_to_model(
        Alert).get_form_class()
    form = form_class(data={"severity": "emergency", "channels": ["email"]})
    field = form.fields["channels"]
    assert field.disabled
    form.is_valid()
    assert form.cleaned_data["channels"] == [code for code, _ in field.choices]
    assert not form_class(data={"severity": "info", "channels": ["email"]}).fields[
        "channels"].disabled
    emergency = Alert.objects.create(title_fr="Fuite", body_fr="x", severity="emergency",
                                     channels=["email"], created_by=officer)
    client.force_login(officer)
    for url in (f"/admin/snippets/alertes/alert/edit/{emergency.pk}/",
                f"/admin/alertes/{emergency.pk}/rapport/"):
        text = page_text(client.get(url))
        assert f"Urgence{NBSP}: envoyée sur tous les canaux" in text, url
        assert f"Cases cochées{NBSP}: Courriel" in text, url
    edit = page_text(client.get(f"/admin/snippets/alertes/alert/edit/{emergency.pk}/"))
    assert 'name="channels"' in edit and "disabled" in edit


# --- the same outcome in the API (an app tells its user the truth too) ---------------------

API = "/api/v1/alert-subscription/"


def api_post(client, path, data):
    return client.post(API + path, data, content_type="application/json",
                       HTTP_ACCEPT_LANGUAGE="fr")


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_api_phone_without_a_provider_says_the_code_was_not_sent(citizen_client, no_sandbox):
    response = api_post(citizen_client, "phones/", {"number": "450 555-1234"})
    assert response.status_code == 201
    assert response.json()["verification"] == {
        "method": "code", "state": "failed",
        "detail": f"Le code n’a pas pu être envoyé{NBSP}: Aucun fournisseur SMS n’est "
                  "configuré."}


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_api_address_refused_by_twilio_says_why(citizen_client, twilio):
    twilio.mode = "invalid"
    response = api_post(citizen_client, "addresses/", {"channel": "sms",
                                                       "address": "450 555-1234"})
    verification = response.json()["verification"]
    assert verification["state"] == "failed"
    assert "Twilio l’a refusé (HTTP 400, erreur 21211)" in verification["detail"]


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_api_phone_accepted_by_twilio_says_sent(citizen_client, twilio):
    response = api_post(citizen_client, "phones/", {"number": "450 555-1234"})
    assert response.json()["verification"] == {
        "method": "code", "state": "sent",
        "detail": "Nous avons envoyé un code à 6 chiffres à ce numéro."}
    assert len(twilio.bodies("+14505551234")) == 1


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_api_email_link_refused_by_the_mail_server_says_so(citizen_client, smtp):
    smtp.plan["nouvelle@example.com"] = ["550"]
    response = api_post(citizen_client, "addresses/", {"channel": "email",
                                                       "address": "nouvelle@example.com"})
    assert response.status_code == 201
    verification = response.json()["verification"]
    assert (verification["method"], verification["state"]) == ("link", "failed")
    assert verification["detail"].startswith("Le lien de confirmation n’a pas pu être envoyé")
    assert not smtp.messages
    # The mail server takes the next one: the web page then says the link was sent.
    response = citizen_client.post(URL, {"action": "add_address", "channel": "email",
                                         "value": "autre@example.com"}, follow=True)
    assert "Nous avons envoyé un lien de confirmation à cette adresse." in page_text(response)
    assert smtp.received()["autre@example.com"] == 1


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_api_verified_or_non_confirmed_channels_carry_no_verification(citizen_client, twilio):
    response = api_post(citizen_client, "phones/", {"number": "450 555-1234",
                                                    "channel": "voice"})
    assert response.status_code == 201
    assert "verification" not in response.json()
