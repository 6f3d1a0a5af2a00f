"""API writes on the citizen's own subscription: preferences, phone numbers (6-digit
code, 5 tries), push devices; another person's address is a 404; OAuth2 scopes."""

import datetime
import re
import secrets

import pytest
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from django.utils import timezone
from oauth2_provider.models import get_access_token_model, get_application_model

from modules.alertes import services
from modules.alertes.channels import webpush
from modules.alertes.models import Address, ConsentRecord

BASE = "/api/v1/alert-subscription/"
ENDPOINT = "https://fcm.googleapis.com/fcm/send/abc123"


def _browser_keys() -> dict:
    """A browser's subscription keys: a P-256 public point and a 16-byte secret."""
    key = ec.generate_private_key(ec.SECP256R1()).public_key()
    point = key.public_bytes(Encoding.X962, PublicFormat.UncompressedPoint)
    return {"p256dh": webpush.b64url(point), "auth": webpush.b64url(secrets.token_bytes(16))}


KEYS = _browser_keys()


@pytest.fixture
def bearer(db):
    application = get_application_model().objects.create(
        name="Application mobile", client_type="public",
        authorization_grant_type="authorization-code",
        redirect_uris="ca.valleyfield.espacecitoyen:/callback", algorithm="RS256")

    def make(user, scope):
        token = secrets.token_urlsafe(24)
        get_access_token_model().objects.create(
            user=user, application=application, token=token, scope=scope,
            expires=timezone.now() + datetime.timedelta(hours=1))
        return {"HTTP_AUTHORIZATION": f"Bearer {token}"}
    return make


def patch(client, path, data, **headers):
    return client.patch(path, data, content_type="application/json", **headers)


def post(client, path, data, **headers):
    return client.post(path, data, content_type="application/json", **headers)


def test_update_my_preferences(client, citizen, topics, districts):
    client.force_login(citizen)
    response = patch(client, BASE + "preferences/", {
        "topics": ["loisirs"], "language": "en", "district": "nord-test",
        "quiet_hours": ["22:00", "07:00"]})
    assert response.status_code == 200, response.content
    data = response.json()
    assert set(data["topics"]) == {"loisirs", "urgences"}  # emergencies always kept
    assert data["language"] == "en" and data["district"] == "nord-test"
    assert data["quiet_hours"] == ["22:00:00", "07:00:00"]
    subscriber = services.subscriber_for(citizen)
    assert ConsentRecord.objects.filter(subscriber=subscriber, scope="topic:loisirs",
                                        method="api").exists()
    # Partial: only the language changes; null removes the quiet hours.
    data = patch(client, BASE + "preferences/", {"language": "fr", "quiet_hours": None}).json()
    assert data["language"] == "fr" and set(data["topics"]) == {"loisirs", "urgences"}
    assert data["quiet_hours"] == ["", ""] and data["district"] == "nord-test"


@pytest.mark.parametrize("body, field", [
    ({"topics": ["nulle-part"]}, "topics"),
    ({"language": "de"}, "language"),
    ({"district": "nulle-part"}, "district"),
    ({"quiet_hours": ["22:00"]}, "quiet_hours"),
    ({"quiet_hours": ["25:00", "07:00"]}, "quiet_hours"),
    ({"topics": "loisirs"}, "topics"),
])
def test_bad_preferences_are_400_and_change_nothing(client, citizen, topics, districts, body,
                                                   field):
    client.force_login(citizen)
    response = patch(client, BASE + "preferences/", body)
    assert response.status_code == 400 and field in response.json()
    subscriber = services.subscriber_for(citizen)
    assert subscriber.language == "fr" and not ConsentRecord.objects.filter(
        method="api").exists()


def test_add_and_verify_a_phone_with_the_texted_code(client, citizen, topics, twilio,
                                                     django_capture_on_commit_callbacks):
    client.force_login(citizen)
    with django_capture_on_commit_callbacks(execute=True):
        response = post(client, BASE + "phones/", {"number": "450 555-1234"})
    assert response.status_code == 201, response.content
    address = response.json()
    assert address["channel"] == "sms" and address["address"] == "+14505551234"
    assert address["verified"] is False
    [body] = twilio.bodies("+14505551234")
    code = re.search(r"\d{6}", body).group()
    wrong = "000000" if code != "000000" else "111111"
    response = post(client, BASE + f"phones/{address['id']}/verify/", {"code": wrong})
    assert response.status_code == 400 and "4" in response.json()["detail"]
    response = post(client, BASE + f"phones/{address['id']}/verify/", {"code": code})
    assert response.status_code == 200 and response.json()["verified"] is True
    assert post(client, BASE + "phones/", {"number": "123"}).status_code == 400
    assert post(client, BASE + f"phones/{address['id']}/verify/",
                {"code": "12ab"}).status_code == 400


