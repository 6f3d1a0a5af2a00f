"""CSRF on every state-changing web route (issue 12, item 13), generated from the URL
configuration like the permission matrix (tests/test_permission_matrix.py).

Every project route (the matrix's ``EXACT`` entries) is sent a POST with a valid CSRF
token by an administrator: a route that does not answer 405 accepts POST and must be
listed here, either in ``PROTECTED`` (a signed-in session's write: without the token it
is a 403 and nothing changes; with it, it is accepted and does what it does) or in
``EXEMPT`` with the reason (machine endpoints authenticated otherwise).  A new
POST-accepting route that is in neither list fails ``test_every_post_route_is_listed``.

Clients use ``Client(enforce_csrf_checks=True)``: Django's test client otherwise skips
the check.  Session-authenticated API writes are checked by DRF's SessionAuthentication
(its own CSRF check, "CSRF Failed" in a 403); web forms by Django's middleware (logged
on ``django.security.csrf``).
"""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass

import pytest
from django.conf import settings
from django.middleware.csrf import _get_new_csrf_string
from django.test import Client

from tests.test_permission_matrix import (
    EXACT,
    INSIDE,
    LOCAL_REDIRECT,
    ROLES,
    WRITES,
    Redirect,
    Write,
    address_state,
    all_routes,
    describe,
    key_state,
    matches,
    request_count,
    request_state,
    users_state,
)
from tests.test_permission_matrix import world as _world_fixture

world = _world_fixture  # the matrix's users and objects, built once for this module


def subscriber_state(context):
    from modules.alertes.models import Subscriber

    return list(Subscriber.objects.filter(user__email="citoyenne@example.com").values_list(
        "language", "quiet_start"))


def favourites_state(context):
    from modules.liens_services.models import Favourite

    return sorted(Favourite.objects.values_list("user_id", "link_id"))


def profile_state(context):
    from hub.models import User

    return list(User.objects.filter(email="citoyenne@example.com").values_list(
        "first_name", "last_name"))


def push_state(context):
    from modules.alertes.models.subscribers import Address

    return Address.objects.filter(channel="push").count()


def alerts_count(context):
    from modules.alertes.models import Alert

    return Alert.objects.count()


def nothing(context):
    return None


def matrix_write(route: str, sample: str | None = None) -> Write:
    for write in WRITES:
        if write.route == route and (sample is None or write.sample == sample):
            return write
    raise LookupError(route)


@dataclass
class Probe:
    role: str
    write: Write


def probe(role, route, method, sample, expected, state, *, changes=True, data=None,
          json=False, why=""):
    return Probe(role, Write(route, method, sample, {role: expected}, state,
                             changes=(role,) if changes else (), data=data or {},
                             json=json, why=why))


ALERT_FORM = {"severity": "emergency", "title_fr": "Avis", "body_fr": "x", "sms_fr": "",
              "title_en": "", "body_en": "", "sms_en": "", "push_fr": "", "push_en": "",
              "voice_fr": "", "voice_en": "", "channels": ["email"]}

