"""A partner signs in a resident through the OIDC consent screen, in Debian's Chromium
(issue 12, items 4 and 16).

The partner is a real relying party: a small HTTP server on 127.0.0.1 (its own origin,
not the hub's) that starts the sign-in with PKCE, receives the browser on its
``redirect_uri``, checks ``state`` and the RFC 9207 ``iss`` against discovery, exchanges
the code on the back channel and calls userinfo.  The browser enforces the hub's Content
Security Policy, which an HTTP client does not: the consent form's ``form-action`` must
let the redirect to the partner through.
"""

import base64
import hashlib
import html
import json
import re
import secrets
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest
import requests

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True, serialized_rollback=True)]

EMAIL = "julie.gagnon@example.com"
PASSWORD = "Un-mot-de-passe-solide-2024"


class Partner:
    """The partner's web site: ``/connexion`` starts the sign-in, ``/retour`` is the
    registered redirect_uri.  What it saw is kept in ``self.outcome``."""

    def __init__(self, hub_url: str):
        self.hub_url = hub_url
        self.discovery = requests.get(f"{hub_url}/.well-known/openid-configuration",
                                      timeout=10).json()
        self.pending: dict = {}
        self.outcome: dict = {}
        partner = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):  # quiet
                pass

            def do_GET(self):
                url = urlsplit(self.path)
                if url.path == "/connexion":
                    self.send_response(302)
                    self.send_header("Location", partner.authorization_url())
                    self.end_headers()
                elif url.path == "/retour":
                    body = partner.callback({k: v[0] for k, v in parse_qs(url.query).items()})
                    data = body.encode()
                    self.send_response(200)
                    self.send_header("Content-Type", "text/html; charset=utf-8")
                    self.send_header("Content-Length", str(len(data)))
                    self.end_headers()
                    self.wfile.write(data)
                else:
                    self.send_error(404)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.redirect_uri = f"{self.url}/retour"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.server.shutdown()
        self.server.server_close()

    def authorization_url(self) -> str:
        state, verifier = secrets.token_urlsafe(16), secrets.token_urlsafe(48)
        challenge = base64.urlsafe_b64encode(
            hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
        self.pending[state] = verifier
        return self.discovery["authorization_endpoint"] + "?" + urlencode({
            "response_type": "code", "client_id": self.client_id,
            "redirect_uri": self.redirect_uri, "scope": "openid profile email",
            "state": state, "nonce": secrets.token_urlsafe(16),
            "code_challenge": challenge, "code_challenge_method": "S256"})

    def callback(self, params: dict) -> str:
        self.outcome["params"] = params
        verifier = self.pending.pop(params.get("state", ""), None)
        if verifier is None or "code" not in params:
            return "<h1>Refus</h1>"
        # RFC 9207: a strict client rejects a response whose iss is not the issuer.
        if params.get("iss") != self.discovery["issuer"]:
            self.outcome["error"] = f"iss {params.get('iss')!r} != {self.discovery['issuer']!r}"
            return "<h1>Émetteur inattendu</h1>"
        token = requests.post(self.discovery["token_endpoint"], data={
            "grant_type": "authorization_code", "code": params["code"],
            "redirect_uri": self.redirect_uri, "code_verifier": verifier,
        }, auth=(self.client_id, self.client_secret), timeout=10)
        self.outcome["token_status"] = token.status_code
        if token.status_code != 200:
            return "<h1>Échange refusé</h1>"
        info = requests.get(self.discovery["userinfo_endpoint"], headers={
            "Authorization": f"Bearer {token.json()['access_token']}"}, timeout=10)
        self.outcome["userinfo"] = info.json()
        return (f"<!doctype html><html lang='fr'><title>Sport-Plus</title>"
                f"<h1>Bienvenue, {html.escape(info.json().get('given_name', ''))}</h1>"
                f"<pre>{html.escape(json.dumps(info.json()))}</pre></html>")


def test_a_partner_signs_in_through_the_consent_screen(page, demo_site):
    from oauth2_provider.models import get_application_model
    from playwright.sync_api import expect

    from tests.conftest import make_user

    resident = make_user(EMAIL, password=PASSWORD, first_name="Julie", last_name="Gagnon")
    with Partner(demo_site.url) as partner:
        secret = secrets.token_urlsafe(32)
        application = get_application_model().objects.create(
            name="Sport-Plus", client_type="confidential",
            authorization_grant_type="authorization-code", redirect_uris=partner.redirect_uri,
            algorithm="RS256", client_secret=secret)
        partner.client_id, partner.client_secret = application.client_id, secret

        violations = []
        page.on("console", lambda message: violations.append(message.text)
                if "Content Security Policy" in message.text else None)

        # On the partner's site: "Se connecter avec Espace citoyen".
        page.goto(f"{partner.url}/connexion")
        # Not signed in to the hub yet: its sign-in page, in French.
        expect(page).to_have_url(re.compile(r"/fr/compte/login/\?next="))
        page.locator("input[name=login]").fill(EMAIL)
        page.locator("input[name=password]").fill(PASSWORD)
        page.locator("form.form button[type=submit]").click()

        # The consent screen, in French: who asks, and exactly what is shared.
        expect(page).to_have_url(re.compile(r"/o/authorize/\?"))
        expect(page.locator("html")).to_have_attribute("lang", "fr")
        expect(page.get_by_role("heading", level=1)).to_contain_text("Sport-Plus")
        expect(page.locator("main")).to_contain_text("Votre adresse courriel")
        page.get_by_role("button", name="Accepter").click()

        # The browser lands on the partner, which exchanged the code and read userinfo.
        expect(page).to_have_url(re.compile(re.escape(partner.redirect_uri) + r"\?"))
        expect(page.get_by_role("heading", level=1)).to_have_text("Bienvenue, Julie")
        assert violations == []
        params = partner.outcome["params"]
        assert params["iss"] == partner.discovery["issuer"] and params["code"]
        assert "error" not in partner.outcome
        assert partner.outcome["token_status"] == 200
        assert partner.outcome["userinfo"]["sub"] == str(resident.pk)
        assert partner.outcome["userinfo"]["email"] == EMAIL


def test_a_trusted_service_signs_in_straight_after_the_login_form(page, demo_site):
    """A client marked "skip authorization" (a city service): the login form's answer
    redirects to /o/authorize/, which redirects on to the partner — a chain of redirects
    that the login page's CSP form-action also governs."""
    from oauth2_provider.models import get_application_model
    from playwright.sync_api import expect

    from tests.conftest import make_user

    make_user(EMAIL, password=PASSWORD, first_name="Julie", last_name="Gagnon")
    with Partner(demo_site.url) as partner:
        secret = secrets.token_urlsafe(32)
        application = get_application_model().objects.create(
            name="Rôle d'évaluation", client_type="confidential", skip_authorization=True,
            authorization_grant_type="authorization-code", redirect_uris=partner.redirect_uri,
            algorithm="RS256", client_secret=secret)
        partner.client_id, partner.client_secret = application.client_id, secret
        violations = []
        page.on("console", lambda message: violations.append(message.text)
                if "Content Security Policy" in message.text else None)
        page.goto(f"{partner.url}/connexion")
        expect(page).to_have_url(re.compile(r"/fr/compte/login/\?next="))
        page.locator("input[name=login]").fill(EMAIL)
        page.locator("input[name=password]").fill(PASSWORD)
        page.locator("form.form button[type=submit]").click()
        expect(page).to_have_url(re.compile(re.escape(partner.redirect_uri) + r"\?"))
        expect(page.get_by_role("heading", level=1)).to_have_text("Bienvenue, Julie")
        assert violations == []
        assert partner.outcome["token_status"] == 200
