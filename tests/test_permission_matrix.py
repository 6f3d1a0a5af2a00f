"""The permission matrix, generated from the URL configuration (issue 2, item 14).

Every URL pattern the project serves (``get_resolver()`` walked recursively: includes,
``i18n_patterns``, the DRF router, Wagtail's URLs, what modules contribute through
``hub_urlpatterns``/``hub_api_routes``) must have a declared expectation here, for every
role: anonymous, citizen, another citizen, agent of department A, agent of department B,
editor, administrator.

* Project-owned patterns get an **exact entry** in ``EXACT``: a concrete sample path
  (kwargs filled in) and the expected answer per role.
* Third-party URL groups (Wagtail admin, allauth, Wagtail page serving, Wagtail API v2,
  documents, drf-spectacular, static/media) get a **group rule** in ``GROUPS``: which
  patterns it covers, why its answers are what they are, and a check run on every
  parameterless URL of the group (plus declared samples for parameterised ones).

A pattern with neither makes the suite fail, naming it: **a new view declares its
expected answers in this file** (later issues extend the table, never bypass it).

Answers: an ``int`` status code; ``LOGIN`` — a redirect to the sign-in page with
``?next=`` (in the language of the page asked for); ``ADMIN_LOGIN`` — the admin's
sign-in redirect; ``Redirect("/path")`` — a redirect to exactly that path (``{name}``
placeholders allowed); ``LOCAL_REDIRECT`` — any page of this site but the sign-in;
``AnyOf(...)`` — any of several answers.  Blanket answers (``AnyOf``, ``LOCAL_REDIRECT``)
are for Wagtail's and allauth's own views only: a project view states its one answer.

The roles: anonymous, resident A (``citizen``) and B (``other_citizen``), department X's
and Y's agents, an intake agent, a communications officer, an alert approver, an editor
and an administrator (every group ``hub_staff_roles`` declares has a user).  The objects
they own are real (``build_world``): A's and B's requests, X's and Y's requests, A's
photo, an alert under review, B's alert phone number...

HOW TO DECLARE A NEW ROUTE (other issues append here; keep to these three forms):

1. a GET answer per role: ``EXACT["route as the URLconf spells it"] = Exact(sample,
   {role: answer, ...})`` — add a small block with a comment header naming your part;
   helpers ``every``, ``signed_in``, ``staff``, ``only`` and ``admin_screen`` build the
   role dictionaries.  Samples starting with ``/fr/`` are probed in English too.
2. a state-changing method: a ``Write`` appended to ``WRITES`` (see its comment): the
   answer per role, the rows it may change and the roles whose write takes effect.
3. a third-party group: a ``GroupRule`` in ``GROUPS`` (not for project views).

A route with none of these makes the suite fail, naming it.  A route that accepts POST
is also listed in tests/test_csrf.py (CSRF protected, or exempt with the reason).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from urllib.parse import urlsplit

import pytest
from django.contrib.auth.models import Group
from django.db import connections, transaction
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from django.urls.resolvers import RegexPattern
from django.utils import translation

from hub import roles
from modules.requetes import roles as requetes_roles

# "citizen" is resident A, "other_citizen" resident B; "agent_a" handles department X
# (travaux-publics), "agent_b" department Y (environnement).  Every staff role a module
# declares through ``hub_staff_roles`` has a user here (see test_every_staff_role_is_probed).
ROLES = ("anonymous", "citizen", "other_citizen", "agent_a", "agent_b", "intake", "officer",
         "approver", "editor", "administrator")
STAFF_ROLES = ("agent_a", "agent_b", "intake", "officer", "approver", "editor",
               "administrator")
CITIZEN_ROLES = ("citizen", "other_citizen")


# --- the answers -----------------------------------------------------------------------

class _Login:
    def __repr__(self):
        return "LOGIN"


LOGIN = _Login()


@dataclass(frozen=True)
class Redirect:
    path: str


@dataclass(frozen=True)
class AnyOf:
    answers: tuple


def every(answer) -> dict:
    return dict.fromkeys(ROLES, answer)


def signed_in(answer, anonymous=LOGIN) -> dict:
    return {**every(answer), "anonymous": anonymous}


def staff(answer, *, citizens, anonymous=LOGIN) -> dict:
    return {"anonymous": anonymous, **dict.fromkeys(CITIZEN_ROLES, citizens),
            **dict.fromkeys(STAFF_ROLES, answer)}


def only(answers: dict, otherwise) -> dict:
    """``answers`` for the roles named, ``otherwise`` for every other role."""
    return {**every(otherwise), **answers}


# --- exact entries: project-owned patterns -------------------------------------------

@dataclass
class Exact:
    sample: str  # a concrete path; ``{name}`` placeholders are filled from the fixture
    expected: dict
    why: str = ""
    method: str = "get"


# Resident A's request seen by each role (the resident pages are the requester's only).
OWN_A = {**signed_in(404), "citizen": 200}
PHOTO_A = {**signed_in(404), "citizen": 200, "agent_a": 200, "intake": 200,
           "administrator": 200}
DASHBOARD = {**staff(403, citizens=LOGIN), "agent_a": 200, "agent_b": 200,
             "administrator": 200}

EXACT: dict[str, Exact] = {
    # hub: the citizen's own pages (login required, never another user's data: every
    # view reads request.user only, so "other citizen" sees their own page, not 403).
    "fr/mon-espace/": Exact("/fr/mon-espace/", signed_in(200)),
    "fr/compte/profil/": Exact("/fr/compte/profil/", signed_in(200)),
    "fr/compte/confidentialite/": Exact("/fr/compte/confidentialite/", signed_in(200)),
    "fr/compte/confidentialite/export.json": Exact(
        "/fr/compte/confidentialite/export.json", signed_in(200)),
    "fr/compte/supprimer/": Exact("/fr/compte/supprimer/", signed_in(200),
                                  "GET shows the confirmation form; deletion needs POST"),
    # hub: API v1 (DRF)
    "api/v1/": Exact("/api/v1/", every(200), "the route list is public"),
    "api/v1/me/": Exact("/api/v1/me/", signed_in(200, anonymous=401),
                        "no credentials: 401 with a Bearer challenge (issue 12 item 5)"),
    "api/v1/modules/": Exact("/api/v1/modules/", every(200), "public: apps build menus"),
    # single sign-on (OpenID Connect provider, django-oauth-toolkit under /o/)
    "o/authorize/": Exact("/o/authorize/", signed_in(400),
                          "signed in without OAuth parameters: an error page, no grant"),
    "o/token/": Exact("/o/token/", every(405), "POST only (the relying party's back channel)"),
    "o/revoke_token/": Exact("/o/revoke_token/", every(405), "POST only"),
    "o/introspect/": Exact("/o/introspect/", every(403), "needs a client's credentials"),
    r"o/\.well-known/openid-configuration/?": Exact(
        "/o/.well-known/openid-configuration", every(200), "public discovery document"),
    ".well-known/openid-configuration": Exact("/.well-known/openid-configuration",
                                              every(200), "public discovery document"),
    "o/.well-known/jwks.json": Exact("/o/.well-known/jwks.json", every(200), "public keys"),
    "o/userinfo/": Exact("/o/userinfo/", every(401), "needs a bearer token, not a session"),
    "o/logout/": Exact("/o/logout/", {**every(200), "anonymous": Redirect("/")},
                       "RP-initiated logout: signed-in visitors are asked to confirm"),
    "fr/compte/services-autorises/": Exact("/fr/compte/services-autorises/", signed_in(200),
                                           "each resident's own grants only"),
    "open311/jetable/": Exact("/open311/jetable/", every(200),
                              "throwaway test module: a machine endpoint at the site root"),
    "api/v1/search/": Exact("/api/v1/search/?q=neige", every(200), "public content only"),
    "fr/recherche/": Exact("/fr/recherche/?q=neige", every(200), "public content only"),
    "fr/adresses/suggestions/": Exact(
        "/fr/adresses/suggestions/?q=rue+victoria", every(200),
        "public civic address register (no one's personal data), rate-limited per client"),
    "(?:api|open311)/": Exact("/api/inconnu/", every(404),
                              "unknown API paths: JSON 404, never an HTML redirect"),
    "i18n/setlang/": Exact("/i18n/setlang/", every(Redirect("/")),
                           "Django's set_language: a GET changes nothing, sends home"),
    # modules: public index pages
    "fr/requetes/": Exact("/fr/requetes/", every(200)),
    # requetes: reporting and "Mes requêtes" need a session; a citizen reaches only their
    # own (and followed) requests and photos — anything else is 404, never 403, so a
    # request's existence does not leak.  Comment/reopen/follow are POST-only.
    "fr/requetes/nouvelle/": Exact("/fr/requetes/nouvelle/", signed_in(200)),
    "fr/requetes/nouvelle/<slug:code>/": Exact("/fr/requetes/nouvelle/eclairage/",
                                               signed_in(200), "a demo category"),
    "fr/requetes/mes-requetes/": Exact("/fr/requetes/mes-requetes/", signed_in(200)),
    "fr/requetes/carte/": Exact("/fr/requetes/carte/", every(200),
                                "public map and list of open requests, no personal data"),
    # Resident A's photo: A's and the staff's who may see A's request (department X's
    # agents, intake agents, administrators); anyone else 404.
    "fr/requetes/photo/<int:pk>/": Exact("/fr/requetes/photo/{photo_a}/", PHOTO_A),
    "fr/requetes/photo/<int:pk>/miniature/": Exact("/fr/requetes/photo/{photo_a}/miniature/",
                                                   PHOTO_A),
    "fr/requetes/<str:reference>/": Exact("/fr/requetes/{req_a}/", OWN_A,
                                          "resident A's request: A's page, 404 for others"),
    "fr/requetes/<str:reference>/confirmation/": Exact(
        "/fr/requetes/{req_a}/confirmation/", OWN_A),
    "fr/requetes/<str:reference>/commenter/": Exact(
        "/fr/requetes/2020-999999/commenter/", signed_in(405)),
    "fr/requetes/<str:reference>/rouvrir/": Exact(
        "/fr/requetes/2020-999999/rouvrir/", signed_in(405)),
    "fr/requetes/<str:reference>/moi-aussi/": Exact(
        "/fr/requetes/2020-999999/moi-aussi/", signed_in(405)),
    "fr/requetes/<str:reference>/satisfaction/": Exact(
        "/fr/requetes/2020-999999/satisfaction/", signed_in(405),
        "POST only, by the requester of a closed request"),
    # requetes open data: public, no personal data, the same for everyone
    "fr/requetes/donnees-ouvertes.csv": Exact("/fr/requetes/donnees-ouvertes.csv",
                                              every(200), "public open data"),
    "fr/requetes/donnees-ouvertes.geojson": Exact(
        "/fr/requetes/donnees-ouvertes.geojson", every(200), "public open data"),
    # requetes management figures (Wagtail admin): administrators see every department,
    # department agents their own; other staff get a plain 403; non-staff sign in.
    "admin/requetes/tableau-de-bord/": Exact(
        "/admin/requetes/tableau-de-bord/", DASHBOARD, "management figures"),
    "admin/requetes/tableau-de-bord/export.csv": Exact(
        "/admin/requetes/tableau-de-bord/export.csv", DASHBOARD, "the same figures as CSV"),
    # requetes app API: categories are public; requests need a session (403 for
    # anonymous, as DRF's session auth answers); another citizen's request is 404.
    "api/v1/request-categories/": Exact("/api/v1/request-categories/", every(200)),
    "api/v1/request-categories/(?P<service_code>[^/.]+)/": Exact(
        "/api/v1/request-categories/eclairage/", every(200), "a demo category"),
    "api/v1/requests/": Exact("/api/v1/requests/", signed_in(200, anonymous=401)),
    "api/v1/requests/nearby/": Exact("/api/v1/requests/nearby/",
                                     signed_in(400, anonymous=401),
                                     "category, latitude and longitude are required"),
    "api/v1/requests/(?P<reference>[^/.]+)/": Exact(
        "/api/v1/requests/{req_a}/", {**OWN_A, "anonymous": 401},
        "resident A's request: 404 for B and for staff (the API is the resident's)"),
    "api/v1/requests/(?P<reference>[^/.]+)/comment/": Exact(
        "/api/v1/requests/2020-999999/comment/", signed_in(405, anonymous=401), "POST only"),
    "api/v1/requests/(?P<reference>[^/.]+)/follow/": Exact(
        "/api/v1/requests/2020-999999/follow/", signed_in(405, anonymous=401),
        "POST and DELETE only"),
    "fr/services-en-ligne/": Exact("/fr/services-en-ligne/", every(200)),
    # liens_services: favourites are POST-only and only ever touch request.user's own
    "fr/services-en-ligne/favoris/<int:link_id>/ajouter/": Exact(
        "/fr/services-en-ligne/favoris/1/ajouter/", signed_in(405), "POST only"),
    "fr/services-en-ligne/favoris/<int:link_id>/retirer/": Exact(
        "/fr/services-en-ligne/favoris/1/retirer/", signed_in(405), "POST only"),
    "fr/alertes/": Exact("/fr/alertes/", every(200)),
    # alertes API: alerts and topics are public; the subscription is request.user's own
    "api/v1/alerts/": Exact("/api/v1/alerts/", every(200)),
    "api/v1/alerts/(?P<pk>[^/.]+)/": Exact("/api/v1/alerts/999999/", every(404),
                                           "published alerts only; unknown ids are 404"),
    "api/v1/alert-topics/": Exact("/api/v1/alert-topics/", every(200)),
    "api/v1/alert-topics/(?P<slug>[^/.]+)/": Exact("/api/v1/alert-topics/urgences/",
                                                   every(200), "a demo topic"),
    "api/v1/alert-subscription/": Exact("/api/v1/alert-subscription/",
                                        signed_in(200, anonymous=401)),
    # alertes API writes: request.user's own subscription only (another person's address
    # id is a 404); GET is not one of their methods
    "api/v1/alert-subscription/preferences/": Exact(
        "/api/v1/alert-subscription/preferences/", signed_in(405, anonymous=401),
        "PATCH only"),
    "api/v1/alert-subscription/phones/": Exact(
        "/api/v1/alert-subscription/phones/", signed_in(405, anonymous=401), "POST only"),
    "api/v1/alert-subscription/phones/(?P<address_id>[0-9]+)/verify/": Exact(
        "/api/v1/alert-subscription/phones/999999/verify/", signed_in(405, anonymous=401),
        "POST only"),
    "api/v1/alert-subscription/phones/(?P<address_id>[0-9]+)/": Exact(
        "/api/v1/alert-subscription/phones/999999/", signed_in(405, anonymous=401),
        "DELETE only"),
    "api/v1/alert-subscription/devices/": Exact(
        "/api/v1/alert-subscription/devices/", signed_in(405, anonymous=401), "POST only"),
    "api/v1/alert-subscription/devices/(?P<address_id>[0-9]+)/": Exact(
        "/api/v1/alert-subscription/devices/999999/", signed_in(405, anonymous=401),
        "DELETE only"),
    "api/v1/alert-subscription/addresses/": Exact(
        "/api/v1/alert-subscription/addresses/", signed_in(405, anonymous=401), "POST only"),
    "api/v1/alert-subscription/addresses/(?P<address_id>[0-9]+)/": Exact(
        "/api/v1/alert-subscription/addresses/999999/", signed_in(405, anonymous=401),
        "DELETE only"),
    "fr/alertes/archives/": Exact("/fr/alertes/archives/", every(200)),
    "fr/alertes/<int:pk>/": Exact("/fr/alertes/999999/", every(404),
                                  "published alerts are public; unknown or draft ids are 404"),
    "fr/alertes/abonnement/": Exact("/fr/alertes/abonnement/", signed_in(200),
                                    "reads request.user's subscriber only"),
    # Issue 13, sandbox channel: "messages reçus" reads request.user's subscriber only.
    "fr/alertes/messages-recus/": Exact("/fr/alertes/messages-recus/", signed_in(200),
                                        "reads request.user's subscriber only"),
    "fr/alertes/abonnement/courriel/<str:token>/": Exact(
        "/fr/alertes/abonnement/courriel/jeton-invalide/", every(400),
        "signed email-verification link: a bad token is a clear 400 for anyone"),
    "fr/alertes/desabonnement/<str:token>/": Exact(
        "/fr/alertes/desabonnement/jeton-invalide/", every(400),
        "signed one-click unsubscribe link (RFC 8058): a bad token is a 400 for anyone"),
    "fr/alertes/twilio/entrant/": Exact("/fr/alertes/twilio/entrant/", every(405),
                                        "Twilio webhook: POST only, signature checked"),
    "fr/alertes/twilio/statut/": Exact("/fr/alertes/twilio/statut/", every(405),
                                       "Twilio status callback: POST only, signature checked"),
    "fr/alertes/twilio/appel/<int:pk>/": Exact(
        "/fr/alertes/twilio/appel/1/", every(405), "Twilio voice TwiML: POST only, signed"),
    "fr/alertes/twilio/appel/<int:pk>/touche/": Exact(
        "/fr/alertes/twilio/appel/1/touche/", every(405),
        "Twilio key-press webhook: POST only, signed"),
    "fr/alertes/twilio/appel/statut/": Exact("/fr/alertes/twilio/appel/statut/", every(405),
                                             "Twilio call status: POST only, signed"),
    "fr/alertes/abonnement/notifications/": Exact(
        "/fr/alertes/abonnement/notifications/", signed_in(405),
        "stores a push subscription for request.user's subscriber: POST only"),
    "fr/alertes/abonnement/notifications/changement/": Exact(
        "/fr/alertes/abonnement/notifications/changement/", every(405),
        "the service worker's renewed push subscription: POST only, authorised by the "
        "previous subscription's auth secret (no session, no CSRF token)"),
    "alertes/sw.js": Exact("/alertes/sw.js", every(200), "public push service worker"),
    "fr/alertes/flux.atom": Exact("/fr/alertes/flux.atom", every(200),
                                  "public Atom feed of the alerts in force"),
    "fr/alertes/cap.atom": Exact("/fr/alertes/cap.atom", every(200), "public CAP feed"),
    "alertes/cap.atom": Exact("/alertes/cap.atom", every(200),
                              "public CAP feed at its fixed address"),
    "alertes/cap/<int:pk>.xml": Exact("/alertes/cap/999999.xml", every(404),
                                      "public CAP alert; unknown id"),
    "fr/alertes/cap/<int:pk>.xml": Exact("/fr/alertes/cap/999999.xml", every(404),
                                         "public CAP document; unknown or draft ids are 404"),
    # requetes: Open311 GeoReport v2 at the site root. Reading is public and shows no
    # personal data; writing needs an api_key (never a session), so every role is equal.
    "open311/v2/discovery.<o311fmt:fmt>": Exact("/open311/v2/discovery.xml", every(200),
                                                "public discovery document"),
    "open311/v2/services.<o311fmt:fmt>": Exact("/open311/v2/services.json", every(200),
                                               "public list of services"),
    "open311/v2/services/<str:service_code>.<o311fmt:fmt>": Exact(
        "/open311/v2/services/animaux.xml", every(200), "a demo category's definition"),
    "open311/v2/requests.<o311fmt:fmt>": Exact(
        "/open311/v2/requests.json", every(200),
        "GET lists public fields only; POST needs an api_key, whatever the session"),
    "open311/v2/requests/<str:service_request_id>.<o311fmt:fmt>": Exact(
        "/open311/v2/requests/2020-999999.json", every(404), "unknown id: the spec's 404"),
    "open311/v2/tokens/<str:token>.<o311fmt:fmt>": Exact(
        "/open311/v2/tokens/inconnu.xml", every(404), "unknown token: the spec's 404"),
    "open311/v2/servicerequestupdates.<o311fmt:fmt>": Exact(
        "/open311/v2/servicerequestupdates.json", every(200),
        "public updates (staff messages only); POST needs an api_key allowed to post"),
    "open311/v2/(?P<rest>.*)": Exact("/open311/v2/inconnu.json", every(404),
                                     "anything else under /open311/v2/: the spec's 404"),
    # actualites: the news list is the NewsIndexPage (Wagtail serving); the feeds are public
    "fr/actualites/flux.rss": Exact("/fr/actualites/flux.rss", every(200)),
    "fr/actualites/flux.atom": Exact("/fr/actualites/flux.atom", every(200)),
    # the throwaway test module (tests/throwaway/plugin.py)
    "fr/jetable/": Exact("/fr/jetable/", every(200)),
    "api/v1/throwaway-ping/": Exact("/api/v1/throwaway-ping/", every(200), "AllowAny"),
    # --- added by helper "oidc" (issue 12 item 4) ---
    "o/.well-known/oauth-authorization-server": Exact(
        "/o/.well-known/oauth-authorization-server", every(200),
        "public RFC 8414 metadata; its route gives the RFC 9207 iss = the issuer"),
    # --- end oidc ---
    # --- added by helper "resilience" (issue 12, Health) ---
    "health/": Exact("/health/", every(200),
                     "the load balancer's probe: plain 'ok' (503 when a backend is down)"),
    "health/detail/": Exact("/health/detail/", staff(200, citizens=403),
                            "every check with its figures, staff only"),
    # --- end resilience ---
}


# --- walking the URL configuration ---------------------------------------------------

def _piece(pattern) -> str:
    text = str(pattern)
    if isinstance(pattern, RegexPattern):
        text = text.removeprefix("^").removesuffix("$")
    return text


def walk(patterns, prefix: str = ""):
    for entry in patterns:
        route = prefix + _piece(entry.pattern)
        if isinstance(entry, URLResolver):
            yield from walk(entry.url_patterns, route)
        elif isinstance(entry, URLPattern):
            yield route, entry


def all_routes() -> list[tuple[str, URLPattern]]:
    """Every pattern's full route string (``i18n_patterns`` seen in French)."""
    with translation.override("fr"):
        return list(walk(get_resolver().url_patterns))


