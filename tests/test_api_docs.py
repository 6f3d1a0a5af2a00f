"""``/api/docs/`` for mobile developers (issue 13): the page explains how an app signs in
(authorization code + PKCE through ``/o/``, refresh, scopes), in French first and in
English with ``?lang=en``; the schema's ``oauth2`` scheme declares its flow, URLs and
scopes and each operation the scopes it needs, so the docs' "Authorize" button works
(PKCE on, Swagger UI's local redirect page); DRF's ``tokenAuth`` is gone."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
import yaml
from django.test import Client

from hub.oidc.scopes import all_scopes

COMMITTED = Path(__file__).resolve().parent.parent / "docs" / "openapi.yaml"
NBSP = "\u00a0"


def schema(client, lang=None):
    response = client.get("/api/schema/", {"lang": lang} if lang else {})
    assert response.status_code == 200
    return yaml.safe_load(response.content)


@pytest.mark.django_db
def test_the_description_explains_sign_in_step_by_step_in_french(client):
    text = schema(client, "fr")["info"]["description"]
    for step in ("code_challenge_method=S256", "/o/authorize/", "/o/token/",
                 "grant_type=authorization_code", "grant_type=refresh_token",
                 "code_verifier", "Authorization: Bearer", "/o/revoke_token/",
                 "ca.valleyfield.espacecitoyen:/oauth2redirect", "http://127.0.0.1",
                 "RFC 8252", "invalid_token", "insufficient_scope",
                 "/api/docs/oauth2-redirect.html"):
        assert step in text, step
    assert "Se connecter depuis une application" in text
    assert "Clients d’authentification unique" in text  # the admin menu, as named
    # French typography: no plain space before a colon, none inside guillemets.
    assert not re.search(r" [:;!?»]", text), re.findall(r".{20} [:;!?»]", text)
    assert f"«{NBSP}" in text
    # every scope the provider knows, with what it allows (the consent screen's words)
    for name in all_scopes():
        assert f"| `{name}` |" in text, name
    assert "requetes:read" in text and "alertes:write" in text


@pytest.mark.django_db
def test_the_description_is_english_when_asked(client):
    text = schema(client, "en")["info"]["description"]
    assert "Signing in from an app, step by step" in text
    assert "Se connecter" not in text
    assert "| `requetes:read` | Read your service requests |" in text
    # the docs page hands its language to the schema it loads
    html = client.get("/api/docs/", {"lang": "en"}).content.decode()
    assert "lang=en" in html.replace("\\u003D", "=")  # escapejs writes = as \u003D


@pytest.mark.django_db
def test_oauth2_scheme_declares_the_authorization_code_flow(client):
    spec = schema(client, "fr")
    schemes = spec["components"]["securitySchemes"]
    assert "tokenAuth" not in schemes
    assert set(schemes) == {"cookieAuth", "oauth2"}
    flows = schemes["oauth2"]["flows"]
    assert set(flows) == {"authorizationCode"}  # no implicit, no password: RFC 9700
    flow = flows["authorizationCode"]
    assert flow["authorizationUrl"] == "/o/authorize/"
    assert flow["tokenUrl"] == "/o/token/"
    assert flow["refreshUrl"] == "/o/token/"
    assert set(flow["scopes"]) == set(all_scopes())
    assert flow["scopes"]["requetes:read"] == "Consulter vos requêtes"
    # The URLs are the provider's real routes.
    assert client.get("/o/authorize/").status_code in (302, 400)  # not 404
    assert client.post("/o/token/").status_code in (400, 401)  # the token endpoint answers


@pytest.mark.django_db
def test_operations_name_the_scopes_their_token_needs(client):
    paths = schema(client, "fr")["paths"]

    def oauth(path, method):
        return [req["oauth2"] for req in paths[path][method]["security"] if "oauth2" in req]

    assert oauth("/api/v1/requests/", "get") == [["requetes:read"]]
    assert oauth("/api/v1/requests/", "post") == [["requetes:write"]]
    assert oauth("/api/v1/me/", "get") == [["profile"]]
    # public with a token of either requetes scope: two alternatives
    assert oauth("/api/v1/request-categories/", "get") == [["requetes:read"],
                                                           ["requetes:write"]]
    # the photo routes take the same bearer token
    assert oauth("/api/v1/requests/{reference}/photos/{photo_id}/", "get") == [
        ["requetes:read"]]
    # every operation that takes a token says so (no route is left without its scopes)
    for path, item in paths.items():
        for method, operation in item.items():
            if method == "parameters":
                continue
            names = {name for req in operation.get("security", []) for name in req}
            assert "tokenAuth" not in names, (path, method)


def test_the_committed_schema_has_the_flow_too():
    spec = yaml.safe_load(COMMITTED.read_text(encoding="utf-8"))
    assert "tokenAuth" not in spec["components"]["securitySchemes"]
    flow = spec["components"]["securitySchemes"]["oauth2"]["flows"]["authorizationCode"]
    assert flow["authorizationUrl"] == "/o/authorize/"
    assert "Se connecter depuis une application" in spec["info"]["description"]


@pytest.mark.django_db
def test_docs_page_turns_pkce_on_and_its_redirect_page_is_local(client):
    response = client.get("/api/docs/")
    assert response.status_code == 200
    html = response.content.decode()
    match = re.search(r"ui\.initOAuth\((\{.*?\})\);", html, re.DOTALL)
    assert match, "Swagger UI's OAuth settings are missing"
    assert json.loads(match.group(1))["usePkceWithAuthorizationCodeGrant"] is True
    # Swagger UI's default oauth2RedirectUrl is next to the page: it must answer, with
    # Swagger UI's own script from the sidecar (no CDN), and the docs page's opener policy
    # (a popup whose opener is severed cannot hand the code back).
    redirect = client.get("/api/docs/oauth2-redirect.html", {"code": "abc", "state": "xyz"})
    assert redirect.status_code == 200
    assert redirect["Cross-Origin-Opener-Policy"] == response["Cross-Origin-Opener-Policy"]
    script = re.search(r'<script src="([^"]+)"', redirect.content.decode()).group(1)
    assert script.startswith("/static/") and script.endswith("oauth2-redirect.js")
    assert Client().get(script).status_code == 200


@pytest.mark.django_db
def test_docs_page_policy_lets_swagger_reach_the_provider(client):
    """The docs' CSP allows what the Authorize button does: the token request to /o/token/
    (same origin, connect-src from default-src 'self'), and nothing from elsewhere."""
    policy = client.get("/api/docs/")["Content-Security-Policy"]
    directives = dict(part.strip().split(" ", 1) for part in policy.split(";") if " " in
                      part.strip())
    assert directives["default-src"] == "'self'"
    assert "connect-src" not in directives or "'self'" in directives["connect-src"]
    assert "https:" not in policy and "*" not in policy
