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


# --- Issue 12 item 4: OIDC as a strict relying party sees it ------------------------------
# These run on Django's test client (no live server): one transaction each, fast.

def _s256(verifier):
    import base64
    import hashlib

    digest = hashlib.sha256(verifier.encode()).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def _rp_client(client_type="public", secret="", name="Sport-Plus", redirect=CALLBACK):
    return get_application_model().objects.create(
        name=name, client_type=client_type, authorization_grant_type="authorization-code",
        redirect_uris=redirect, algorithm="RS256", client_secret=secret,
    )


def _consent(client, application, scope="openid", pkce=True, redirect=CALLBACK, **extra):
    """Resident already signed in on ``client``: GET the consent screen, accept it; returns
    (302 Location, code_verifier)."""
    from urllib.parse import urlencode

    verifier = secrets.token_urlsafe(48)
    params = {"response_type": "code", "client_id": application.client_id,
              "redirect_uri": redirect, "scope": scope, "state": "etat-1"}
    if pkce:
        params.update(code_challenge=_s256(verifier), code_challenge_method="S256")
    url = "/o/authorize/?" + urlencode(params)
    page = client.get(url, **extra)
    assert page.status_code == 200, page.content[:400]
    fields = dict(re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)"',
                             page.content.decode()))
    fields["allow"] = "Authorize"
    answer = client.post(url, fields, **extra)
    assert answer.status_code == 302, answer.content[:400]
    return answer["Location"], verifier


def _query(location):
    from urllib.parse import parse_qs, urlsplit

    return {key: values[0] for key, values in parse_qs(urlsplit(location).query).items()}


def _exchange(client, application, code, verifier=None, secret=None, redirect=CALLBACK,
              **extra):
    data = {"grant_type": "authorization_code", "code": code, "redirect_uri": redirect,
            "client_id": application.client_id}
    if verifier:
        data["code_verifier"] = verifier
    if secret:
        data["client_secret"] = secret
    return client.post("/o/token/", data, **extra)


@pytest.mark.django_db
@pytest.mark.parametrize("proxied", [False, True])
def test_authorization_response_iss_is_the_discovery_issuer(client, settings, proxied):
    """RFC 9207: the ``iss`` of the authorization response is exactly the issuer that
    discovery (and the ID token) name — also behind a TLS-terminating proxy the project
    trusts (``SECURE_PROXY_SSL_HEADER``, set in production)."""
    extra = {}
    if proxied:  # the proxy passes the Host header on, as nginx's proxy_set_header does
        settings.SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
        extra = {"HTTP_X_FORWARDED_PROTO": "https", "HTTP_HOST": "testserver"}
    resident = make_user("iss@example.com")
    client.force_login(resident)
    application = _rp_client()
    discovery = client.get("/o/.well-known/openid-configuration", **extra).json()
    root = client.get("/.well-known/openid-configuration", **extra).json()
    assert discovery["authorization_response_iss_parameter_supported"] is True
    assert root["issuer"] == discovery["issuer"]
    expected = ("https" if proxied else "http") + "://testserver/o"
    assert discovery["issuer"] == expected
    location, verifier = _consent(client, application, **extra)
    answer = _query(location)
    assert answer["iss"] == discovery["issuer"]
    assert answer["state"] == "etat-1"
    token = _exchange(client, application, answer["code"], verifier, **extra).json()
    id_token = jwt.decode(token["id_token"], JsonWebKey.import_key_set(
        client.get("/o/.well-known/jwks.json").json()))
    assert id_token["iss"] == discovery["issuer"]
    metadata = client.get("/o/.well-known/oauth-authorization-server", **extra).json()
    assert metadata["issuer"] == discovery["issuer"]


def _signed_in_token(client, scope="openid", email="jeton@example.com", **user):
    resident = make_user(email, **user)
    client.force_login(resident)
    application = _rp_client()
    location, verifier = _consent(client, application, scope=scope)
    token = _exchange(client, application, _query(location)["code"], verifier)
    assert token.status_code == 200, token.content
    client.logout()
    return resident, application, token.json()