# route -> who writes, what, and what it changes.  Listed in the order of issue 12, item 13.
PROTECTED: dict[str, Probe] = {
    # the report wizard
    "fr/requetes/nouvelle/<slug:code>/": probe(
        "citizen", "fr/requetes/nouvelle/<slug:code>/", "post",
        "/fr/requetes/nouvelle/eclairage/", LOCAL_REDIRECT, request_count,
        data=lambda context: {"description": "Lampadaire éteint.",
                              "latitude": str(INSIDE[0]), "longitude": str(INSIDE[1]),
                              "submission_key": str(uuid.uuid4())}),
    # comment, reopen, follow, satisfaction
    "fr/requetes/<str:reference>/commenter/": Probe(
        "citizen", matrix_write("fr/requetes/<str:reference>/commenter/")),
    "fr/requetes/<str:reference>/rouvrir/": probe(
        "citizen", "fr/requetes/<str:reference>/rouvrir/", "post",
        "/fr/requetes/{req_c}/rouvrir/", Redirect("/fr/requetes/{req_c}/"),
        request_state("req_c"), data={"message": "Toujours brisé."}),
    "fr/requetes/<str:reference>/moi-aussi/": Probe(
        "citizen", matrix_write("fr/requetes/<str:reference>/moi-aussi/")),
    "fr/requetes/<str:reference>/satisfaction/": probe(
        "citizen", "fr/requetes/<str:reference>/satisfaction/", "post",
        "/fr/requetes/{req_c}/satisfaction/", Redirect("/fr/requetes/{req_c}/"),
        request_state("req_c"), data={"satisfaction": "4"}),
    # the alert subscription page and the browser's push subscription
    "fr/alertes/abonnement/": probe(
        "citizen", "fr/alertes/abonnement/", "post", "/fr/alertes/abonnement/",
        LOCAL_REDIRECT, subscriber_state,
        data={"action": "preferences", "language": "en", "quiet_start": "22:00",
              "quiet_end": "07:00"}),
    "fr/alertes/abonnement/notifications/": probe(
        "citizen", "fr/alertes/abonnement/notifications/", "post",
        "/fr/alertes/abonnement/notifications/", 400, push_state, changes=False,
        data={"endpoint": "http://127.0.0.1:9/pas-un-service"}, json=True,
        why="accepted by the view, which refuses an endpoint that is not a push service"),
    # account: profile and deletion
    "fr/compte/profil/": probe(
        "citizen", "fr/compte/profil/", "post", "/fr/compte/profil/", LOCAL_REDIRECT,
        profile_state, data={"first_name": "Anne", "last_name": "Tremblay",
                             "preferred_language": "fr", "phone": "",
                             "civic_address": "", "postal_code": ""}),
    "fr/compte/supprimer/": probe(
        "other_citizen", "fr/compte/supprimer/", "post", "/fr/compte/supprimer/",
        Redirect("/"), users_state,
        data={"password": "motdepasse-solide-42", "confirm": "on"}),
    # online services: favourites
    "fr/services-en-ligne/favoris/<int:link_id>/ajouter/": probe(
        "citizen", "fr/services-en-ligne/favoris/<int:link_id>/ajouter/", "post",
        "/fr/services-en-ligne/favoris/{link}/ajouter/", LOCAL_REDIRECT, favourites_state),
    "fr/services-en-ligne/favoris/<int:link_id>/retirer/": probe(
        "citizen", "fr/services-en-ligne/favoris/<int:link_id>/retirer/", "post",
        "/fr/services-en-ligne/favoris/{link}/retirer/", LOCAL_REDIRECT, favourites_state,
        changes=False, why="not a favourite yet: nothing to remove, the page says so"),
    # admin: send, the queue, a request, intake, API keys, templates, alerts, residents
    "admin/alertes/<int:pk>/action/": Probe(
        "officer", matrix_write("admin/alertes/<int:pk>/action/")),
    "admin/requetes/<int:pk>/": Probe(
        "agent_a", matrix_write("admin/requetes/<int:pk>/", "/admin/requetes/{req_x_pk}/")),
    "admin/requetes/": probe(
        "agent_a", "admin/requetes/", "post", "/admin/requetes/", LOCAL_REDIRECT,
        request_state("req_x"),
        data=lambda context: {"ids": [str(context["req_x_pk"])], "bulk_action": "transition",
                              "to_status": "acknowledged"}),
    "admin/requetes/saisie/<slug:code>/": Probe(
        "intake", matrix_write("admin/requetes/saisie/<slug:code>/")),
    "admin/open311-cles/nouvelle/": probe(
        "administrator", "admin/open311-cles/nouvelle/", "post",
        "/admin/open311-cles/nouvelle/", 200, key_state, data={"name": "Partenaire 2"},
        why="the new key is shown once, on the answer page"),
    "admin/open311-cles/<int:pk>/revoquer/": Probe(
        "administrator", matrix_write("admin/open311-cles/<int:pk>/revoquer/")),
    "admin/snippets/requetes/responsetemplate/delete/<int:pk>/": Probe(
        "agent_a", matrix_write("admin/snippets/requetes/responsetemplate/delete/<int:pk>/")),
    "admin/snippets/requetes/responsetemplate/edit/<int:pk>/": probe(
        "agent_a", "admin/snippets/requetes/responsetemplate/edit/<int:pk>/", "post",
        "/admin/snippets/requetes/responsetemplate/edit/{template_x}/", LOCAL_REDIRECT,
        lambda context: matrix_write(
            "admin/snippets/requetes/responsetemplate/delete/<int:pk>/").state(context),
        data=lambda context: {"title": "Modèle X modifié", "department": context["dept_x"],
                              "body_fr": "Bonjour.", "body_en": "", "active": "on",
                              "order": "100"}),
    "admin/snippets/alertes/alert/edit/<int:pk>/": Probe(
        "officer", matrix_write("admin/snippets/alertes/alert/edit/<int:pk>/")),
    "admin/snippets/alertes/alert/add/": probe(
        "officer", "admin/snippets/alertes/alert/add/", "post",
        "/admin/snippets/alertes/alert/add/", LOCAL_REDIRECT, alerts_count, data=ALERT_FORM),
    "admin/snippets/alertes/alert/copy/<int:pk>/": probe(
        "officer", "admin/snippets/alertes/alert/copy/<int:pk>/", "post",
        "/admin/snippets/alertes/alert/copy/{alert_draft}/", LOCAL_REDIRECT, alerts_count,
        data=ALERT_FORM),
    "admin/alertes/abonnes/inscrire/": probe(
        "officer", "admin/alertes/abonnes/inscrire/", "post",
        "/admin/alertes/abonnes/inscrire/", 200, nothing, changes=False, data={},
        why="an empty form: the page again with its errors"),
    "admin/alertes/abonnes/importer/": probe(
        "officer", "admin/alertes/abonnes/importer/", "post",
        "/admin/alertes/abonnes/importer/", 200, nothing, changes=False, data={},
        why="no file: the page again with its errors"),
    # session-authenticated API writes
    "api/v1/requests/": Probe("citizen", matrix_write("api/v1/requests/")),
    "api/v1/requests/(?P<reference>[^/.]+)/comment/": Probe(
        "citizen", matrix_write("api/v1/requests/(?P<reference>[^/.]+)/comment/")),
    "api/v1/requests/(?P<reference>[^/.]+)/follow/": Probe(
        "citizen", matrix_write("api/v1/requests/(?P<reference>[^/.]+)/follow/")),
    "api/v1/me/": probe(
        "citizen", "api/v1/me/", "patch", "/api/v1/me/", 200, profile_state,
        data={"first_name": "Anne"}, json=True),
    "api/v1/alert-subscription/preferences/": probe(
        "citizen", "api/v1/alert-subscription/preferences/", "patch",
        "/api/v1/alert-subscription/preferences/", 200, subscriber_state,
        data={"language": "en", "quiet_hours": ["22:00", "07:00"]}, json=True),
    "api/v1/alert-subscription/phones/(?P<address_id>[0-9]+)/": Probe(
        "other_citizen",
        matrix_write("api/v1/alert-subscription/phones/(?P<address_id>[0-9]+)/")),
    "api/v1/alert-subscription/phones/": probe(
        "citizen", "api/v1/alert-subscription/phones/", "post",
        "/api/v1/alert-subscription/phones/", 400, nothing, changes=False,
        data={"number": "pas un numéro"}, json=True, why="a bad number: a 400 naming it"),
    "api/v1/alert-subscription/phones/(?P<address_id>[0-9]+)/verify/": probe(
        "other_citizen", "api/v1/alert-subscription/phones/(?P<address_id>[0-9]+)/verify/",
        "post", "/api/v1/alert-subscription/phones/{address_b}/verify/", 400, address_state,
        changes=False, data={"code": "000000"}, json=True, why="a wrong code"),
    "api/v1/alert-subscription/devices/": probe(
        "citizen", "api/v1/alert-subscription/devices/", "post",
        "/api/v1/alert-subscription/devices/", 400, push_state, changes=False,
        data={"endpoint": "http://127.0.0.1:9/x"}, json=True),
    "api/v1/alert-subscription/devices/(?P<address_id>[0-9]+)/": probe(
        "citizen", "api/v1/alert-subscription/devices/(?P<address_id>[0-9]+)/", "delete",
        "/api/v1/alert-subscription/devices/{address_b}/", 404, address_state,
        changes=False, why="another resident's address id"),
    "api/v1/alert-subscription/addresses/": probe(
        "citizen", "api/v1/alert-subscription/addresses/", "post",
        "/api/v1/alert-subscription/addresses/", 400, nothing, changes=False,
        data={"channel": "email", "value": "pas un courriel"}, json=True),
    "api/v1/alert-subscription/addresses/(?P<address_id>[0-9]+)/": probe(
        "citizen", "api/v1/alert-subscription/addresses/(?P<address_id>[0-9]+)/", "delete",
        "/api/v1/alert-subscription/addresses/{address_b}/", 404, address_state,
        changes=False, why="another resident's address id"),
    "fr/compte/services-autorises/": probe(
        "citizen", "fr/compte/services-autorises/", "post", "/fr/compte/services-autorises/",
        LOCAL_REDIRECT, nothing, changes=False, data={"application": "999999"},
        why="revokes request.user's grants to one application (none here)"),
    "fr/alertes/abonnement/courriel/<str:token>/": probe(
        "citizen", "fr/alertes/abonnement/courriel/<str:token>/", "post",
        "/fr/alertes/abonnement/courriel/jeton-invalide/", 400, nothing, changes=False,
        why="the email verification's confirmation: a bad token is a 400"),
    # the OpenID provider's forms a signed-in resident submits
    "o/authorize/": probe(
        "citizen", "o/authorize/", "post", "/o/authorize/", 200, nothing, changes=False,
        why="the consent form without an OAuth request: the page again, no grant"),
    "o/logout/": probe(
        "citizen", "o/logout/", "post", "/o/logout/", 400, nothing,
        changes=False, why="RP-initiated logout's confirmation without its parameters"),
    # Django's language switch
    "i18n/setlang/": probe(
        "citizen", "i18n/setlang/", "post", "/i18n/setlang/", Redirect("/en/"), nothing,
        changes=False, data={"language": "en", "next": "/fr/"}),
}