def is_parameterless(route: str) -> bool:
    return "<" not in route and "(" not in route and "\\" not in route and "*" not in route


def route_to_path(route: str) -> str:
    return "/" + route


# --- the roles, once per module -------------------------------------------------------

@pytest.fixture(scope="module")
def world(django_db_setup, django_db_blocker):
    """The demo site, one user per role and real objects they own, created once for the
    whole matrix inside a transaction rolled back at the end (each test then runs in a
    savepoint, so a write probe's change is undone after its test)."""
    with django_db_blocker.unblock():
        atomic = transaction.atomic()
        atomic.__enter__()
        try:
            yield build_world()
        finally:
            transaction.set_rollback(True)
            atomic.__exit__(None, None, None)
            for connection in connections.all():
                connection.close_if_unusable_or_obsolete()


INSIDE = (45.2556, -74.1320)  # downtown Salaberry-de-Valleyfield


def _jpeg() -> bytes:
    import io

    from PIL import Image

    out = io.BytesIO()
    Image.new("RGB", (32, 24), (200, 30, 30)).save(out, format="JPEG")
    return out.getvalue()


def build_world() -> dict:
    """Users, and the objects the probes name (``{placeholder}`` in sample paths):

    * ``req_a`` — resident A's request in department X, with a photo (``photo_a``);
      ``req_c`` — resident A's closed request (reopen, satisfaction);
      ``req_b`` — resident B's in department Y; ``req_x``/``req_y`` — phone requests of
      departments X and Y (``*_pk`` their ids, for the admin);
    * ``alert_review`` — an alert the officer submitted, waiting for the approver;
      ``alert_draft`` — an emergency draft;
    * ``address_b`` — resident B's alert phone number; ``template_x`` — department X's
      response template; ``key`` — an Open311 API key."""
    from allauth.account.models import EmailAddress
    from django.core.files.uploadedfile import SimpleUploadedFile
    from django.utils import timezone
    from wagtail.models import Page

    from hub import demo
    from hub.models import Department, User
    from modules.alertes import roles as alertes_roles
    from modules.alertes.models import Alert, Subscriber, Topic
    from modules.requetes import services as requetes
    from modules.requetes.models import Category, ResponseTemplate

    demo.load()
    dept_x = Department.objects.get(slug="travaux-publics")
    dept_y = Department.objects.get(slug="environnement")

    def make(email, groups=(), departments=(), **extra):
        user = User.objects.create_user(email=email, password="motdepasse-solide-42",
                                        **extra)
        for name in groups:
            user.groups.add(Group.objects.get(name=name))
        for department in departments:
            department.agents.add(user)
        EmailAddress.objects.create(user=user, email=email, verified=True, primary=True)
        return user

    users = {
        "anonymous": None,
        "citizen": make("citoyenne@example.com"),
        "other_citizen": make("voisin@example.com"),
        "agent_a": make("agent.a@example.com", is_staff=True,
                        groups=[requetes_roles.DEPARTMENT_AGENTS], departments=[dept_x]),
        "agent_b": make("agent.b@example.com", is_staff=True,
                        groups=[requetes_roles.DEPARTMENT_AGENTS], departments=[dept_y]),
        "intake": make("saisie@example.com", is_staff=True,
                       groups=[requetes_roles.INTAKE_AGENTS]),
        "officer": make("communications@example.com", is_staff=True,
                        groups=[alertes_roles.COMMUNICATIONS_OFFICERS]),
        "approver": make("approbation@example.com", is_staff=True,
                         groups=[alertes_roles.APPROVERS]),
        "editor": make("redaction@example.com", is_staff=True, groups=[roles.EDITORS]),
        "administrator": make("admin.test@example.com", is_staff=True, is_superuser=True,
                              groups=[roles.ADMINISTRATORS]),
    }
    x_category = Category.objects.get(service_code="eclairage")  # department X
    y_category = Category.objects.get(service_code="proprete")  # department Y
    assert (x_category.department, y_category.department) == (dept_x, dept_y)

    def report(category, actor, **extra):
        values = {"actor": actor, "category": category, "description": "Sonnez au 12.",
                  "latitude": INSIDE[0], "longitude": INSIDE[1]}
        return requetes.create_request(**{**values, **extra})

    req_a = report(x_category, users["citizen"], photos=[
        SimpleUploadedFile("a.jpg", _jpeg(), content_type="image/jpeg")])
    req_b = report(y_category, users["other_citizen"])
    phone = {"channel": "phone", "caller_name": "Julie Bergeron",
             "caller_phone": "450 555-0817"}
    req_c = report(x_category, users["citizen"])  # resident A's, closed
    requetes.transition(req_c, actor=users["administrator"], to_status="closed",
                        closure_reason="fixed", public_message="Réparé.")
    req_x = report(x_category, users["intake"], **phone)
    req_y = report(y_category, users["intake"], **phone)
    template_x = ResponseTemplate.objects.create(title="Modèle X", department=dept_x,
                                                 body_fr="Bonjour.")
    key, _secret = requetes.issue_api_key(actor=users["administrator"], name="Partenaire")

    topic = Topic.objects.filter(is_emergency=False).first()
    officer = users["officer"]
    alert_review = Alert.objects.create(title_fr="Collecte reportée", body_fr="Demain.",
                                        severity="notice", channels=["email"],
                                        created_by=officer)
    alert_review.topics.set([topic])
    alert_review.save_revision(user=officer)
    alert_review.get_workflow().start(alert_review, officer)
    alert_draft = Alert.objects.create(title_fr="Fuite de gaz", body_fr="Évacuez.",
                                       severity="emergency", channels=["email"],
                                       created_by=officer)
    subscriber_b = Subscriber.objects.create(user=users["other_citizen"], language="fr")
    address_b = subscriber_b.addresses.create(channel="sms", value="+14505550199")
    subscriber_b.addresses.create(channel="email", value="voisin@example.com",
                                  verified_at=timezone.now())
    alert_draft.topics.set([Topic.objects.filter(is_emergency=True).first()])

    from modules.liens_services.models import ServiceLink

    link = ServiceLink.objects.filter(is_active=True).order_by("pk").first()
    home = Page.objects.get(locale__language_code="fr", depth=2)
    context = {
        "link": link.pk, "dept_x": dept_x.pk,
        "home_id": home.pk,
        "req_a": req_a.reference, "req_b": req_b.reference, "req_x": req_x.reference,
        "req_y": req_y.reference, "req_c": req_c.reference, "req_a_pk": req_a.pk,
        "req_b_pk": req_b.pk,
        "req_x_pk": req_x.pk, "req_y_pk": req_y.pk, "photo_a": req_a.photos.get().pk,
        "alert_review": alert_review.pk, "alert_draft": alert_draft.pk,
        "address_b": address_b.pk, "template_x": template_x.pk,
        "key": key.pk,
    }
    return {"users": users, "context": context}


