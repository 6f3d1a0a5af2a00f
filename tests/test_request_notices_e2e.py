"""A resident hears about their request, end to end, with real objects and protocols.

An agent acts on a request through the real admin page (``services.transition`` and
``add_comment`` behind it); `requetes` hands notices to ``hub_notify``; `alertes` writes
its outbox rows and its worker (the tests' immediate task backend) sends them to a local
SMTP server (aiosmtpd), a local Twilio-like HTTP server and a local Web Push endpoint.
With `alertes` switched off, the hub sends one plain email itself.
"""

from __future__ import annotations

from email import message_from_bytes
from email.header import decode_header, make_header

import pytest
from django.test import override_settings
from django.utils import timezone

from hub.models import NoticeLog
from modules.alertes import notices as alert_notices
from modules.alertes import services as alert_services
from modules.alertes.models import Delivery
from modules.alertes.services import push_subscriptions
from modules.alertes.sms import is_gsm7
from modules.requetes import roles, services
from modules.requetes.models import Category, ServiceRequest
from tests.alertes.conftest import service, smtp, twilio, vapid  # noqa: F401 (fixtures)
from tests.conftest import make_user
from tests.requetes.conftest import INSIDE

NBSP = "\u00a0"
PUBLIC = "Une équipe passera demain matin."
INTERNAL = "Poteau fendu, prévoir la nacelle"


@pytest.fixture
def lighting(departments):
    return Category.objects.create(service_code="eclairage", name_fr="Éclairage de rue",
                                   name_en="Street lighting", department=departments[0])