# Views that read the request the same way whatever the method (no method decorator):
# a POST is answered like a GET and changes nothing; Django's CSRF middleware still
# refuses a POST without the token.  A view that starts writing belongs in PROTECTED.
ANSWERS_POST_LIKE_GET: dict[str, str] = dict.fromkeys((
    "admin/open311-cles/", "admin/requetes/carte/", "admin/requetes/saisie/",
    "admin/requetes/tableau-de-bord/", "admin/requetes/tableau-de-bord/export.csv",
    "fr/actualites/flux.atom", "fr/actualites/flux.rss", "fr/alertes/flux.atom",
    "fr/jetable/", "fr/requetes/donnees-ouvertes.csv", "fr/requetes/donnees-ouvertes.geojson",
    "open311/jetable/", "(?:api|open311)/", "open311/v2/(?P<rest>.*)",
    "admin/confidentialite/incidents/<int:pk>/avis/<str:language>/",
), "read-only page or file: POST is answered like GET")

# POST-accepting routes without a session's CSRF check, and why.
EXEMPT: dict[str, str] = {
    "o/token/": "OAuth 2.0 back channel: the client authenticates itself, no session",
    "o/revoke_token/": "OAuth 2.0 back channel (RFC 7009), client-authenticated",
    "o/introspect/": "OAuth 2.0 back channel (RFC 7662), client-authenticated",
    "o/userinfo/": "bearer token only, never a session",
    "fr/alertes/twilio/entrant/": "Twilio webhook: the X-Twilio-Signature is checked",
    "fr/alertes/twilio/statut/": "Twilio webhook: the X-Twilio-Signature is checked",
    "fr/alertes/twilio/appel/<int:pk>/": "Twilio webhook: the signature is checked",
    "fr/alertes/twilio/appel/<int:pk>/touche/": "Twilio webhook: the signature is checked",
    "fr/alertes/twilio/appel/statut/": "Twilio webhook: the signature is checked",
    "fr/alertes/abonnement/notifications/changement/": (
        "the service worker's renewed push subscription: authorised by the previous "
        "subscription's auth secret, no session"),
    "open311/v2/requests.<o311fmt:fmt>": "Open311: an api_key, never a session",
    "open311/v2/servicerequestupdates.<o311fmt:fmt>": "Open311: an api_key, never a session",
    "fr/alertes/desabonnement/<str:token>/": (
        "RFC 8058 one-click unsubscribe: the mail client POSTs without a session; the "
        "signed token is the authority"),
}


