"""Single sign-on, tested with a relying party nobody here wrote: Authlib's OAuth2
client talks to the hub over HTTP (pytest-django's live server on 127.0.0.1) — sign in,
consent, ID token validated with the JWKS, userinfo, refresh, API call with scopes,
RP-initiated logout, revocation from Mon Espace."""

import re
import secrets

import pytest
import requests
from authlib.integrations.requests_client import OAuth2Session
from authlib.jose import JsonWebKey, jwt
from oauth2_provider.models import get_access_token_model, get_application_model

from .conftest import make_user

PASSWORD = "motdepasse-solide-42"
CALLBACK = "http://127.0.0.1:9/callback"
AFTER_LOGOUT = "http://127.0.0.1:9/au-revoir"
ALL_SCOPES = "openid profile email phone address"

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)


@pytest.fixture
def resident(transactional_db):
    return make_user("residente@example.com", password=PASSWORD, first_name="Julie",
                     last_name="Gagnon", phone="450 555-0101", civic_address="61 rue Sainte-Cécile",
                     postal_code="J6T 1L8")


def _client(skip_authorization=False, name="Sport-Plus"):
    return get_application_model().objects.create(
        name=name, client_type="public", authorization_grant_type="authorization-code",
        redirect_uris=CALLBACK, post_logout_redirect_uris=AFTER_LOGOUT, algorithm="RS256",
        skip_authorization=skip_authorization, client_secret="",
    )


def _browser_signed_in(base: str) -> requests.Session:
    browser = requests.Session()
    browser.get(f"{base}/fr/compte/login/")
    response = browser.post(f"{base}/fr/compte/login/", data={
        "login": "residente@example.com", "password": PASSWORD,
        "csrfmiddlewaretoken": browser.cookies["csrftoken"],
    }, headers={"Referer": f"{base}/fr/compte/login/"}, allow_redirects=False)
    assert response.status_code == 302, response.text[:500]
    return browser


def _authorize(base, browser, application, scope=ALL_SCOPES, consent=True):
    discovery = requests.get(f"{base}/.well-known/openid-configuration").json()
    rp = OAuth2Session(application.client_id, redirect_uri=CALLBACK, scope=scope,
                       code_challenge_method="S256")
    verifier = secrets.token_urlsafe(48)
    nonce = secrets.token_urlsafe(16)
    url, _state = rp.create_authorization_url(discovery["authorization_endpoint"],
                                              code_verifier=verifier, nonce=nonce)
    page = browser.get(url, allow_redirects=False)
    if consent:
        assert page.status_code == 200, page.text[:300]
        fields = dict(re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)"',
                                 page.text))
        fields["allow"] = "Authorize"
        fields["csrfmiddlewaretoken"] = browser.cookies["csrftoken"]
        page = browser.post(url, data=fields, headers={"Referer": url}, allow_redirects=False)
    assert page.status_code == 302, page.text[:300]
    callback = page.headers["Location"]
    assert callback.startswith(CALLBACK)
    token = rp.fetch_token(discovery["token_endpoint"], authorization_response=callback,
                           code_verifier=verifier)
    return discovery, rp, token, nonce, page


def test_full_sign_on_with_a_real_relying_party(live_server, resident):
    base = live_server.url
    application = _client()
    browser = _browser_signed_in(base)
    discovery, rp, token, nonce, _ = _authorize(base, browser, application)
    assert discovery["issuer"].startswith(base)
    assert {"openid", "profile", "email", "phone", "address"} <= set(
        discovery["scopes_supported"])
    assert "S256" in discovery["code_challenge_methods_supported"]

    # The ID token is signed with a key from the JWKS and names the resident.
    keys = JsonWebKey.import_key_set(requests.get(discovery["jwks_uri"]).json())
    claims = jwt.decode(token["id_token"], keys, claims_options={
        "iss": {"essential": True, "value": discovery["issuer"]},
        "aud": {"essential": True, "value": application.client_id},
        "nonce": {"essential": True, "value": nonce},
    })
    claims.validate()
    assert claims["sub"] == str(resident.pk)

    # Userinfo releases what the scopes cover.
    info = rp.get(discovery["userinfo_endpoint"]).json()
    assert info["email"] == "residente@example.com" and info["email_verified"] is True
    assert info["given_name"] == "Julie" and info["phone_number"] == "450 555-0101"
    assert info["address"]["postal_code"] == "J6T 1L8"

    # The same token calls the hub's API (profile scope).
    me = requests.get(f"{base}/api/v1/me/",
                      headers={"Authorization": f"Bearer {token['access_token']}"})
    assert me.status_code == 200 and me.json()["email"] == "residente@example.com"

    # Refresh gives a new working access token.
    refreshed = rp.refresh_token(discovery["token_endpoint"],
                                 refresh_token=token["refresh_token"])
    assert refreshed["access_token"] != token["access_token"]
    assert rp.get(discovery["userinfo_endpoint"]).status_code == 200

    # RP-initiated logout ends the hub session and returns to the service.
    bye = browser.get(discovery["end_session_endpoint"], params={
        "id_token_hint": token["id_token"], "post_logout_redirect_uri": AFTER_LOGOUT,
        "client_id": application.client_id}, allow_redirects=False)
    assert bye.status_code == 302 and bye.headers["Location"].startswith(AFTER_LOGOUT)
    after = browser.get(f"{base}/fr/mon-espace/", allow_redirects=False)
    assert after.status_code == 302 and "/compte/login/" in after.headers["Location"]


