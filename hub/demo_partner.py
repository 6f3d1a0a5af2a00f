"""The demo partner service: a small OpenID Connect relying party served by the hub
process itself, so an evaluator of ``make run`` can sign in to "another site" with their
Espace citoyen account and see the consent screen (issue 13, "a demo that demonstrates").

It plays a partner's web site under ``/partenaire-demo/`` and talks to the hub only as
any partner would, over HTTP: discovery, then the authorization code flow with PKCE
(S256) through the browser, the code exchanged on the back channel with the client's
secret, ``iss`` (RFC 9207) and ``state`` checked, then userinfo.  What it knows of the
visitor lives in its own signed cookie (path ``/partenaire-demo/``), never in the hub's
session.

Development only: the routes answer 404 unless ``HUB_DEMO_PARTNER`` is on, which
defaults to ``DEBUG`` and is refused at start-up when ``DEBUG`` is off (hub/settings.py).
It calls its own server while answering a request, so it needs a server that answers
several requests at once (``runserver``, the test live server), which is what
``make run`` uses.  ``manage.py hub demo`` registers its client (:func:`ensure_client`).
"""

from __future__ import annotations

import base64
import hashlib
import json
import secrets
from urllib.error import HTTPError, URLError
from urllib.parse import urlencode, urlsplit
from urllib.request import Request, urlopen

from django.conf import settings
from django.core import signing
from django.http import Http404, HttpResponseRedirect
from django.shortcuts import render
from django.urls import path, reverse
from django.utils.crypto import salted_hmac
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

CLIENT_ID = "partenaire-demo"
CLIENT_NAME = "Club Sport-Plus (partenaire de démonstration)"
# The API docs' own public client, so "Authorize" on /api/docs/ works on ``make run``
# with nothing registered by hand (its id is filled in the docs' dialog, see settings).
DOCS_CLIENT_ID = "documentation-api-demo"
DOCS_CLIENT_NAME = "Documentation de l’API (démonstration)"
DOCS_REDIRECT_PATH = "/api/docs/oauth2-redirect.html"
SCOPES = "openid profile email"
COOKIE = "partenaire_demo"
COOKIE_PATH = "/partenaire-demo/"
COOKIE_SALT = "hub.demo_partner"
TIMEOUT = 10


def enabled() -> bool:
    return bool(getattr(settings, "HUB_DEMO_PARTNER", False))


def client_secret() -> str:
    """The client's secret, derived from ``SECRET_KEY``: the demo writes its hash in the
    client registration, the partner signs its token requests with it; nothing to store."""
    return salted_hmac(COOKIE_SALT, "client-secret").hexdigest()


def redirect_uris(base_url: str, path: str = f"{COOKIE_PATH}retour/") -> list[str]:
    """The callback ``path`` under ``base_url``, on its host and on its loopback twin
    (``127.0.0.1`` and ``localhost`` are two origins for a browser)."""
    parts = urlsplit(base_url)
    hosts = [parts.netloc]
    twins = {"127.0.0.1": "localhost", "localhost": "127.0.0.1"}
    if parts.hostname in twins:
        hosts.append(parts.netloc.replace(parts.hostname, twins[parts.hostname], 1))
    return [f"{parts.scheme}://{host}{path}" for host in hosts]


def _register(client_id: str, name: str, redirect_path: str, base_url: str | None, *,
              confidential: bool):
    """Register (or update) one demo OIDC client: authorization code, consent asked
    (``skip_authorization`` off), its callback on ``base_url`` (``BASE_URL``) and its
    loopback twin.  Redirect URIs registered by an earlier run (another port) are kept.
    Idempotent."""
    from oauth2_provider.models import get_application_model

    Application = get_application_model()
    application = Application.objects.filter(client_id=client_id).first() \
        or Application(client_id=client_id)
    known = (application.redirect_uris or "").split()
    wanted = redirect_uris(base_url or settings.BASE_URL, redirect_path)
    application.redirect_uris = " ".join(dict.fromkeys([*known, *wanted]))
    application.name = name
    application.client_type = (Application.CLIENT_CONFIDENTIAL if confidential
                               else Application.CLIENT_PUBLIC)
    application.authorization_grant_type = Application.GRANT_AUTHORIZATION_CODE
    application.skip_authorization = False
    application.algorithm = Application.RS256_ALGORITHM
    application.client_secret = client_secret() if confidential else ""  # hashed when saved
    application.save()
    return application


def ensure_client(base_url: str | None = None):
    """The partner's client: confidential (it signs its token requests with the derived
    secret), its callback under ``/partenaire-demo/``."""
    return _register(CLIENT_ID, CLIENT_NAME, f"{COOKIE_PATH}retour/", base_url,
                     confidential=True)


def ensure_docs_client(base_url: str | None = None):
    """The API docs' client: public (an app's kind: no secret, PKCE), its redirect the
    docs' ``oauth2-redirect.html``."""
    return _register(DOCS_CLIENT_ID, DOCS_CLIENT_NAME, DOCS_REDIRECT_PATH, base_url,
                     confidential=False)