def token_client(world, role, *, token: bool) -> Client:
    client = Client(enforce_csrf_checks=True)
    client.raise_request_exception = False
    user = world["users"][role]
    if user is not None:
        client.force_login(user)
    if token:
        secret = _get_new_csrf_string()
        client.cookies[settings.CSRF_COOKIE_NAME] = secret
        client.defaults["HTTP_X_CSRFTOKEN"] = secret
    return client


def send(client, write: Write, context: dict):
    from tests.test_permission_matrix import _request

    class _Case:
        pass

    case = _Case()
    case.write = write
    return _request(client, case, write.sample.format(**context), context)


class _Recorder(logging.Handler):
    def __init__(self):
        super().__init__()
        self.records = []

    def emit(self, record):
        self.records.append(record)


def refused_for_csrf(response, records) -> bool:
    if response.status_code != 403:
        return False
    if response.headers.get("Content-Type", "").startswith("application/json"):
        return str(response.json().get("detail", "")).startswith("CSRF Failed")
    return any(record.name == "django.security.csrf" for record in records)


@pytest.mark.django_db
@pytest.mark.parametrize("route", sorted(PROTECTED))
def test_csrf_protects_the_write(route, world):
    context = world["context"]
    item = PROTECTED[route]
    write, role = item.write, item.role
    recorder = _Recorder()
    logger = logging.getLogger("django.security.csrf")
    logger.addHandler(recorder)
    try:
        before = write.state(context)
        refused = send(token_client(world, role, token=False), write, context)
        assert refused_for_csrf(refused, recorder.records), (
            f"{role} {write.method.upper()} {route} without a CSRF token: expected a CSRF "
            f"403, got {refused.status_code} {refused.content[:200]!r}")
        assert write.state(context) == before, f"{route}: changed without a CSRF token"
    finally:
        logger.removeHandler(recorder)

    accepted = send(token_client(world, role, token=True), write, context)
    path = write.sample.format(**context)
    assert matches(write.expected[role], accepted, path, context), (
        f"{role} {write.method.upper()} {path} with the token: expected "
        f"{describe(write.expected[role])}, got {accepted.status_code} "
        f"{accepted.headers.get('Location', '')} {accepted.content[:300]!r}")
    if role in write.changes:
        assert write.state(context) != before, f"{route}: the write did not take effect"