def test_scopes_limit_what_is_shared_and_what_the_token_may_do(live_server, resident):
    base = live_server.url
    application = _client()
    browser = _browser_signed_in(base)
    discovery, rp, token, _nonce, _ = _authorize(base, browser, application, scope="openid")
    info = rp.get(discovery["userinfo_endpoint"]).json()
    assert info == {"sub": str(resident.pk)}
    me = requests.get(f"{base}/api/v1/me/",
                      headers={"Authorization": f"Bearer {token['access_token']}"})
    assert me.status_code == 403


def test_trusted_services_skip_the_consent_screen(live_server, resident):
    base = live_server.url
    application = _client(skip_authorization=True, name="Rôle d'évaluation")
    browser = _browser_signed_in(base)
    _authorize(base, browser, application, consent=False)


def test_consent_screen_lists_exactly_what_is_shared(live_server, resident):
    base = live_server.url
    application = _client()
    browser = _browser_signed_in(base)
    discovery = requests.get(f"{base}/.well-known/openid-configuration").json()
    rp = OAuth2Session(application.client_id, redirect_uri=CALLBACK, scope="openid email",
                       code_challenge_method="S256")
    url, _ = rp.create_authorization_url(discovery["authorization_endpoint"],
                                         code_verifier=secrets.token_urlsafe(48))
    page = browser.get(url).text
    assert "Votre adresse courriel" in page
    assert "Votre numéro de téléphone" not in page
    assert "Sport-Plus" in page


def test_pkce_is_required(live_server, resident):
    base = live_server.url
    application = _client()
    browser = _browser_signed_in(base)
    url = (f"{base}/o/authorize/?response_type=code&client_id={application.client_id}"
           f"&redirect_uri={CALLBACK}&scope=openid")
    response = browser.get(url, allow_redirects=False)
    assert response.status_code in (200, 302, 400)
    assert "code=" not in response.headers.get("Location", "")


def test_unknown_redirect_uri_is_refused(live_server, resident):
    base = live_server.url
    application = _client()
    browser = _browser_signed_in(base)
    url = (f"{base}/o/authorize/?response_type=code&client_id={application.client_id}"
           f"&redirect_uri=https://evil.example/cb&scope=openid&code_challenge=abc"
           f"&code_challenge_method=S256")
    response = browser.get(url, allow_redirects=False)
    assert "evil.example" not in response.headers.get("Location", "")


def test_resident_sees_and_revokes_granted_services(live_server, resident, client):
    base = live_server.url
    application = _client()
    browser = _browser_signed_in(base)
    discovery, rp, _token, _nonce, _ = _authorize(base, browser, application)
    client.force_login(resident)
    page = client.get("/fr/compte/services-autorises/").content.decode()
    assert "Sport-Plus" in page
    other = make_user("autre@example.com")
    client.force_login(other)
    assert "Sport-Plus" not in client.get("/fr/compte/services-autorises/").content.decode()
    client.post("/fr/compte/services-autorises/", {"application": application.pk})
    assert get_access_token_model().objects.filter(user=resident).exists()  # not theirs
    client.force_login(resident)
    client.post("/fr/compte/services-autorises/", {"application": application.pk})
    assert not get_access_token_model().objects.filter(user=resident).exists()
    assert rp.get(discovery["userinfo_endpoint"]).status_code == 401
    bad = client.post("/fr/compte/services-autorises/", {"application": "abc"})
    assert bad.status_code == 302