# --- The partner's web site ---------------------------------------------------------------

def _fetch(request_or_url, data: dict | None = None, headers: dict | None = None) -> dict:
    body = urlencode(data).encode() if data is not None else None
    call = Request(request_or_url, data=body, headers=headers or {})  # noqa: S310 (own server)
    try:
        with urlopen(call, timeout=TIMEOUT) as answer:  # noqa: S310
            return json.loads(answer.read().decode())
    except HTTPError as exc:
        try:
            detail = json.loads(exc.read().decode())
        except ValueError:
            detail = {}
        raise PartnerError(f"HTTP {exc.code} {detail.get('error', '')}".strip()) from exc
    except (URLError, TimeoutError, ValueError) as exc:
        raise PartnerError(str(exc)) from exc


class PartnerError(Exception):
    pass


def _discovery(request) -> dict:
    return _fetch(request.build_absolute_uri("/.well-known/openid-configuration"))


def _read_cookie(request) -> dict:
    try:
        value = request.get_signed_cookie(COOKIE, salt=COOKIE_SALT, max_age=3600)
        return json.loads(value)
    except (KeyError, signing.BadSignature, ValueError):
        return {}


def _with_cookie(request, response, state: dict):
    response.set_signed_cookie(COOKIE, json.dumps(state), salt=COOKIE_SALT,
                               path=COOKIE_PATH, max_age=3600, httponly=True,
                               samesite="Lax", secure=request.is_secure())
    return response


def _page(request, state: dict, *, error: str = "", status: int = 200):
    return render(request, "hub/demo_partner.html", {
        "userinfo": state.get("userinfo"), "error": error,
        "claims": json.dumps(state.get("userinfo", {}), ensure_ascii=False, indent=2),
        "start": reverse("demo_partner:start"),
    }, status=status)


def _guard():
    if not enabled():
        raise Http404


@never_cache
@require_GET
def home(request):
    """The partner's page: a "Se connecter avec Espace citoyen" button, or who is
    signed in here (what userinfo said)."""
    _guard()
    return _page(request, _read_cookie(request))


@never_cache
@require_GET
def start(request):
    """Start the sign-in: a fresh ``state``, PKCE verifier and ``nonce`` in the partner's
    cookie, then the browser goes to the hub's authorization endpoint."""
    _guard()
    state, verifier, nonce = (secrets.token_urlsafe(16), secrets.token_urlsafe(48),
                              secrets.token_urlsafe(16))
    challenge = base64.urlsafe_b64encode(
        hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    # The hub's authorization endpoint, as discovery publishes it (same server).
    authorize = request.build_absolute_uri(reverse("oauth2_provider:authorize"))
    query = urlencode({
        "response_type": "code", "client_id": CLIENT_ID,
        "redirect_uri": request.build_absolute_uri(reverse("demo_partner:callback")),
        "scope": SCOPES, "state": state, "nonce": nonce,
        "code_challenge": challenge, "code_challenge_method": "S256"})
    return _with_cookie(request,
                        HttpResponseRedirect(f"{authorize}?{query}"),
                        {"state": state, "verifier": verifier, "nonce": nonce})


@never_cache
@require_GET
def callback(request):
    """The registered ``redirect_uri``: check ``state`` and ``iss``, exchange the code on
    the back channel (client secret and PKCE verifier), read userinfo, remember it."""
    _guard()
    pending = _read_cookie(request)
    params = request.GET
    if "error" in params:
        return _page(request, {}, error=f"Connexion refusée\u00a0: {params.get('error')}",
                     status=400)
    if not pending.get("state") or params.get("state") != pending["state"] \
            or not params.get("code"):
        return _page(request, {}, error="Réponse inattendue (state) : recommencez.",
                     status=400)
    try:
        discovery = _discovery(request)
        if params.get("iss") != discovery["issuer"]:
            return _page(request, {}, error="Émetteur inattendu (iss).", status=400)
        credentials = base64.b64encode(f"{CLIENT_ID}:{client_secret()}".encode()).decode()
        token = _fetch(discovery["token_endpoint"], data={
            "grant_type": "authorization_code", "code": params["code"],
            "redirect_uri": request.build_absolute_uri(reverse("demo_partner:callback")),
            "code_verifier": pending["verifier"]},
            headers={"Authorization": f"Basic {credentials}"})
        userinfo = _fetch(discovery["userinfo_endpoint"], headers={
            "Authorization": f"Bearer {token['access_token']}"})
    except (PartnerError, KeyError) as exc:
        return _page(request, {}, error=f"L’échange avec Espace citoyen a échoué : {exc}",
                     status=502)
    return _with_cookie(request, HttpResponseRedirect(reverse("demo_partner:home")),
                        {"userinfo": userinfo})


app_name = "demo_partner"
urlpatterns = [
    path("", home, name="home"),
    path("connexion/", start, name="start"),
    path("retour/", callback, name="callback"),
]
