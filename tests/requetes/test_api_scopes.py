"""OAuth2 bearer tokens on the requetes API: ``requetes:read`` reads the resident's own
requests, ``requetes:write`` submits, follows and comments; a token with neither scope
is refused everywhere, and a token never reaches another resident's requests."""

import datetime
import secrets

import pytest
from django.utils import timezone
from oauth2_provider.models import get_access_token_model, get_application_model

from modules.requetes import services

from .conftest import INSIDE

PAYLOAD = {"category": "eclairage", "description": "Lampadaire éteint",
           "latitude": INSIDE[0], "longitude": INSIDE[1], "answers": {"poteau": 7}}


@pytest.fixture
def application(db):
    return get_application_model().objects.create(
        name="Application mobile", client_type="public",
        authorization_grant_type="authorization-code",
        redirect_uris="ca.valleyfield.espacecitoyen:/callback", algorithm="RS256")


@pytest.fixture
def bearer(application):
    def make(user, scope, expires_in=3600):
        token = secrets.token_urlsafe(24)
        get_access_token_model().objects.create(
            user=user, application=application, token=token, scope=scope,
            expires=timezone.now() + datetime.timedelta(seconds=expires_in))
        return {"HTTP_AUTHORIZATION": f"Bearer {token}"}
    return make


@pytest.fixture
def mine(citizen, lighting):
    return services.create_request(actor=citizen, category=lighting, description="Déjà là",
                                   latitude=INSIDE[0], longitude=INSIDE[1],
                                   answers={"poteau": 3})


def _post(client, path, headers, data=None):
    return client.post(path, data or {}, content_type="application/json", **headers)


def test_read_scope_lists_own_requests_but_cannot_create(client, citizen, other_citizen,
                                                          mine, bearer, lighting):
    theirs = services.create_request(actor=other_citizen, category=lighting,
                                     description="Pas à moi", latitude=INSIDE[0],
                                     longitude=INSIDE[1], answers={"poteau": 9})
    headers = bearer(citizen, "openid requetes:read")
    listed = client.get("/api/v1/requests/", **headers)
    assert listed.status_code == 200
    assert [r["reference"] for r in listed.json()] == [mine.reference]
    assert client.get(f"/api/v1/requests/{mine.reference}/", **headers).status_code == 200
    assert client.get(f"/api/v1/requests/{theirs.reference}/", **headers).status_code == 404
    assert client.get("/api/v1/request-categories/", **headers).status_code == 200
    assert client.get("/api/v1/requests/nearby/", {"category": "eclairage", "lat": INSIDE[0],
                                                   "long": INSIDE[1]}, **headers
                      ).status_code == 200

    before = services.ServiceRequest.objects.count()
    assert _post(client, "/api/v1/requests/", headers, PAYLOAD).status_code == 403
    assert _post(client, f"/api/v1/requests/{mine.reference}/comment/", headers,
                 {"message": "Alors?"}).status_code == 403
    assert _post(client, f"/api/v1/requests/{theirs.reference}/follow/", headers
                 ).status_code == 403
    assert services.ServiceRequest.objects.count() == before
    assert not theirs.followers.filter(pk=citizen.pk).exists()


def test_write_scope_creates_follows_and_comments(client, citizen, other_citizen, bearer,
                                                  lighting):
    headers = bearer(citizen, "requetes:write")
    created = _post(client, "/api/v1/requests/", headers, PAYLOAD)
    assert created.status_code == 201, created.content
    reference = created.json()["reference"]
    assert _post(client, f"/api/v1/requests/{reference}/comment/", headers,
                 {"message": "Toujours éteint"}).status_code == 201
    theirs = services.create_request(actor=other_citizen, category=lighting,
                                     description="Voisin", latitude=INSIDE[0],
                                     longitude=INSIDE[1], answers={"poteau": 1})
    assert _post(client, f"/api/v1/requests/{theirs.reference}/follow/", headers
                 ).json() == {"following": True}
    # Write alone does not read the list, but may read the form's categories.
    assert client.get("/api/v1/requests/", **headers).status_code == 403
    assert client.get("/api/v1/request-categories/", **headers).status_code == 200


@pytest.mark.parametrize("scope", ["openid", "openid profile email", "alertes:read",
                                   "read write", "requetes:readwrite"])
def test_other_scopes_are_refused_everywhere(client, citizen, mine, bearer, scope):
    headers = bearer(citizen, scope)
    assert client.get("/api/v1/requests/", **headers).status_code == 403
    assert client.get(f"/api/v1/requests/{mine.reference}/", **headers).status_code == 403
    assert client.get("/api/v1/request-categories/", **headers).status_code == 403
    assert _post(client, "/api/v1/requests/", headers, PAYLOAD).status_code == 403


def test_expired_token_is_refused(client, citizen, mine, bearer):
    headers = bearer(citizen, "requetes:read requetes:write", expires_in=-60)
    assert client.get("/api/v1/requests/", **headers).status_code in (401, 403)