def client_for(world, role) -> Client:
    client = Client()
    user = world["users"][role]
    if user is not None:
        client.force_login(user)
    return client


# --- group rules: third-party URL groups ----------------------------------------------

class _AdminLogin:
    def __repr__(self):
        return "ADMIN_LOGIN"


ADMIN_LOGIN = _AdminLogin()  # redirect to settings.WAGTAILADMIN_LOGIN_URL with ?next=

# requetes: the Open311 API key screens are for administrators only (other staff get
# Wagtail's "permission denied" redirect); revoking is POST-only.
def admin_screen(**answers) -> dict:
    """A project admin screen: anonymous visitors and residents are sent to the sign-in
    page; staff without the screen's permission get Wagtail's "permission denied"
    (back to the dashboard); ``answers`` names the staff roles answered otherwise."""
    return {**every(ADMIN_LOGIN), **dict.fromkeys(STAFF_ROLES, Redirect("/admin/")),
            **answers}


EXACT.update({
    "admin/open311-cles/": Exact("/admin/open311-cles/", admin_screen(administrator=200)),
    "admin/open311-cles/nouvelle/": Exact("/admin/open311-cles/nouvelle/",
                                          admin_screen(administrator=200)),
    "admin/open311-cles/<int:pk>/revoquer/": Exact("/admin/open311-cles/{key}/revoquer/",
                                                   admin_screen(administrator=405),
                                                   "POST only"),
})

