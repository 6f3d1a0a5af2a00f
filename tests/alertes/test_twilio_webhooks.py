"""Every Twilio webhook goes through the one signature gate (``views.twilio_webhook``):
an unsigned, forged or wrongly keyed POST is refused with 403 and changes nothing."""

import pytest
from django.conf import settings
from django.urls import reverse

from modules.alertes import urls as alertes_urls
from modules.alertes.channels import twilio_signature
from modules.alertes.models import Delivery

from .conftest import TOKEN

# The five webhooks Twilio calls (messages in and their status; a call's TwiML, its
# key press and its status): the URL names the gate must cover, whatever else changes.
TWILIO_URL_NAMES = {"twilio_inbound", "twilio_status", "voice_twiml", "voice_gather",
                    "voice_status"}


def alertes_routes():
    """``{url name: view}`` of the alertes URLconf."""
    return {p.name: p.callback for p in alertes_urls.urlpatterns}


def path_of(name: str) -> str:
    kwargs = {"pk": 999999} if name in ("voice_twiml", "voice_gather") else {}
    return reverse(f"alertes:{name}", kwargs=kwargs)


def test_every_twilio_route_is_behind_the_signature_gate():
    routes = alertes_routes()
    assert TWILIO_URL_NAMES <= set(routes)
    gated = {name for name, view in routes.items() if getattr(view, "twilio_webhook", False)}
    assert gated == TWILIO_URL_NAMES
    # Nothing under twilio/ escapes the gate.
    for pattern in alertes_urls.urlpatterns:
        if str(pattern.pattern).startswith("twilio/"):
            assert pattern.name in gated, pattern.name


@pytest.mark.django_db
@pytest.mark.parametrize("name", sorted(TWILIO_URL_NAMES))
def test_every_twilio_webhook_refuses_an_unsigned_post(client, twilio, name):
    path = path_of(name)
    params = {"From": "+14505559999", "Body": "STOP", "MessageSid": "SM1",
              "MessageStatus": "delivered", "CallSid": "CA1", "CallStatus": "completed",
              "Digits": "1", "AnsweredBy": "human"}
    before = list(Delivery.objects.values_list("pk", "status"))
    assert client.post(path, params).status_code == 403
    assert client.post(path, params, HTTP_X_TWILIO_SIGNATURE="faux").status_code == 403
    url = settings.BASE_URL.rstrip("/") + path
    forged = twilio_signature(url, params, "autre-jeton")
    assert client.post(path, params, HTTP_X_TWILIO_SIGNATURE=forged).status_code == 403
    # The right signature for other parameters does not cover these ones.
    other = twilio_signature(url, {**params, "Body": "HELP"}, TOKEN)
    assert client.post(path, params, HTTP_X_TWILIO_SIGNATURE=other).status_code == 403
    assert client.get(path).status_code == 405
    assert list(Delivery.objects.values_list("pk", "status")) == before


@pytest.mark.django_db
@pytest.mark.parametrize("name", sorted(TWILIO_URL_NAMES))
def test_without_an_auth_token_no_webhook_is_accepted(client, settings, name):
    """No configured token: even a request signed with an empty key is refused."""
    settings.ALERTES_TWILIO_AUTH_TOKEN = ""
    path = path_of(name)
    params = {"From": "+14505559999", "Body": "STOP"}
    url = settings.BASE_URL.rstrip("/") + path
    signature = twilio_signature(url, params, "")
    assert client.post(path, params, HTTP_X_TWILIO_SIGNATURE=signature).status_code == 403
