"""The hub's side of the module contracts (issue 10): modules declare their OAuth scopes
and staff roles through hooks, contributions follow module order, and the test module
(tests/throwaway, discovered through a real entry point) adds a scope and a staff role
with no edit outside its folder."""

import ast
import datetime
import logging
import tomllib
from pathlib import Path

import pytest
import requests
from django.contrib.auth.models import Group, Permission
from django.test import override_settings
from django.utils import timezone
from oauth2_provider.models import get_access_token_model, get_application_model

from hub import roles
from hub.oidc.scopes import HUB_SCOPES, all_scopes
from hub.plugins import hookimpl, manager
from tests.test_oidc import _authorize, _browser_signed_in, _client, resident  # noqa: F401
from tests.throwaway import plugin as throwaway

MODULE_SCOPES = {"requetes:read", "requetes:write", "alertes:read", "alertes:write",
                 "throwaway:read"}


def _group_permissions(name):
    return {f"{p.content_type.app_label}.{p.codename}"
            for p in Group.objects.get(name=name).permissions.select_related("content_type")}


# --- OAuth scopes (hub_oauth_scopes) -----------------------------------------------------

def test_the_hub_keeps_only_the_openid_connect_scopes():
    assert set(HUB_SCOPES) == {"openid", "profile", "email", "phone", "address"}


@pytest.mark.django_db
def test_hook_hub_oauth_scopes(client):
    """The modules' scopes appear in discovery beside the hub's."""
    supported = set(client.get("/.well-known/openid-configuration").json()["scopes_supported"])
    assert supported == set(HUB_SCOPES) | MODULE_SCOPES


@pytest.mark.django_db
def test_a_disabled_modules_scopes_are_not_offered(client):
    with override_settings(HUB_DISABLED_MODULES=["alertes", "throwaway"]):
        supported = set(client.get("/.well-known/openid-configuration"
                                   ).json()["scopes_supported"])
    assert "alertes:read" not in supported and "throwaway:read" not in supported
    assert {"requetes:read", "openid"} <= supported


def test_a_module_cannot_redefine_a_hub_scope():
    class Greedy:
        @hookimpl
        def hub_oauth_scopes(self):
            return {"email": "Tout votre courrier", "greedy:read": "Lire"}

    pm = manager.get_plugin_manager()
    pm.register(Greedy(), name="greedy")
    try:
        scopes = all_scopes()
    finally:
        pm.unregister(name="greedy")
    assert scopes["email"] == HUB_SCOPES["email"] and scopes["greedy:read"] == "Lire"


@pytest.mark.django_db
def test_authorized_services_describe_module_scopes_in_the_residents_words(client, citizen):
    application = get_application_model().objects.create(
        name="Appli citoyenne", client_type="public",
        authorization_grant_type="authorization-code", redirect_uris="https://app.example/cb",
        algorithm="RS256")
    get_access_token_model().objects.create(
        user=citizen, application=application, token="scopes-token",
        scope="openid requetes:read throwaway:read",
        expires=timezone.now() + datetime.timedelta(hours=1))
    client.force_login(citizen)
    page = client.get("/fr/compte/services-autorises/").content.decode()
    assert "Consulter vos requêtes" in page  # requetes' catalog
    assert "Lire vos données du module jetable" in page
    english = client.get("/en/compte/services-autorises/").content.decode()
    assert "Read your service requests" in english


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_the_test_modules_scope_is_consented_and_usable_by_a_client(live_server, resident):  # noqa: F811
    """A relying party asks for ``throwaway:read``: the consent screen says what it
    shares, the token carries it and opens the module's scoped route; a token without
    it is refused there (the route itself is public: the scope binds the client)."""
    base = live_server.url
    application = _client(name="Client jetable")
    browser = _browser_signed_in(base)
    consent = browser.get(
        f"{base}/o/authorize/?response_type=code&client_id={application.client_id}"
        f"&redirect_uri=http://127.0.0.1:9/callback&scope=openid+throwaway:read"
        f"&code_challenge=E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"
        f"&code_challenge_method=S256")
    assert consent.status_code == 200
    assert "Lire vos données du module jetable" in consent.text

    _discovery, _rp, token, _nonce, _page = _authorize(base, browser, application,
                                                       scope="openid throwaway:read")
    assert set(token["scope"].split()) == {"openid", "throwaway:read"}
    answer = requests.get(f"{base}/api/v1/throwaway-ping/",
                          headers={"Authorization": f"Bearer {token['access_token']}"})
    assert answer.status_code == 200 and answer.json() == {"pong": True}

    other = _client(name="Autre client")
    _d, _rp, bare, _n, _p = _authorize(base, browser, other, scope="openid")
    refused = requests.get(f"{base}/api/v1/throwaway-ping/",
                           headers={"Authorization": f"Bearer {bare['access_token']}"})
    assert refused.status_code == 403