@pytest.fixture
def web_request(citizen, lighting, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        return services.create_request(actor=citizen, category=lighting,
                                       description="Lampadaire éteint",
                                       latitude=INSIDE[0], longitude=INSIDE[1])


def _subject(envelope) -> str:
    return str(make_header(decode_header(
        message_from_bytes(envelope.original_content)["Subject"])))


def _text(envelope) -> str:
    message = message_from_bytes(envelope.original_content)
    return "\n".join(part.get_payload(decode=True).decode()
                     for part in message.walk() if not part.is_multipart())


def _post(client, capture, request, data):
    with capture(execute=True):
        response = client.post(f"/admin/requetes/{request.pk}/", data)
    assert response.status_code == 302, response.content.decode()[-3000:]
    return response


def _everything_sent(smtp, twilio, service) -> str:  # noqa: F811
    return "\n".join([*(_subject(e) + "\n" + _text(e) for e in smtp.messages),
                      *twilio.bodies(), *(str(r["payload"]) for r in service.received)])


def test_an_acknowledgement_reaches_the_resident_and_the_follower_on_their_channels(
        client, web_request, citizen, other_citizen, agent_a, smtp, twilio,  # noqa: F811
        service, django_capture_on_commit_callbacks):  # noqa: F811
    # The resident chose email and text messages for "My requests", with a confirmed mobile.
    mine = alert_services.subscriber_for(citizen)
    mine.addresses.create(channel="sms", value="+14503704821", verified_at=timezone.now())
    alert_notices.set_preferences(mine, alert_notices.clean_preferences(
        {"requests": ["email", "sms"]}))
    # The neighbour who said "me too" reads English and chose push on their browser.
    other_citizen.preferred_language = "en"
    other_citizen.save()
    services.follow(web_request, user=other_citizen)
    theirs = alert_services.subscriber_for(other_citizen)
    device = service.new_device()
    push_subscriptions.subscribe(theirs, device["endpoint"], device["keys"])
    alert_notices.set_preferences(theirs, alert_notices.clean_preferences(
        {"requests": ["push"]}))
    ref = web_request.reference

    client.force_login(agent_a)
    form = {"action": "transition", "to_status": "acknowledged", "public_message": PUBLIC,
            "internal_note": INTERNAL}
    _post(client, django_capture_on_commit_callbacks, web_request, form)

    [email] = smtp.messages
    assert email.rcpt_tos == [citizen.email]
    assert _subject(email) == f"Votre requête {ref}{NBSP}: prise en charge"
    assert f"«{NBSP}{PUBLIC}{NBSP}»" in _text(email)
    assert f"/fr/requetes/{ref}/" in _text(email)
    [sms] = twilio.bodies("+14503704821")
    assert ref in sms and "Travaux publics" in sms and f"/fr/requetes/{ref}/" in sms
    [pushed] = service.received
    assert pushed["payload"]["title"] == f"The request {ref} you follow: acknowledged"
    assert pushed["payload"]["url"].endswith(f"/en/requetes/{ref}/")
    everything = _everything_sent(smtp, twilio, service)
    assert INTERNAL not in everything and agent_a.email not in everything

    # The same form sent twice (a double click) tells nobody again.
    _post(client, django_capture_on_commit_callbacks, web_request, form)
    assert (len(smtp.messages), len(twilio.bodies()), len(service.received)) == (1, 1, 1)
    # An internal note reaches nobody.
    _post(client, django_capture_on_commit_callbacks, web_request,
          {"action": "note", "internal_note": "Rappeler Hydro lundi"})
    assert (len(smtp.messages), len(twilio.bodies()), len(service.received)) == (1, 1, 1)

    # Both appear in Mon Espace with their delivery state.
    client.force_login(citizen)
    page = client.get("/fr/mon-espace/").content.decode()
    assert f"Votre requête {ref}" in page
    assert set(Delivery.objects.filter(subscriber=mine).values_list("channel", "status")) \
        == {("email", "sent"), ("sms", "sent")}
    client.force_login(other_citizen)
    page = client.get("/en/mon-espace/").content.decode()
    assert f"The request {ref} you follow" in page
    assert Delivery.objects.get(subscriber=theirs).status == "sent"


def test_a_phone_caller_with_only_a_phone_gets_text_messages(
        client, lighting, agent_a, smtp, twilio,  # noqa: F811
        django_capture_on_commit_callbacks):
    intake = make_user("saisie.e2e@example.com", is_staff=True,
                       groups=[roles.INTAKE_AGENTS])
    with django_capture_on_commit_callbacks(execute=True):
        request = services.create_request(
            actor=intake, category=lighting, description="Lampadaire éteint",
            latitude=INSIDE[0], longitude=INSIDE[1], channel="phone",
            caller_name="Jean Roy", caller_phone="450 555-0101",
            contact_channel=ServiceRequest.ContactChannel.PHONE)
    client.force_login(agent_a)
    _post(client, django_capture_on_commit_callbacks, request,
          {"action": "transition", "to_status": "acknowledged", "public_message": PUBLIC})
    _post(client, django_capture_on_commit_callbacks, request,
          {"action": "transition", "to_status": "closed", "closure_reason": "fixed"})
    first, closed = twilio.bodies("+14505550101")
    # French in GSM-7 (no ê, ç) so that a message stays 160 characters a segment, and
    # one spelling per message: "requête" folds, so every accent of it folds.
    assert f"la requete {request.reference} (Eclairage de rue)" in first
    assert "Une equipe passera demain matin." in first
    assert all(is_gsm7(body) for body in (first, closed))
    assert request.reference in closed and "est ferm" in closed
    assert "/requetes/" not in first  # a caller without an account gets no page link
    assert not smtp.messages


def test_with_alertes_switched_off_the_hub_sends_one_plain_email(
        client, web_request, citizen, agent_a, smtp,  # noqa: F811
        django_capture_on_commit_callbacks):
    client.force_login(agent_a)
    with override_settings(HUB_DISABLED_MODULES=["alertes"]):
        _post(client, django_capture_on_commit_callbacks, web_request,
              {"action": "transition", "to_status": "acknowledged",
               "public_message": PUBLIC, "internal_note": INTERNAL})
        _post(client, django_capture_on_commit_callbacks, web_request,
              {"action": "transition", "to_status": "acknowledged",
               "public_message": PUBLIC, "internal_note": INTERNAL})
    [email] = smtp.messages
    assert email.rcpt_tos == [citizen.email]
    assert _subject(email) == f"Votre requête {web_request.reference}{NBSP}: prise en charge"
    assert PUBLIC in _text(email) and INTERNAL not in _text(email)
    assert NoticeLog.objects.get().state == "sent"
    assert not Delivery.objects.exists()  # never both
