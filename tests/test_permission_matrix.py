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
``?next=``; ``Redirect("/path")`` — a redirect to exactly that path;
``AnyOf(...)`` — any of several answers.
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

ROLES = ("anonymous", "citizen", "other_citizen", "agent_a", "agent_b", "editor",
         "administrator")


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
    return {"anonymous": anonymous, "citizen": citizens, "other_citizen": citizens,
            "agent_a": answer, "agent_b": answer, "editor": answer,
            "administrator": answer}


# --- exact entries: project-owned patterns -------------------------------------------

@dataclass
class Exact:
    sample: str  # a concrete path; ``{name}`` placeholders are filled from the fixture
    expected: dict
    why: str = ""
    method: str = "get"


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
    "api/v1/me/": Exact("/api/v1/me/", signed_in(200, anonymous=403),
                        "session auth answers 403 (not 401) to anonymous requests"),
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
    "fr/requetes/photo/<int:pk>/": Exact("/fr/requetes/photo/999999/", signed_in(404)),
    "fr/requetes/photo/<int:pk>/miniature/": Exact("/fr/requetes/photo/999999/miniature/",
                                                   signed_in(404)),
    "fr/requetes/<str:reference>/": Exact("/fr/requetes/2020-999999/", signed_in(404)),
    "fr/requetes/<str:reference>/confirmation/": Exact(
        "/fr/requetes/2020-999999/confirmation/", signed_in(404)),
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
        "/admin/requetes/tableau-de-bord/",
        {**staff(200, citizens=LOGIN), "editor": 403}, "management figures"),
    "admin/requetes/tableau-de-bord/export.csv": Exact(
        "/admin/requetes/tableau-de-bord/export.csv",
        {**staff(200, citizens=LOGIN), "editor": 403}, "the same figures as CSV"),
    # requetes app API: categories are public; requests need a session (403 for
    # anonymous, as DRF's session auth answers); another citizen's request is 404.
    "api/v1/request-categories/": Exact("/api/v1/request-categories/", every(200)),
    "api/v1/request-categories/(?P<service_code>[^/.]+)/": Exact(
        "/api/v1/request-categories/eclairage/", every(200), "a demo category"),
    "api/v1/requests/": Exact("/api/v1/requests/", signed_in(200, anonymous=403)),
    "api/v1/requests/nearby/": Exact("/api/v1/requests/nearby/",
                                     signed_in(400, anonymous=403),
                                     "category, lat and long are required"),
    "api/v1/requests/(?P<reference>[^/.]+)/": Exact(
        "/api/v1/requests/2020-999999/", signed_in(404, anonymous=403)),
    "api/v1/requests/(?P<reference>[^/.]+)/comment/": Exact(
        "/api/v1/requests/2020-999999/comment/", signed_in(405, anonymous=403), "POST only"),
    "api/v1/requests/(?P<reference>[^/.]+)/follow/": Exact(
        "/api/v1/requests/2020-999999/follow/", signed_in(405, anonymous=403),
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
                                        signed_in(200, anonymous=403)),
    # alertes API writes: request.user's own subscription only (another person's address
    # id is a 404); GET is not one of their methods
    "api/v1/alert-subscription/preferences/": Exact(
        "/api/v1/alert-subscription/preferences/", signed_in(405, anonymous=403),
        "PATCH only"),
    "api/v1/alert-subscription/phones/": Exact(
        "/api/v1/alert-subscription/phones/", signed_in(405, anonymous=403), "POST only"),
    "api/v1/alert-subscription/phones/(?P<address_id>[0-9]+)/verify/": Exact(
        "/api/v1/alert-subscription/phones/999999/verify/", signed_in(405, anonymous=403),
        "POST only"),
    "api/v1/alert-subscription/phones/(?P<address_id>[0-9]+)/": Exact(
        "/api/v1/alert-subscription/phones/999999/", signed_in(405, anonymous=403),
        "DELETE only"),
    "api/v1/alert-subscription/devices/": Exact(
        "/api/v1/alert-subscription/devices/", signed_in(405, anonymous=403), "POST only"),
    "api/v1/alert-subscription/devices/(?P<address_id>[0-9]+)/": Exact(
        "/api/v1/alert-subscription/devices/999999/", signed_in(405, anonymous=403),
        "DELETE only"),
    "api/v1/alert-subscription/addresses/": Exact(
        "/api/v1/alert-subscription/addresses/", signed_in(405, anonymous=403), "POST only"),
    "api/v1/alert-subscription/addresses/(?P<address_id>[0-9]+)/": Exact(
        "/api/v1/alert-subscription/addresses/999999/", signed_in(405, anonymous=403),
        "DELETE only"),
    "fr/alertes/archives/": Exact("/fr/alertes/archives/", every(200)),
    "fr/alertes/<int:pk>/": Exact("/fr/alertes/999999/", every(404),
                                  "published alerts are public; unknown or draft ids are 404"),
    "fr/alertes/abonnement/": Exact("/fr/alertes/abonnement/", signed_in(200),
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
    """The demo site and one user per role, created once for the whole matrix inside a
    transaction rolled back at the end (each test then runs in a savepoint)."""
    from allauth.account.models import EmailAddress

    from hub import demo
    from hub.models import Department, User

    with django_db_blocker.unblock():
        atomic = transaction.atomic()
        atomic.__enter__()
        try:
            demo.load()
            dept_a = Department.objects.get(slug="travaux-publics")
            dept_b = Department.objects.get(slug="environnement")

            def make(email, groups=(), departments=(), **extra):
                user = User.objects.create_user(email=email,
                                                password="motdepasse-solide-42", **extra)
                for name in groups:
                    user.groups.add(Group.objects.get(name=name))
                for department in departments:
                    department.agents.add(user)
                EmailAddress.objects.create(user=user, email=email, verified=True,
                                            primary=True)
                return user

            users = {
                "anonymous": None,
                "citizen": make("citoyenne@example.com"),
                "other_citizen": make("voisin@example.com"),
                "agent_a": make("agent.a@example.com", is_staff=True,
                                groups=[requetes_roles.DEPARTMENT_AGENTS], departments=[dept_a]),
                "agent_b": make("agent.b@example.com", is_staff=True,
                                groups=[requetes_roles.DEPARTMENT_AGENTS], departments=[dept_b]),
                "editor": make("redaction@example.com", is_staff=True,
                               groups=[roles.EDITORS]),
                "administrator": make("admin.test@example.com", is_staff=True,
                                      is_superuser=True, groups=[roles.ADMINISTRATORS]),
            }
            from wagtail.models import Page

            home = Page.objects.get(locale__language_code="fr", depth=2)
            context = {"home_id": home.pk}
            yield {"users": users, "context": context}
        finally:
            transaction.set_rollback(True)
            atomic.__exit__(None, None, None)
            for connection in connections.all():
                connection.close_if_unusable_or_obsolete()


def client_for(world, role) -> Client:
    client = Client()
    user = world["users"][role]
    if user is not None:
        client.force_login(user)
    return client


# --- group rules: third-party URL groups ----------------------------------------------

STAFF_ROLES = ("agent_a", "agent_b", "editor", "administrator")
CITIZEN_ROLES = ("citizen", "other_citizen")


class _AdminLogin:
    def __repr__(self):
        return "ADMIN_LOGIN"


ADMIN_LOGIN = _AdminLogin()  # redirect to settings.WAGTAILADMIN_LOGIN_URL with ?next=

# requetes: the Open311 API key screens are for administrators only (other staff get
# Wagtail's "permission denied" redirect); revoking is POST-only.
EXACT.update({
    "admin/open311-cles/": Exact("/admin/open311-cles/", {
        **every(ADMIN_LOGIN), "agent_a": Redirect("/admin/"), "agent_b": Redirect("/admin/"),
        "editor": Redirect("/admin/"), "administrator": 200}),
    "admin/open311-cles/nouvelle/": Exact("/admin/open311-cles/nouvelle/", {
        **every(ADMIN_LOGIN), "agent_a": Redirect("/admin/"), "agent_b": Redirect("/admin/"),
        "editor": Redirect("/admin/"), "administrator": 200}),
    "admin/open311-cles/<int:pk>/revoquer/": Exact("/admin/open311-cles/999999/revoquer/", {
        **every(ADMIN_LOGIN), "agent_a": Redirect("/admin/"), "agent_b": Redirect("/admin/"),
        "editor": Redirect("/admin/"), "administrator": 405}, "POST only"),
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


def admin_rule(route: str, role: str):
    if role == "anonymous" or role in CITIZEN_ROLES:
        if route in ADMIN_SPECIAL and route not in (
                "admin/logout/", "admin/block-preview/", "admin/failwhale/",
                "admin/snippets/", "admin/redirects/import/process/",
                "admin/workflows/tasks/select_type/") and not route.startswith("admin/api/"):
            return ADMIN_SPECIAL[route][role]
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
        "drf-spectacular", lambda r: r in ("api/schema/", "api/docs/"),
        "The OpenAPI schema and its docs describe the public API: readable by anyone.",
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


# --- the generated cases --------------------------------------------------------------

@dataclass
class Case:
    route: str
    role: str
    path: str | None
    expected: object
    declared_by: str


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
    return cases


CASES = build_cases()


def describe(answer) -> str:
    if isinstance(answer, AnyOf):
        return " or ".join(describe(a) for a in answer.answers)
    if isinstance(answer, Redirect):
        return f"redirect to {answer.path}"
    return repr(answer)


def matches(answer, response) -> bool:
    location = response.headers.get("Location", "")
    target = urlsplit(location)
    redirected = response.status_code in (301, 302, 303, 307, 308)
    if isinstance(answer, AnyOf):
        return any(matches(a, response) for a in answer.answers)
    if isinstance(answer, int):
        return response.status_code == answer
    if answer is LOGIN:
        with translation.override("fr"):
            login = reverse("account_login")
        return redirected and target.path == login and "next=" in target.query
    if answer is ADMIN_LOGIN:
        from django.conf import settings

        return (redirected and target.path == settings.WAGTAILADMIN_LOGIN_URL
                and "next=" in target.query)
    if answer is LOCAL_REDIRECT:
        with translation.override("fr"):
            login = reverse("account_login")
        return (redirected and not target.netloc and location.startswith("/")
                and not location.startswith("//") and target.path != login)
    if isinstance(answer, Redirect):  # same host: relative, or absolute to the test host
        return (redirected and target.netloc in ("", "testserver")
                and target.path == answer.path)
    raise AssertionError(f"unknown answer {answer!r}")


@pytest.mark.django_db
@pytest.mark.parametrize("case", CASES, ids=lambda c: f"{c.route} | {c.role}")
def test_permission_matrix(case, world):
    if case.declared_by == "UNDECLARED":
        pytest.fail(
            f"URL pattern {case.route!r} has no declared expectation: declare its expected "
            "answers in tests/test_permission_matrix.py (an EXACT entry with a sample path "
            "and one answer per role, or a GROUPS rule for a third-party URL group).",
            pytrace=False,
        )
    client = client_for(world, case.role)
    client.raise_request_exception = False
    path = case.path.format(**world["context"])
    response = client.get(path)
    assert matches(case.expected, response), (
        f"{case.role} GET {path} ({case.declared_by}): expected {describe(case.expected)}, "
        f"got {response.status_code} {response.headers.get('Location', '')}"
    )


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


def test_an_undeclared_pattern_fails_the_matrix():
    """What a new view without a declaration produces: one failing case naming it."""
    cases = build_cases(["fr/mon-espace/", "fr/nouvelle-vue/<int:pk>/", "admin/", "api/v9/x/"])
    undeclared = [c.route for c in cases if c.declared_by == "UNDECLARED"]
    assert undeclared == ["fr/nouvelle-vue/<int:pk>/", "api/v9/x/"]