# --- project admin screens (requetes, alertes): exact answers, real objects ------------
# The staff queue: department agents see their departments', intake agents and
# administrators every request; a request of another department is a plain 403.
REQUEST_STAFF = dict.fromkeys(("agent_a", "agent_b", "intake", "administrator"), 200)
EXACT.update({
    "admin/requetes/": Exact("/admin/requetes/", admin_screen(**REQUEST_STAFF)),
    "admin/requetes/carte/": Exact("/admin/requetes/carte/", admin_screen(**REQUEST_STAFF)),
    "admin/requetes/<int:pk>/": Exact(
        "/admin/requetes/{req_x_pk}/", admin_screen(**{**REQUEST_STAFF, "agent_b": 403}),
        "department X's request (the writes are probed on X's and Y's in WRITES)"),
    "admin/requetes/saisie/": Exact("/admin/requetes/saisie/",
                                    admin_screen(intake=200, administrator=200)),
    "admin/requetes/saisie/<slug:code>/": Exact(
        "/admin/requetes/saisie/eclairage/", admin_screen(intake=200, administrator=200)),
    "admin/snippets/requetes/responsetemplate/edit/<int:pk>/": Exact(
        "/admin/snippets/requetes/responsetemplate/edit/{template_x}/",
        admin_screen(agent_a=200, administrator=200),
        "department X's template: X's agents and administrators"),
    "admin/snippets/requetes/responsetemplate/delete/<int:pk>/": Exact(
        "/admin/snippets/requetes/responsetemplate/delete/{template_x}/",
        admin_screen(agent_a=200, administrator=200), "the confirmation page"),
})
# Alerts: officers and approvers read the sending screens and the alert under review;
# only officers (and administrators) write alerts and register residents.
ALERT_READERS = dict.fromkeys(("officer", "approver", "administrator"), 200)
ALERT_WRITERS = dict.fromkeys(("officer", "administrator"), 200)
EXACT.update({
    "admin/alertes/envois/": Exact("/admin/alertes/envois/", admin_screen(**ALERT_READERS)),
    "admin/alertes/<int:pk>/rapport/": Exact("/admin/alertes/{alert_review}/rapport/",
                                             admin_screen(**ALERT_READERS),
                                             "the alert under review"),
    "admin/alertes/<int:pk>/rapport.csv": Exact("/admin/alertes/{alert_review}/rapport.csv",
                                                admin_screen(**ALERT_READERS)),
    "admin/alertes/<int:pk>/action/": Exact(
        "/admin/alertes/{alert_review}/action/",
        {**every(ADMIN_LOGIN), **dict.fromkeys(STAFF_ROLES, 405)},
        "POST only (probed in WRITES); each service checks its own permission"),
    "admin/alertes/abonnes/": Exact("/admin/alertes/abonnes/", admin_screen(**ALERT_READERS)),
    # Issue 13: the sandbox's test box (recipients' messages): subscriber readers only.
    "admin/alertes/boite-de-test/": Exact("/admin/alertes/boite-de-test/",
                                          admin_screen(**ALERT_READERS)),
    "admin/alertes/abonnes/inscrire/": Exact("/admin/alertes/abonnes/inscrire/",
                                             admin_screen(**ALERT_WRITERS)),
    "admin/alertes/abonnes/importer/": Exact("/admin/alertes/abonnes/importer/",
                                             admin_screen(**ALERT_WRITERS)),
    # The alert list (its rows' sending states are counted by alertes' own index view)
    # and the list's filtered results that Wagtail fetches.
    "admin/snippets/alertes/alert/": Exact("/admin/snippets/alertes/alert/",
                                           admin_screen(**ALERT_READERS)),
    "admin/snippets/alertes/alert/results/": Exact("/admin/snippets/alertes/alert/results/",
                                                   admin_screen(**ALERT_READERS)),
    "admin/snippets/alertes/alert/add/": Exact("/admin/snippets/alertes/alert/add/",
                                               admin_screen(**ALERT_WRITERS)),
    "admin/snippets/alertes/alert/edit/<int:pk>/": Exact(
        "/admin/snippets/alertes/alert/edit/{alert_review}/", admin_screen(**ALERT_READERS),
        "the approver reviews the alert in its editor"),
    "admin/snippets/alertes/alert/copy/<int:pk>/": Exact(
        "/admin/snippets/alertes/alert/copy/{alert_review}/", admin_screen(**ALERT_WRITERS)),
})