@pytest.mark.django_db
def test_userinfo_refuses_a_token_in_the_query_string(client):
    """RFC 6750 §2.3 is optional and leaks tokens into access logs: refused (401 with a
    Bearer challenge); the header works, and so does the form body of a POST (§2.2)."""
    _resident, _application, token = _signed_in_token(client)
    access = token["access_token"]
    leaked = client.get(f"/o/userinfo/?access_token={access}")
    assert leaked.status_code == 401
    assert leaked["WWW-Authenticate"].startswith("Bearer ")
    assert 'error="invalid_request"' in leaked["WWW-Authenticate"]
    assert "sub" not in leaked.content.decode()
    both = client.get(f"/o/userinfo/?access_token={access}",
                      HTTP_AUTHORIZATION=f"Bearer {access}")
    assert both.status_code == 401
    post_query = client.post(f"/o/userinfo/?access_token={access}")
    assert post_query.status_code == 401
    assert client.get("/o/userinfo/", HTTP_AUTHORIZATION=f"Bearer {access}").status_code == 200
    from django.test import Client

    back_channel = Client(enforce_csrf_checks=True)  # a relying party has no CSRF cookie
    form = back_channel.post("/o/userinfo/", {"access_token": access})
    assert form.status_code == 200 and "sub" in form.json()
    assert client.get("/o/userinfo/").status_code == 401


@pytest.mark.django_db
def test_claims_supported_lists_every_claim_userinfo_and_the_id_token_return(client):
    _resident, _application, token = _signed_in_token(
        client, scope="openid profile email phone address", first_name="Julie",
        last_name="Gagnon", phone="450 555-0101", civic_address="61 rue Sainte-Cécile",
        postal_code="J6T 1L8")
    supported = set(client.get("/o/.well-known/openid-configuration")
                    .json()["claims_supported"])
    info = client.get("/o/userinfo/",
                      HTTP_AUTHORIZATION=f"Bearer {token['access_token']}").json()
    assert {"sub", "name", "email", "email_verified", "phone_number", "address",
            "locale"} <= set(info)
    assert set(info) <= supported
    id_token = jwt.decode(token["id_token"], JsonWebKey.import_key_set(
        client.get("/o/.well-known/jwks.json").json()))
    assert set(id_token) <= supported


@pytest.mark.django_db
def test_public_pkce_client_exchanges_a_code_without_a_secret(client):
    discovery = client.get("/o/.well-known/openid-configuration").json()
    assert "none" in discovery["token_endpoint_auth_methods_supported"]
    assert {"client_secret_basic", "client_secret_post"} <= set(
        discovery["token_endpoint_auth_methods_supported"])
    resident = make_user("publique@example.com")
    client.force_login(resident)
    application = _rp_client()  # public, no secret
    location, verifier = _consent(client, application)
    client.logout()
    token = _exchange(client, application, _query(location)["code"], verifier)
    assert token.status_code == 200, token.content
    assert client.get("/o/userinfo/", HTTP_AUTHORIZATION=f"Bearer {token.json()['access_token']}"
                      ).json()["sub"] == str(resident.pk)
    # …and PKCE stays mandatory for it: without the verifier the code is refused.
    client.force_login(resident)
    location, _verifier = _consent(client, application)
    client.logout()
    refused = _exchange(client, application, _query(location)["code"])
    assert refused.status_code == 400


def test_form_action_source_is_the_redirect_uri_origin_and_nothing_else():
    from hub.oidc.views import form_action_source

    assert form_action_source("https://partner.example/cb?x=1") == "https://partner.example"
    assert form_action_source("http://127.0.0.1:4000/retour") == "http://127.0.0.1:4000"
    assert form_action_source("http://[::1]:8000/x") == "http://[::1]:8000"
    assert form_action_source("ca.valleyfield.espacecitoyen:/callback") == (
        "ca.valleyfield.espacecitoyen:")
    for bad in (None, "", "javascript:alert(1)", "data:text/html,x", "https://a b/",
                "https://x.example;script-src *", "http://h:99999/", "https://x.example'/"):
        assert form_action_source(bad) is None, bad


@pytest.mark.django_db
def test_consent_page_lets_its_form_reach_the_clients_redirect_uri_only(client):
    """The consent page's CSP form-action names the validated redirect_uri's origin (the
    redirect after "Accepter" is subject to it); other pages keep 'self' only."""
    resident = make_user("csp@example.com")
    client.force_login(resident)
    application = _rp_client(redirect="https://sport-plus.example/retour")
    from urllib.parse import urlencode

    query = urlencode({"response_type": "code", "client_id": application.client_id,
                       "redirect_uri": "https://sport-plus.example/retour", "scope": "openid",
                       "code_challenge": _s256("v" * 43), "code_challenge_method": "S256"})
    page = client.get(f"/o/authorize/?{query}")
    assert page.status_code == 200
    policy = {d.split()[0]: d.split()[1:] for d in page["Content-Security-Policy"].split("; ")}
    assert policy["form-action"] == ["'self'", "https://sport-plus.example"]
    # An unregistered redirect_uri never reaches the policy (the toolkit refuses it first).
    evil = client.get("/o/authorize/?" + query.replace("sport-plus.example", "evil.example"))
    assert "evil.example" not in evil.get("Content-Security-Policy", "")
    other = client.get("/fr/mon-espace/")
    assert "sport-plus.example" not in other["Content-Security-Policy"]