def test_five_wrong_codes_lock_the_number(client, citizen, topics, twilio,
                                          django_capture_on_commit_callbacks):
    client.force_login(citizen)
    with django_capture_on_commit_callbacks(execute=True):
        address = post(client, BASE + "phones/", {"number": "4505551234"}).json()
    [body] = twilio.bodies()
    code = re.search(r"\d{6}", body).group()
    wrong = "000000" if code != "000000" else "111111"
    for _ in range(5):
        assert post(client, BASE + f"phones/{address['id']}/verify/",
                    {"code": wrong}).status_code == 400
    response = post(client, BASE + f"phones/{address['id']}/verify/", {"code": code})
    assert response.status_code == 400
    assert not Address.objects.get(pk=address["id"]).verified


def test_another_persons_address_is_404(client, citizen, other_citizen, topics):
    theirs = services.subscriber_for(other_citizen)
    phone = theirs.addresses.create(channel="sms", value="+14505550000", code_hash="x")
    device = theirs.addresses.create(channel="push", value="fcm:" + "a" * 20,
                                     verified_at=timezone.now())
    client.force_login(citizen)
    assert post(client, BASE + f"phones/{phone.pk}/verify/",
                {"code": "123456"}).status_code == 404
    assert client.delete(BASE + f"phones/{phone.pk}/").status_code == 404
    assert client.delete(BASE + f"devices/{device.pk}/").status_code == 404
    assert client.delete(BASE + "devices/99999999/").status_code == 404
    assert Address.objects.filter(pk__in=[phone.pk, device.pk]).count() == 2


def test_register_and_remove_push_devices(client, citizen, topics):
    client.force_login(citizen)
    response = post(client, BASE + "devices/", {"token": "fcm:" + "d" * 40})
    assert response.status_code == 201, response.content
    app = response.json()
    response = post(client, BASE + "devices/", {"endpoint": ENDPOINT, "keys": KEYS})
    assert response.status_code == 201, response.content
    browser = response.json()
    assert {a["channel"] for a in client.get(BASE).json()["addresses"]} == {"push"}
    assert client.delete(BASE + f"devices/{app['id']}/").status_code == 204
    assert client.delete(BASE + f"devices/{browser['id']}/").status_code == 204
    assert not Address.objects.exists()
    assert ConsentRecord.objects.filter(scope="channel:push", action="withdrawn",
                                        method="api").count() == 2


@pytest.mark.parametrize("body", [
    {}, {"token": "bad"}, {"token": "fcm:x", "endpoint": ENDPOINT, "keys": KEYS},
    {"endpoint": ENDPOINT}, {"endpoint": "http://evil.example/x", "keys": KEYS},
    {"endpoint": ENDPOINT, "keys": {"p256dh": "nope", "auth": "nope"}},
])
def test_bad_devices_are_400(client, citizen, topics, body):
    client.force_login(citizen)
    assert post(client, BASE + "devices/", body).status_code == 400
    assert not Address.objects.exists()


def test_anonymous_cannot_write(client, topics):
    """No credentials: 401 with a Bearer challenge (RFC 6750), and nothing written."""
    assert patch(client, BASE + "preferences/", {"language": "en"}).status_code == 401
    assert post(client, BASE + "devices/", {"token": "fcm:" + "d" * 40}).status_code == 401
    assert not Address.objects.exists()


def test_bearer_tokens_need_the_alertes_scopes(client, citizen, topics, bearer):
    none = bearer(citizen, "openid profile")
    assert client.get(BASE, **none).status_code == 403
    assert client.get("/api/v1/alerts/", **none).status_code == 403
    assert patch(client, BASE + "preferences/", {"language": "en"}, **none).status_code == 403
    read = bearer(citizen, "openid alertes:read")
    assert client.get(BASE, **read).status_code == 200
    assert client.get("/api/v1/alerts/", **read).status_code == 200
    assert patch(client, BASE + "preferences/", {"language": "en"}, **read).status_code == 403
    write = bearer(citizen, "openid alertes:read alertes:write")
    assert patch(client, BASE + "preferences/", {"language": "en"},
                 **write).json()["language"] == "en"


def test_write_routes_are_in_the_openapi_schema(client):
    schema = client.get("/api/schema/", HTTP_ACCEPT="application/json").content.decode()
    for path in ("/api/v1/alert-subscription/preferences/",
                 "/api/v1/alert-subscription/phones/{address_id}/verify/",
                 "/api/v1/alert-subscription/devices/{address_id}/"):
        assert path in schema