class _LocalRedirect:
    def __repr__(self):
        return "LOCAL_REDIRECT"


LOCAL_REDIRECT = _LocalRedirect()  # a redirect to a page of this site, not the sign-in

# Wagtail admin URLs whose answer is not "the admin page": (route -> {role: answer}).
ADMIN_SPECIAL = {
    # Static-like resources the admin's login page itself needs.
    "admin/sprite/": every(200),
    "admin/jsi18n/": every(200),
    # Wagtail's own login form is replaced by a redirect to the one sign-in (allauth).
    "admin/login/": {**every(ADMIN_LOGIN), **dict.fromkeys(STAFF_ROLES, Redirect("/admin/")),
                     **dict.fromkeys(CITIZEN_ROLES, Redirect("/admin/"))},
    # WAGTAIL_PASSWORD_MANAGEMENT_ENABLED = False: passwords are allauth's.
    "admin/password_reset/": every(404),
    "admin/password_reset/done/": every(404),
    "admin/password_reset/complete/": every(404),
    # POST-only or parameter-only endpoints.
    "admin/logout/": 405,
    "admin/block-preview/": 404,
    "admin/api/main/pages/find/": 404,
    "admin/api/main/images/find/": 404,
    "admin/api/main/documents/find/": 404,
    # Wagtail's deliberate "is error reporting working" view.
    "admin/failwhale/": 500,
    # The snippets index (news categories, online service links…): administrators see
    # it; other staff see it or are sent back to the dashboard, per their permissions.
    "admin/snippets/": {"administrator": 200},
    "admin/redirects/import/process/": {"administrator": 405},
    # Two task types (Wagtail's group approval, alertes' four-eyes approval): a chooser.
    "admin/workflows/tasks/select_type/": {"administrator": 200},
}

# Settings screens only administrators reach (Wagtail's permission denied: back to /admin/).
ADMIN_ONLY_PREFIXES = (
    "admin/users/", "admin/groups/", "admin/sites/", "admin/locales/", "admin/collections/",
    "admin/workflows/list/", "admin/workflows/add/", "admin/workflows/tasks/index/",
    "admin/redirects/", "admin/snippets/hub/department/", "admin/snippets/hub/district/",
    "admin/snippets/hub/civicaddress/",
)


# --- helper "law25": Québec's Law 25 registers, administrators only ----------------------
# The confidentiality incident register and the staff access log are snippets no staff
# role is given; the access log is append-only (no "add" even for administrators); the
# incident notice (FR/EN) is a project admin view.
ADMIN_ONLY_PREFIXES += ("admin/snippets/hub/privacyincident/",
                        "admin/snippets/hub/personaldataaccess/")
for _route in ("admin/snippets/hub/personaldataaccess/add/",
               "admin/snippets/choose/hub/personaldataaccess/create/"):
    ADMIN_SPECIAL[_route] = {"administrator": Redirect("/admin/")}
EXACT["admin/confidentialite/incidents/<int:pk>/avis/<str:language>/"] = Exact(
    "/admin/confidentialite/incidents/999999/avis/fr/", admin_screen(administrator=404),
    "an incident's notice to the persons concerned: the register's permission, then 404")
# --- end "law25" --------------------------------------------------------------------------


# --- helper "demo" (issue 13): the demo partner service, development only ---------------
# A relying party of the hub served under /partenaire-demo/ (hub.demo_partner) while
# HUB_DEMO_PARTNER is on (DEBUG); GET only, its own signed cookie, nobody's data: the
# same answer for every role.  Off, every route is a 404 (tests/test_demo.py).
EXACT["partenaire-demo/"] = Exact("/partenaire-demo/", every(200),
                                  "the partner's page: the sign-in button")
EXACT["partenaire-demo/connexion/"] = Exact(
    "/partenaire-demo/connexion/", every(Redirect("/o/authorize/")),
    "starts the authorization code flow (PKCE) at the hub's endpoint")
EXACT["partenaire-demo/retour/"] = Exact(
    "/partenaire-demo/retour/", every(400), "the callback without a code and state: refused")
# --- end "demo" ---------------------------------------------------------------------------


# --- helper "api-docs" (issue 13): the app API's photos, by bearer token or session -------
# Resident A's photo through the API: A's and the staff's who may see A's request (as on
# the site, PHOTO_A), 404 for anyone else (a follower included); anonymous is the API's 401.
EXACT["api/v1/requests/(?P<reference>[^/.]+)/photos/(?P<photo_id>[0-9]+)/"] = Exact(
    "/api/v1/requests/{req_a}/photos/{photo_a}/", {**PHOTO_A, "anonymous": 401},
    "resident A's photo: A and the staff who may see the request")
EXACT["api/v1/requests/(?P<reference>[^/.]+)/photos/(?P<photo_id>[0-9]+)/thumbnail/"] = Exact(
    "/api/v1/requests/{req_a}/photos/{photo_a}/thumbnail/", {**PHOTO_A, "anonymous": 401},
    "its thumbnail: the same people")

# --- end "api-docs" -----------------------------------------------------------------------


def admin_rule(route: str, role: str):
    if role == "anonymous" or role in CITIZEN_ROLES:
        special = ADMIN_SPECIAL.get(route)
        if isinstance(special, dict) and role in special:
            return special[role]
        return ADMIN_LOGIN
    special = ADMIN_SPECIAL.get(route)
    if isinstance(special, dict) and role in special:
        return special[role]
    if special is not None and not isinstance(special, dict):
        return special
    if role == "administrator":
        return 200
    if route.startswith(ADMIN_ONLY_PREFIXES):
        return Redirect("/admin/")
    # Other screens depend on each staff role's Wagtail permissions: the page itself,
    # or Wagtail's "permission denied" redirect to the dashboard — never the sign-in
    # page, never an error.
    return AnyOf((200, Redirect("/admin/")))