@pytest.mark.django_db
def test_pkce_is_required_for_confidential_clients_too_as_documented(client):
    """docs/oidc.md: every client, confidential ones included, sends PKCE (S256); a
    confidential client that does not is refused at the authorization endpoint, and
    with PKCE it signs in with its secret."""
    from urllib.parse import urlencode

    resident = make_user("confidentiel@example.com")
    client.force_login(resident)
    secret = secrets.token_urlsafe(24)
    application = _rp_client(client_type="confidential", secret=secret)
    refused = client.get("/o/authorize/?" + urlencode({
        "response_type": "code", "client_id": application.client_id,
        "redirect_uri": CALLBACK, "scope": "openid", "state": "s"}))
    assert refused.status_code == 302
    assert _query(refused["Location"])["error"] == "invalid_request"
    assert "code=" not in refused["Location"]
    location, verifier = _consent(client, application)
    client.logout()
    token = _exchange(client, application, _query(location)["code"], verifier, secret=secret)
    assert token.status_code == 200, token.content


@pytest.mark.django_db
def test_sign_in_page_lets_an_authorization_request_reach_its_registered_client_only(client):
    """The answer to the login form redirects to /o/authorize/, which redirects at once to
    a trusted client: the sign-in page's form-action must name that client's registered
    redirect_uri origin — and nothing for an unknown client or unregistered URI."""
    from urllib.parse import urlencode

    application = _rp_client(redirect="https://role-evaluation.example/retour")

    def form_action(next_params):
        next_url = "/o/authorize/?" + urlencode(next_params)
        page = client.get("/fr/compte/login/?" + urlencode({"next": next_url}))
        assert page.status_code == 200
        return {d.split()[0]: d.split()[1:] for d in
                page["Content-Security-Policy"].split("; ")}["form-action"]

    good = {"response_type": "code", "client_id": application.client_id,
            "redirect_uri": "https://role-evaluation.example/retour", "scope": "openid"}
    assert form_action(good) == ["'self'", "https://role-evaluation.example"]
    assert form_action({**good, "redirect_uri": "https://evil.example/retour"}) == ["'self'"]
    assert form_action({**good, "client_id": "inconnu"}) == ["'self'"]
    assert client.get("/fr/compte/login/?next=https://evil.example/o/authorize/")[
        "Content-Security-Policy"].count("evil") == 0


@pytest.mark.django_db
def test_a_replayed_code_is_refused_and_revokes_the_tokens_of_its_first_exchange(client):
    """RFC 6749 §4.1.2: a code used twice is refused, and the access and refresh tokens
    issued from it are revoked (the second use may be an attacker's, or the first was)."""
    from hub.models import RedeemedAuthorizationCode

    resident = make_user("rejeu@example.com")
    client.force_login(resident)
    application = _rp_client()
    location, verifier = _consent(client, application)
    client.logout()
    code = _query(location)["code"]
    first = _exchange(client, application, code, verifier)
    assert first.status_code == 200, first.content
    tokens = first.json()
    bearer = {"HTTP_AUTHORIZATION": f"Bearer {tokens['access_token']}"}
    assert client.get("/o/userinfo/", **bearer).status_code == 200
    assert RedeemedAuthorizationCode.objects.count() == 1
    assert code not in str(list(RedeemedAuthorizationCode.objects.values()))  # hash only

    replay = _exchange(client, application, code, verifier)
    assert replay.status_code == 400 and replay.json()["error"] == "invalid_grant"
    assert client.get("/o/userinfo/", **bearer).status_code == 401
    refreshed = client.post("/o/token/", {"grant_type": "refresh_token",
                                          "refresh_token": tokens["refresh_token"],
                                          "client_id": application.client_id})
    assert refreshed.status_code == 400

    # An unknown code revokes nothing of anyone's.
    client.force_login(resident)
    location, verifier = _consent(client, application)
    client.logout()
    other = _exchange(client, application, _query(location)["code"], verifier).json()
    assert _exchange(client, application, "not-a-code", verifier).status_code == 400
    assert client.get("/o/userinfo/", HTTP_AUTHORIZATION=f"Bearer {other['access_token']}"
                      ).status_code == 200