# --- Notice topics (hub_notice_topics) ---------------------------------------------------

@pytest.mark.django_db
def test_hook_hub_notice_topics():
    """requetes declares "My requests" (email until the person chooses); a disabled
    module's topics are not offered."""
    from hub.notify import NoticeTopic, notice_topics

    topics = {topic.slug: topic for topic in notice_topics()}
    assert isinstance(topics["requests"], NoticeTopic)
    assert topics["requests"].default_channels == ("email",)
    assert topics["requests"].name("en") and topics["requests"].name("fr")
    with override_settings(HUB_DISABLED_MODULES=["requetes"]):
        assert "requests" not in {topic.slug for topic in notice_topics()}


# --- Staff roles (hub_staff_roles) -------------------------------------------------------

@pytest.mark.django_db
def test_hook_hub_staff_roles():
    """The groups exist after migrate with their permissions: post_migrate ran
    sync_staff_roles when the test database was built."""
    assert "wagtailadmin.access_admin" in _group_permissions(roles.EDITORS)
    assert {"hub.change_user", "auth.change_group", "hub.change_sitesettings",
            "alertes.publish_alert"} <= _group_permissions(roles.ADMINISTRATORS)
    assert {"alertes.send_alert", "alertes.add_alert", "alertes.view_subscriber"} <= \
        _group_permissions("Agents de communication")
    assert _group_permissions(throwaway.STAFF_ROLE) == {"wagtailadmin.access_admin",
                                                        "hub.view_district"}


@pytest.mark.django_db
def test_every_declared_permission_exists():
    names = {name for role in roles.staff_roles() for name in role.permissions}
    _found, missing = roles._permissions(names)
    assert missing == []


@pytest.mark.django_db
def test_sync_creates_missing_groups_and_grants_but_never_removes():
    Group.objects.filter(name=throwaway.STAFF_ROLE).delete()
    officers = Group.objects.get(name="Agents de communication")
    send = Permission.objects.get(content_type__app_label="alertes", codename="send_alert")
    extra = Permission.objects.get(content_type__app_label="hub", codename="add_district")
    officers.permissions.remove(send)
    officers.permissions.add(extra)  # what an administrator gave them in the admin

    granted = roles.sync_staff_roles()

    assert granted[throwaway.STAFF_ROLE] == 2 and granted["Agents de communication"] == 1
    assert _group_permissions(throwaway.STAFF_ROLE) == {"wagtailadmin.access_admin",
                                                        "hub.view_district"}
    assert {"alertes.send_alert", "hub.add_district"} <= \
        _group_permissions("Agents de communication")
    assert set(roles.sync_staff_roles().values()) == {0}  # idempotent


@pytest.mark.django_db
def test_a_renamed_group_keeps_its_permissions():
    """Renaming is the administrator's call: the renamed group keeps every permission
    (code checks has_perm, never names); sync creates the declared name afresh, empty of
    members, with the same permissions."""
    group = Group.objects.get(name=throwaway.STAFF_ROLE)
    group.name = "Testeurs (renommé)"
    group.save()
    roles.sync_staff_roles()
    assert _group_permissions("Testeurs (renommé)") == _group_permissions(throwaway.STAFF_ROLE)


@pytest.mark.django_db
def test_a_disabled_modules_roles_are_not_synced():
    Group.objects.filter(name=throwaway.STAFF_ROLE).delete()
    with override_settings(HUB_DISABLED_MODULES=["throwaway"]):
        roles.sync_staff_roles()
    assert not Group.objects.filter(name=throwaway.STAFF_ROLE).exists()


@pytest.mark.django_db
def test_an_unknown_permission_is_logged_and_skipped(caplog):
    role = roles.StaffRole(name="Groupe mal écrit",
                           permissions=("hub.view_distrct", "hub.view_district"))
    with caplog.at_level(logging.WARNING, logger="hub.roles"):
        roles.sync_staff_roles([role])
    assert "hub.view_distrct" in caplog.text
    assert _group_permissions("Groupe mal écrit") == {"hub.view_district"}


@pytest.mark.django_db
def test_manage_py_hub_demo_syncs_the_roles(site):
    Group.objects.filter(name=throwaway.STAFF_ROLE).delete()
    site.load()
    assert Group.objects.filter(name=throwaway.STAFF_ROLE).exists()


# --- Module order ------------------------------------------------------------------------

class _Early:
    """A module registered after every other one, but with the lowest order."""

    @hookimpl
    def hub_module(self):
        return {"slug": "early", "name_fr": "Tôt", "name_en": "Early", "order": 1}

    @hookimpl
    def hub_home_tiles(self, request):
        return [{"title": "Tuile précoce", "description": "", "url": "/fr/", "icon": "module"}]

    @hookimpl
    def hub_dashboard_panels(self, request):
        return [{"title": "Panneau précoce", "body": ""}]

    @hookimpl
    def hub_banners(self, request):
        return [{"text": "Bannière précoce", "level": "info"}]

    @hookimpl
    def hub_search_sources(self):
        return ["early-source"]

    @hookimpl(optionalhook=True)
    def throwaway_happened(self, payload):
        throwaway.RECEIVED.append(("early", payload))