# allauth: pages anyone may open (the rest need a signed-in session).
ALLAUTH_PUBLIC = {
    "fr/compte/login/", "fr/compte/signup/", "fr/compte/inactive/",
    "fr/compte/confirm-email/", "fr/compte/password/reset/",
    "fr/compte/password/reset/done/", "fr/compte/password/reset/key/done/",
    "fr/compte/logout/",
    # Links from emails: an invalid key shows the "bad link" page to anyone.
    r"fr/compte/confirm-email/(?P<key>[-:\w]+)/",
    r"fr/compte/password/reset/key/(?P<uidb36>[0-9A-Za-z]+)-(?P<key>.+)/",
}
# Second stages of a sign-in: without a pending sign-in, back to the sign-in page.
ALLAUTH_LOGIN_STAGES = {"fr/compte/login/code/confirm/", "fr/compte/2fa/authenticate/"}


def allauth_rule(route: str, role: str):
    if role == "anonymous":
        if route in ALLAUTH_LOGIN_STAGES:
            return Redirect("/fr/compte/login/")
        return AnyOf((200, LOCAL_REDIRECT)) if route in ALLAUTH_PUBLIC else LOGIN
    # Signed in, every role the same: allauth's views only read request.user.  404 is
    # MFA management without an authenticator; redirects go to reauthentication,
    # the password change page or Mon Espace.
    return AnyOf((200, 404, LOCAL_REDIRECT))


@dataclass
class GroupRule:
    name: str
    matches: Callable[[str], bool]
    why: str
    expected: Callable[[str, str], object]  # (route, role) -> answer
    samples: dict[str, str] = field(default_factory=dict)  # parameterised route -> path


GROUPS: list[GroupRule] = [
    GroupRule(
        "wagtail-admin", lambda r: r.startswith("admin/"),
        "Wagtail's admin: every screen requires wagtailadmin.access_admin (all staff "
        "groups have it, citizens do not), finer permissions per Wagtail group. Checked "
        "on every parameterless admin URL.",
        admin_rule,
    ),
    GroupRule(
        "allauth", lambda r: r.startswith("fr/compte/") and r not in EXACT,
        "django-allauth's account views (sign-in, sign-up, email, password, MFA): "
        "public entry points answer everyone; the rest need a session and only ever "
        "act on request.user. Parameterised links are checked with invalid keys.",
        allauth_rule,
        samples={
            r"fr/compte/confirm-email/(?P<key>[-:\w]+)/": "/fr/compte/confirm-email/cle-invalide/",
            r"fr/compte/password/reset/key/(?P<uidb36>[0-9A-Za-z]+)-(?P<key>.+)/":
                "/fr/compte/password/reset/key/zz-cle-invalide/",
        },
    ),
    GroupRule(
        "wagtail-serve", lambda r: r.startswith("fr/") and (
            r.startswith("fr/_util/") or r == r"fr/((?:[\w\-]+/)*)"),
        "Wagtail page serving (catch-all): live public pages answer everyone, unknown "
        "paths are 404; /_util/ are Wagtail's page-privacy login and password forms.",
        lambda route, role: {
            r"fr/((?:[\w\-]+/)*)": 200,  # the sample is the home page
            "fr/_util/login/": 200,
        }.get(route, 404),
        samples={
            r"fr/((?:[\w\-]+/)*)": "/fr/",
            "fr/_util/authenticate_with_password/<int:page_view_restriction_id>/"
            "<int:page_id>/": "/fr/_util/authenticate_with_password/999999/{home_id}/",
        },
    ),
    GroupRule(
        "wagtail-api-v2", lambda r: r.startswith("api/v2/"),
        "Wagtail API v2, read-only and public (live pages, images, documents): the same "
        "answer for every role; find/ without a query and unknown ids are 404.",
        lambda route, role: 200 if route in (
            "api/v2/pages/", "api/v2/images/", "api/v2/documents/", "api/v2/pages/<int:pk>/",
        ) else 404,
        samples={
            "api/v2/pages/<int:pk>/": "/api/v2/pages/{home_id}/",
            "api/v2/images/<int:pk>/": "/api/v2/images/999999/",
            "api/v2/documents/<int:pk>/": "/api/v2/documents/999999/",
        },
    ),
    GroupRule(
        "wagtail-documents", lambda r: r.startswith("documents/"),
        "Wagtail document serving: collection privacy is enforced by Wagtail; unknown "
        "documents and restrictions are 404.",
        lambda route, role: 404,
        samples={
            r"documents/(\d+)/(.*)": "/documents/999999/inconnu.pdf",
            "documents/authenticate_with_password/<int:restriction_id>/":
                "/documents/authenticate_with_password/999999/",
        },
    ),
    GroupRule(
        "drf-spectacular",
        lambda r: r in ("api/schema/", "api/docs/", "api/docs/oauth2-redirect.html"),
        "The OpenAPI schema and its docs describe the public API: readable by anyone, "
        "as is the docs' OAuth2 redirect page (issue 13, Swagger UI's own page).",
        lambda route, role: 200,
    ),
    GroupRule(
        "static-media", lambda r: r.startswith(("media/", "static/")),
        "Uploaded media served by Django in development only (whitenoise/the proxy in "
        "production); a missing file is 404.",
        lambda route, role: 404,
        samples={"media/(?P<path>.*)": "/media/inconnu.txt"},
    ),
]


def group_for(route: str) -> GroupRule | None:
    for group in GROUPS:
        if group.matches(route):
            return group
    return None


# --- write probes: POST/PATCH/DELETE on state-changing routes --------------------------
#
# HOW TO DECLARE A WRITE: append a ``Write`` to ``WRITES`` (in your own clearly headed
# block, like the ones below): the route (as the URLconf spells it), the method, a sample
# path with ``{placeholders}`` from ``build_world``'s context, the answer per role, the
# ``state`` the write could change (a function of the context returning plain values),
# and ``changes``: the roles whose write takes effect.  Every other role's write must
# leave ``state`` exactly as it was, and the listed roles' must change it (so a probe
# whose payload is refused by everyone cannot pass unnoticed).

@dataclass
class Write:
    route: str
    method: str  # post, patch, put, delete
    sample: str
    expected: dict
    state: Callable[[dict], object]
    changes: tuple = ()
    data: dict | Callable[[dict], dict] = field(default_factory=dict)
    json: bool = False
    why: str = ""

    def payload(self, context: dict) -> dict:
        return self.data(context) if callable(self.data) else self.data


def request_state(name: str) -> Callable[[dict], object]:
    """A request's status, assignee, followers and every event (kind, message)."""
    def state(context):
        from modules.requetes.models import ServiceRequest

        obj = ServiceRequest.objects.get(reference=context[name])
        return (obj.status, obj.assigned_to_id, obj.description_redacted,
                sorted(obj.followers.values_list("pk", flat=True)),
                list(obj.events.order_by("pk").values_list("kind", "public_message",
                                                            "internal_note")),
                obj.photos.count(), obj.satisfaction)
    return state


def request_count(context) -> int:
    from modules.requetes.models import ServiceRequest

    return ServiceRequest.objects.count()


def alert_state(name: str) -> Callable[[dict], object]:
    def state(context):
        from modules.alertes.models import Alert

        alert = Alert.objects.get(pk=context[name])
        return (alert.status, alert.title_fr, alert.sent_at, alert.live,
                alert.deliveries.count(), Alert.objects.count())
    return state


def key_state(context):
    from modules.requetes.models import Open311ApiKey

    return list(Open311ApiKey.objects.order_by("pk").values_list("pk", "active"))


def template_state(context):
    from modules.requetes.models import ResponseTemplate

    return list(ResponseTemplate.objects.filter(pk=context["template_x"]).values_list(
        "title", "body_fr", "department_id"))


def address_state(context):
    from modules.alertes.models.subscribers import Address

    return list(Address.objects.filter(pk=context["address_b"]).values_list(
        "value", "verified_at"))


def users_state(context):
    from hub.models import User

    return sorted(User.objects.values_list("email", "is_active"))


SIGNED_IN = tuple(role for role in ROLES if role != "anonymous")
NOT_A = tuple(role for role in SIGNED_IN if role != "citizen")
ADMIN_DENIED = Redirect("/admin/")  # Wagtail's "permission denied": back to the dashboard
TRANSITION = {"to_status": "acknowledged", "public_message": "Pris en charge."}

