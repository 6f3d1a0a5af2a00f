"""Bearer token errors as RFC 6750 says (issue 12, item 5).

A bad, expired or revoked (rotated) OAuth2 access token is a 401 with
``WWW-Authenticate: Bearer … error="invalid_token"`` so an app knows to refresh; no
credentials on a protected route is a 401 with a plain ``Bearer`` challenge; a valid
token without the route's scope stays a 403 with ``error="insufficient_scope"``.  A
signed-in web session keeps working, CSRF check included (a 403 without a challenge).
Real tokens of a real application, real users.
"""

import datetime
import json
import secrets

import pytest
from django.test import Client
from django.utils import timezone
from oauth2_provider.models import get_access_token_model, get_application_model

pytestmark = pytest.mark.django_db

ME = "/api/v1/me/"
REQUESTS = "/api/v1/requests/"


@pytest.fixture
def application(db):
    return get_application_model().objects.create(
        name="Application mobile", client_type="public",
        authorization_grant_type="authorization-code",
        redirect_uris="ca.valleyfield.espacecitoyen:/callback", algorithm="RS256")


@pytest.fixture
def issue(application):
    def make(user, scope="openid profile requetes:read requetes:write", expires_in=3600):
        token = secrets.token_urlsafe(24)
        access = get_access_token_model().objects.create(
            user=user, application=application, token=token, scope=scope,
            expires=timezone.now() + datetime.timedelta(seconds=expires_in))
        return access, {"HTTP_AUTHORIZATION": f"Bearer {token}"}
    return make


def _challenge(response) -> str:
    return response.get("WWW-Authenticate", "")


def _assert_invalid_token(response):
    assert response.status_code == 401, (response.status_code, response.content[:200])
    challenge = _challenge(response)
    assert challenge.startswith("Bearer ")
    assert 'error="invalid_token"' in challenge
    assert "detail" in response.json()


def test_an_unknown_bearer_token_is_401_invalid_token(client, citizen):
    headers = {"HTTP_AUTHORIZATION": "Bearer pas-un-jeton"}
    _assert_invalid_token(client.get(ME, **headers))
    _assert_invalid_token(client.get(REQUESTS, **headers))
    _assert_invalid_token(client.post(REQUESTS, "{}", content_type="application/json",
                                      **headers))


def test_an_expired_bearer_token_is_401_invalid_token(client, citizen, issue):
    _token, headers = issue(citizen, expires_in=-60)
    _assert_invalid_token(client.get(REQUESTS, **headers))


def test_a_revoked_or_rotated_token_is_401_invalid_token(client, citizen, issue):
    access, headers = issue(citizen)
    assert client.get(REQUESTS, **headers).status_code == 200
    access.revoke()  # what a refresh does to the old access token
    _assert_invalid_token(client.get(REQUESTS, **headers))


def test_a_bad_token_on_a_public_route_is_refused_too(client, citizen):
    """An app sending a dead token to a public list must learn the token is dead,
    not get an anonymous answer it cannot tell apart."""
    _assert_invalid_token(client.get("/api/v1/request-categories/",
                                     HTTP_AUTHORIZATION="Bearer mort"))
    assert client.get("/api/v1/request-categories/").status_code == 200


def test_no_credentials_on_a_protected_route_is_401_bearer_without_error(client):
    for response in (client.get(ME), client.get(REQUESTS),
                     client.post(REQUESTS, "{}", content_type="application/json")):
        assert response.status_code == 401
        challenge = _challenge(response)
        assert challenge.startswith("Bearer") and "error=" not in challenge
        assert "detail" in response.json()


def test_insufficient_scope_stays_403_and_says_so(client, citizen, issue):
    _token, headers = issue(citizen, scope="openid requetes:read")
    response = client.post(REQUESTS, "{}", content_type="application/json", **headers)
    assert response.status_code == 403
    challenge = _challenge(response)
    assert challenge.startswith("Bearer ") and 'error="insufficient_scope"' in challenge
    assert 'scope="requetes:write"' in challenge
    assert client.get(REQUESTS, **headers).status_code == 200


def test_a_session_keeps_working_and_csrf_is_still_a_plain_403(citizen):
    browser = Client(enforce_csrf_checks=True)
    browser.force_login(citizen)
    assert browser.get(ME).status_code == 200
    response = browser.patch(ME, json.dumps({"first_name": "Pirate"}),
                             content_type="application/json")
    assert response.status_code == 403
    assert "WWW-Authenticate" not in response
    citizen.refresh_from_db()
    assert citizen.first_name == "Claire"
    token = browser.cookies["csrftoken"].value if "csrftoken" in browser.cookies else None
    if token is None:
        browser.get("/fr/compte/profil/")
        token = browser.cookies["csrftoken"].value
    response = browser.patch(ME, json.dumps({"first_name": "Clara"}),
                             content_type="application/json", HTTP_X_CSRFTOKEN=token)
    assert response.status_code == 200