@pytest.fixture
def early():
    pm = manager.get_plugin_manager()
    pm.register(_Early(), name="early")
    yield
    pm.unregister(name="early")


def test_collect_follows_module_order_not_registration_order(early, rf, db):
    assert manager.collect("hub_search_sources")[0] == "early-source"
    assert manager.collect_sorted("hub_banners", request=rf.get("/"))[0]["text"] == \
        "Bannière précoce"
    names = [impl.plugin_name for impl in
             manager.ordered_hookimpls(manager.hooks().hub_home_tiles)]
    assert names == ["early", "requetes", "alertes", "actualites", "liens_services",
                     "throwaway"]


def test_event_listeners_are_called_in_module_order(early):
    throwaway.RECEIVED.clear()
    manager.call_listeners("throwaway_happened", payload={"n": 1})
    assert throwaway.RECEIVED == [("early", {"n": 1}), {"n": 1}]
    throwaway.RECEIVED.clear()


def test_tiles_and_panels_follow_module_order(early, client, site, citizen):
    home = client.get("/fr/").content.decode()
    assert home.index("Tuile précoce") < home.index("Signaler un problème") < \
        home.index("Tuile jetable")
    assert home.index("Bannière précoce") < home.index("Bannière jetable")
    client.force_login(citizen)
    espace = client.get("/fr/mon-espace/").content.decode()
    assert espace.index("Panneau précoce") < espace.index("Panneau jetable")


def test_an_items_own_order_still_wins(early, rf, db):
    """A tile's ``order`` puts it among the modules' (the throwaway's 99 stays last even
    though an order-1 module is registered)."""
    tiles = manager.collect_sorted("hub_home_tiles", request=rf.get("/"))
    assert tiles[0]["title"] == "Tuile précoce" and tiles[-1]["title"] == "Tuile jetable"


# --- What a module may import from the hub ----------------------------------------------

ROOT = Path(__file__).resolve().parent.parent
PUBLIC_SURFACE = {"hub.models", "hub.plugins", "hub.notify", "hub.roles", "hub.addresses",
                  "hub.geo", "hub.i18n", "hub.text", "hub.cache", "hub.search", "hub.scheduler",
                  "hub.blocks", "hub.rich_text", "hub.api.permissions",
                  "hub.personal_data", "hub.access_log", "hub.request_limits", "hub.prepared"}


def _public(name: str) -> bool:
    return any(name == public or name.startswith(public + ".") for public in PUBLIC_SURFACE)


def _hub_imports(path: Path):
    tree = ast.parse(path.read_text(encoding="utf-8"))
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            if node.module == "hub":
                yield from (f"hub.{alias.name}" for alias in node.names)
            elif node.module.startswith("hub."):
                yield node.module
        elif isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names if alias.name.startswith("hub."))


def test_modules_import_only_the_hubs_public_surface():
    """The import-linter contract forbids the internals by name; this checks the other
    way round: every hub import of a module (and of the third-party-style test module)
    is in the documented public surface."""
    offenders = []
    for folder in (ROOT / "modules", ROOT / "tests" / "throwaway"):
        for path in folder.rglob("*.py"):
            offenders += [f"{path.relative_to(ROOT)}: {name}" for name in _hub_imports(path)
                          if not _public(name)]
    assert offenders == []


def test_every_hub_module_is_public_or_forbidden_and_the_surface_is_documented():
    """A new file in hub/ must be put on one side: in the public surface (and in
    docs/modules.md) or in the contract's forbidden list (pyproject.toml)."""
    config = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    contract = next(c for c in config["tool"]["importlinter"]["contracts"]
                    if c.get("source_modules") == ["modules"])
    forbidden = set(contract["forbidden_modules"])
    hub = ROOT / "hub"
    names = {f"hub.{p.stem}" for p in hub.glob("*.py") if p.stem != "__init__"}
    names |= {f"hub.{p.name}" for p in hub.iterdir() if (p / "__init__.py").exists()}
    names |= {f"hub.api.{p.stem}" for p in (hub / "api").glob("*.py") if p.stem != "__init__"}
    names.discard("hub.api")
    unclassified = sorted(n for n in names if not _public(n) and n not in forbidden)
    assert unclassified == []
    assert not {n for n in forbidden if _public(n)}
    docs = (ROOT / "docs" / "modules.md").read_text(encoding="utf-8")
    section = docs[docs.index("## What a module may import from the hub"):]
    assert [name for name in sorted(PUBLIC_SURFACE) if f"`{name}`" not in section] == []