WRITES: list[Write] = [
    # requetes, resident pages: only the requester acts on their request; anyone else
    # (another resident, staff outside the admin) gets the 404 of a request they cannot
    # see, and the request is unchanged.
    Write("fr/requetes/<str:reference>/commenter/", "post", "/fr/requetes/{req_a}/commenter/",
          {**only(dict.fromkeys(NOT_A, 404), LOGIN),
           "citizen": Redirect("/fr/requetes/{req_a}/")},
          request_state("req_a"), changes=("citizen",),
          data={"message": "Toujours éteint."}),
    Write("fr/requetes/<str:reference>/rouvrir/", "post", "/fr/requetes/{req_a}/rouvrir/",
          {**only(dict.fromkeys(NOT_A, 404), LOGIN), "citizen": 400},
          request_state("req_a"), data={"message": "Toujours éteint."},
          why="an open request cannot be reopened: the requester gets the form's error"),
    Write("fr/requetes/<str:reference>/satisfaction/", "post",
          "/fr/requetes/{req_a}/satisfaction/",
          {**only(dict.fromkeys(NOT_A, 404), LOGIN),
           "citizen": Redirect("/fr/requetes/{req_a}/")},
          request_state("req_a"), data={"satisfaction": "5"},
          why="not closed yet: the requester is told why, nothing is recorded"),
    Write("fr/requetes/<str:reference>/moi-aussi/", "post", "/fr/requetes/{req_b}/moi-aussi/",
          signed_in(Redirect("/fr/requetes/{req_b}/")), request_state("req_b"),
          changes=tuple(role for role in SIGNED_IN if role != "other_citizen"),
          why="anyone signed in may follow an open request (its requester already does)"),
    # requetes, app API (session auth): the same rules as JSON.
    Write("api/v1/requests/(?P<reference>[^/.]+)/comment/", "post",
          "/api/v1/requests/{req_a}/comment/",
          {**only(dict.fromkeys(NOT_A, 404), 401), "citizen": 201},
          request_state("req_a"), changes=("citizen",), data={"message": "Encore."},
          json=True),
    Write("api/v1/requests/(?P<reference>[^/.]+)/follow/", "post",
          "/api/v1/requests/{req_b}/follow/", signed_in(200, anonymous=401),
          request_state("req_b"),
          changes=tuple(role for role in SIGNED_IN if role != "other_citizen"),
          why="anyone signed in may follow an open request (its requester already does)"),
    Write("api/v1/requests/(?P<reference>[^/.]+)/follow/", "delete",
          "/api/v1/requests/{req_a}/follow/", signed_in(200, anonymous=401),
          request_state("req_a"),
          why="unfollowing touches only request.user's own follow; the requester stays"),
    Write("api/v1/requests/", "post", "/api/v1/requests/", signed_in(201, anonymous=401),
          request_count, changes=SIGNED_IN, json=True,
          data={"category": "eclairage", "description": "Lampadaire éteint.",
                "latitude": INSIDE[0], "longitude": INSIDE[1]}),
    # requetes, staff screens: a department's agents handle its requests; another
    # department's agent gets a plain 403; other staff Wagtail's permission denied.
    Write("admin/requetes/<int:pk>/", "post", "/admin/requetes/{req_x_pk}/", {
        **only({"agent_a": Redirect("/admin/requetes/{req_x_pk}/"),
                "administrator": Redirect("/admin/requetes/{req_x_pk}/"),
                "agent_b": 403, "intake": 403, "officer": ADMIN_DENIED,
                "approver": ADMIN_DENIED, "editor": ADMIN_DENIED}, ADMIN_LOGIN)},
          request_state("req_x"), changes=("agent_a", "administrator"), data=TRANSITION,
          why="the transition form: department X's request"),
    Write("admin/requetes/<int:pk>/", "post", "/admin/requetes/{req_y_pk}/", {
        **only({"agent_b": Redirect("/admin/requetes/{req_y_pk}/"),
                "administrator": Redirect("/admin/requetes/{req_y_pk}/"),
                "agent_a": 403, "intake": 403, "officer": ADMIN_DENIED,
                "approver": ADMIN_DENIED, "editor": ADMIN_DENIED}, ADMIN_LOGIN)},
          request_state("req_y"), changes=("agent_b", "administrator"),
          data={"action": "note", "internal_note": "Vu."},
          why="an internal note on department Y's request"),
    Write("admin/requetes/saisie/<slug:code>/", "post", "/admin/requetes/saisie/eclairage/", {
        **only({"intake": LOCAL_REDIRECT, "administrator": LOCAL_REDIRECT,
                "agent_a": ADMIN_DENIED, "agent_b": ADMIN_DENIED, "officer": ADMIN_DENIED,
                "approver": ADMIN_DENIED, "editor": ADMIN_DENIED}, ADMIN_LOGIN)},
          request_count, changes=("intake", "administrator"),
          data=lambda context: {
              "channel": "phone", "caller_name": "Marc Lalonde",
              "caller_phone": "450 555-0101", "contact_channel": "phone",
              "priority": "normal", "latitude": str(INSIDE[0]),
              "longitude": str(INSIDE[1]), "description": "Lampadaire éteint.",
              "submission_key": "6f4d3a1e-3c11-4c2b-9a5e-000000000001"},
          why="a phone request entered for a caller: intake agents and administrators"),
    Write("admin/open311-cles/<int:pk>/revoquer/", "post", "/admin/open311-cles/{key}/revoquer/",
          {**only({"administrator": Redirect("/admin/open311-cles/")}, ADMIN_DENIED),
           "anonymous": ADMIN_LOGIN, "citizen": ADMIN_LOGIN, "other_citizen": ADMIN_LOGIN},
          key_state, changes=("administrator",)),
    Write("admin/snippets/requetes/responsetemplate/delete/<int:pk>/", "post",
          "/admin/snippets/requetes/responsetemplate/delete/{template_x}/",
          {**only({"agent_a": Redirect("/admin/snippets/requetes/responsetemplate/"),
                   "administrator": Redirect("/admin/snippets/requetes/responsetemplate/")},
                  ADMIN_DENIED),
           "anonymous": ADMIN_LOGIN, "citizen": ADMIN_LOGIN, "other_citizen": ADMIN_LOGIN},
          template_state, changes=("agent_a", "administrator"),
          why="department X's template: its agents and administrators only"),
    # alertes, staff screens: only officers (and administrators) send; the alert under
    # review is published by an approver other than its submitter.
    Write("admin/alertes/<int:pk>/action/", "post", "/admin/alertes/{alert_draft}/action/",
          {**only(dict.fromkeys(STAFF_ROLES, Redirect("/admin/alertes/{alert_draft}/rapport/")),
                  ADMIN_LOGIN)},
          alert_state("alert_draft"), changes=("officer", "administrator"),
          data={"action": "send"},
          why="send an emergency now: the services refuse others (a message on the report)"),
    Write("admin/snippets/alertes/alert/edit/<int:pk>/", "post",
          "/admin/snippets/alertes/alert/edit/{alert_draft}/",
          {**only(dict.fromkeys(STAFF_ROLES, ADMIN_DENIED), ADMIN_LOGIN),
           "officer": Redirect("/admin/snippets/alertes/alert/edit/{alert_draft}/"),
           "approver": Redirect("/admin/snippets/alertes/alert/edit/{alert_draft}/"),
           "administrator": Redirect("/admin/snippets/alertes/alert/edit/{alert_draft}/")},
          alert_state("alert_draft"), changes=("officer", "approver", "administrator"),
          data={"severity": "emergency", "title_fr": "Piraté", "body_fr": "x", "sms_fr": "",
                "title_en": "", "body_en": "", "sms_en": "", "push_fr": "", "push_en": "",
                "voice_fr": "", "voice_en": "", "channels": ["email"]}),
    # alertes API: request.user's own subscription only.
    Write("api/v1/alert-subscription/phones/(?P<address_id>[0-9]+)/", "delete",
          "/api/v1/alert-subscription/phones/{address_b}/",
          {**signed_in(404, anonymous=401), "other_citizen": 204}, address_state,
          changes=("other_citizen",), why="resident B's phone: only B removes it"),
    # hub: account deletion needs the confirmation; it only ever deletes request.user.
    Write("fr/compte/supprimer/", "post", "/fr/compte/supprimer/", signed_in(400),
          users_state, data={"confirm": ""},
          why="without the confirmation nothing is deleted"),
]