def _sample(route: str) -> str:
    return EXACT[route].sample


@pytest.mark.django_db
def test_every_post_route_is_listed(world):
    """Generated from the URLconf: every project route that does not answer 405 to an
    administrator's POST (with a valid token) is listed in PROTECTED or EXEMPT."""
    context = world["context"]
    patterns = dict(all_routes())
    accepting = set()
    for route in sorted(EXACT):
        callback = patterns[route].callback
        if hasattr(callback, "cls"):  # DRF: the methods the view (or viewset route) has
            methods = set(getattr(callback, "actions", None) or {
                name for name in callback.cls.http_method_names
                if hasattr(callback.cls, name)})
            if methods & {"post", "put", "patch", "delete"}:
                accepting.add(route)
            continue
        client = token_client(world, "administrator", token=True)
        if client.post(_sample(route).format(**context)).status_code != 405:
            accepting.add(route)
    listed = set(PROTECTED) | set(EXEMPT) | set(ANSWERS_POST_LIKE_GET)
    unlisted = sorted(accepting - listed)
    assert not unlisted, (
        f"routes accepting POST without a CSRF declaration: {unlisted} — list each in "
        "tests/test_csrf.py (PROTECTED with a probe, or EXEMPT with the reason)")
    stale = sorted(route for route in listed - accepting
                   if route in EXACT and not route.startswith("api/"))
    assert not stale, f"listed but answering 405 to POST: {stale}"


def test_every_listed_route_exists_and_every_exemption_is_exempt():
    patterns = dict(all_routes())
    for route in [*PROTECTED, *EXEMPT, *ANSWERS_POST_LIKE_GET]:
        assert route in patterns, f"{route}: no such URL pattern"
    for route in PROTECTED:
        callback = patterns[route].callback
        assert not getattr(callback, "csrf_exempt", False) or hasattr(callback, "cls"), (
            f"{route} is csrf_exempt but listed as protected")
    for route, probe_ in PROTECTED.items():
        assert probe_.role in ROLES and probe_.role != "anonymous", route