# --- the generated cases --------------------------------------------------------------

@dataclass
class Case:
    route: str
    role: str
    path: str | None
    expected: object
    declared_by: str
    write: Write | None = None


def english(path: str) -> str:
    return "/en/" + path.removeprefix("/fr/")


def english_answer(answer):
    """What a French answer is for the same page in English (the sign-in page and the
    project's own redirects follow the language of the path)."""
    if isinstance(answer, AnyOf):
        return AnyOf(tuple(english_answer(a) for a in answer.answers))
    if isinstance(answer, Redirect) and answer.path.startswith("/fr/"):
        return Redirect(english(answer.path))
    return answer


def build_cases(routes: list[str] | None = None) -> list[Case]:
    cases = []
    seen = set()
    for route in routes if routes is not None else [r for r, _ in all_routes()]:
        if route in seen:
            continue
        seen.add(route)
        if route in EXACT:
            exact = EXACT[route]
            for role in ROLES:
                cases.append(Case(route, role, exact.sample, exact.expected[role], "exact"))
            if exact.sample.startswith("/fr/"):  # the same view in English
                for role in ROLES:
                    cases.append(Case(route, role, english(exact.sample),
                                      english_answer(exact.expected[role]), "exact-en"))
            continue
        group = group_for(route)
        if group is None:
            cases.append(Case(route, "-", None, None, "UNDECLARED"))
            continue
        if is_parameterless(route):
            path = route_to_path(route)
        elif route in group.samples:
            path = group.samples[route]
        else:
            continue  # parameterised: covered by the group's declaration, not probed
        for role in ROLES:
            cases.append(Case(route, role, path, group.expected(route, role), group.name))
    if routes is None:
        for write in WRITES:
            for role in ROLES:
                cases.append(Case(write.route, role, write.sample, write.expected[role],
                                  f"write-{write.method}", write))
    return cases


CASES = build_cases()


def describe(answer) -> str:
    if isinstance(answer, AnyOf):
        return " or ".join(describe(a) for a in answer.answers)
    if isinstance(answer, Redirect):
        return f"redirect to {answer.path}"
    return repr(answer)


def case_id(case: Case) -> str:
    if case.write is not None:
        return f"{case.route} | {case.write.method.upper()} {case.write.sample} | {case.role}"
    if case.declared_by == "exact-en":
        return f"{case.route} | en | {case.role}"
    return f"{case.route} | {case.role}"


def _login_path(path: str) -> str:
    with translation.override("en" if path.startswith("/en/") else "fr"):
        return reverse("account_login")


def matches(answer, response, path: str = "/fr/", context: dict | None = None) -> bool:
    location = response.headers.get("Location", "")
    target = urlsplit(location)
    redirected = response.status_code in (301, 302, 303, 307, 308)
    if isinstance(answer, AnyOf):
        return any(matches(a, response, path, context) for a in answer.answers)
    if isinstance(answer, int):
        return response.status_code == answer
    if answer is LOGIN:  # the sign-in page in the language of the page asked for
        return redirected and target.path == _login_path(path) and "next=" in target.query
    if answer is ADMIN_LOGIN:
        from django.conf import settings

        return (redirected and target.path == settings.WAGTAILADMIN_LOGIN_URL
                and "next=" in target.query)
    if answer is LOCAL_REDIRECT:
        return (redirected and not target.netloc and location.startswith("/")
                and not location.startswith("//") and target.path != _login_path(path))
    if isinstance(answer, Redirect):  # same host: relative, or absolute to the test host
        return (redirected and target.netloc in ("", "testserver")
                and target.path == answer.path.format(**(context or {})))
    raise AssertionError(f"unknown answer {answer!r}")


def _request(client, case, path, context):
    write = case.write
    if write is None:
        return client.get(path)
    method = getattr(client, write.method)
    data = write.payload(context)
    if write.json:
        import json

        return method(path, json.dumps(data), content_type="application/json")
    if write.method == "post":
        return method(path, data)
    from urllib.parse import urlencode

    return method(path, urlencode(data, doseq=True),
                  content_type="application/x-www-form-urlencoded")


@pytest.mark.django_db
@pytest.mark.parametrize("case", CASES, ids=case_id)
def test_permission_matrix(case, world):
    if case.declared_by == "UNDECLARED":
        pytest.fail(
            f"URL pattern {case.route!r} has no declared expectation: declare its expected "
            "answers in tests/test_permission_matrix.py (an EXACT entry with a sample path "
            "and one answer per role, or a GROUPS rule for a third-party URL group).",
            pytrace=False,
        )
    context = world["context"]
    client = client_for(world, case.role)
    client.raise_request_exception = False
    path = case.path.format(**context)
    write = case.write
    before = write.state(context) if write else None
    response = _request(client, case, path, context)
    method = write.method.upper() if write else "GET"
    assert matches(case.expected, response, path, context), (
        f"{case.role} {method} {path} ({case.declared_by}): expected "
        f"{describe(case.expected)}, got {response.status_code} "
        f"{response.headers.get('Location', '')}"
    )
    if write is not None:
        after = write.state(context)
        if case.role in write.changes:
            assert after != before, (
                f"{case.role} {method} {path}: the write should have taken effect "
                f"(state still {before!r})")
        else:
            assert after == before, (
                f"{case.role} {method} {path} changed what it may not: {before!r} -> "
                f"{after!r}")


def test_every_declaration_still_matches_a_pattern():
    """A stale EXACT entry (its view was removed or moved) must go too."""
    routes = {route for route, _ in all_routes()}
    stale = sorted(set(EXACT) - routes)
    assert not stale, f"EXACT entries without a URL pattern: {stale}"


def test_every_role_is_declared_for_every_exact_entry():
    for route, exact in EXACT.items():
        assert set(exact.expected) == set(ROLES), route


def test_matrix_covers_project_and_throwaway_patterns():
    routes = {case.route for case in CASES}
    for route in ("fr/jetable/", "api/v1/throwaway-ping/", "fr/mon-espace/", "api/v1/me/"):
        assert route in routes
    assert any(case.declared_by == "wagtail-admin" for case in CASES)


# The throwaway test module's role (tests/throwaway): no view of its own to probe.
TEST_ONLY_ROLES = {"Testeurs du module jetable"}


@pytest.mark.django_db
def test_every_staff_role_is_probed(world):
    """A module adding a staff role (``hub_staff_roles``) needs a matrix user in it."""
    probed = {group.name for user in world["users"].values() if user is not None
              for group in user.groups.all()}
    declared = {role.name for role in roles.staff_roles()} - TEST_ONLY_ROLES
    assert declared <= probed, f"roles without a matrix user: {sorted(declared - probed)}"


def test_every_write_probe_names_a_route_and_every_role():
    routes = {route for route, _ in all_routes()}
    for write in WRITES:
        assert write.route in routes, write.route
        assert set(write.expected) == set(ROLES), write.route
        assert write.method in ("post", "put", "patch", "delete"), write.method
        assert set(write.changes) <= set(ROLES), write.route


def test_project_routes_never_get_a_blanket_answer():
    """``AnyOf`` and ``LOCAL_REDIRECT`` are for Wagtail's and allauth's own views."""
    for route, exact in EXACT.items():
        for role, answer in exact.expected.items():
            assert not isinstance(answer, AnyOf) and answer is not LOCAL_REDIRECT, (
                route, role)
    project_admin = [r for r, p in all_routes() if r.startswith("admin/") and (
        p.callback.__module__.startswith(("modules.", "hub."))) and r != "admin/login/"]
    assert project_admin
    assert not [r for r in project_admin if r not in EXACT], [
        r for r in project_admin if r not in EXACT]


def test_an_undeclared_pattern_fails_the_matrix():
    """What a new view without a declaration produces: one failing case naming it."""
    cases = build_cases(["fr/mon-espace/", "fr/nouvelle-vue/<int:pk>/", "admin/", "api/v9/x/"])
    undeclared = [c.route for c in cases if c.declared_by == "UNDECLARED"]
    assert undeclared == ["fr/nouvelle-vue/<int:pk>/", "api/v9/x/"]
