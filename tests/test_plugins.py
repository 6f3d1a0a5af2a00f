"""The module system: discovery, enable/disable, events, and one test per hub hook.

Every hook declared in hub/plugins/hookspecs.py must have a ``test_hook_<name>``
(tests/test_hookspecs_meta.py enforces it), the way Datasette tests its hooks: here, or
beside the hook's subject (``hub_notify`` in test_notify_fallback.py; ``hub_oauth_scopes``,
``hub_staff_roles`` and ``hub_notice_topics`` in test_module_contracts.py).
"""

import logging
import os
import subprocess
import sys

import pluggy
import pytest
from django.core.management import call_command
from django.db import transaction
from django.test import override_settings

from hub.plugins import hookimpl, manager
from tests.throwaway import plugin as throwaway

FOUR_MODULES = ["requetes", "alertes", "actualites", "liens_services"]


@pytest.fixture(autouse=True)
def _reset_throwaway_records():
    for record in (throwaway.RECEIVED, throwaway.EXPORTED_FOR, throwaway.ERASED_FOR,
                   throwaway.DEMO_RUNS):
        record.clear()


# --- Discovery --------------------------------------------------------------------------

def test_entry_points_discover_the_four_modules_and_the_throwaway_one():
    slugs = [entry.slug for entry in manager.discover()]
    for slug in [*FOUR_MODULES, "throwaway"]:
        assert slug in slugs
    entry = next(e for e in manager.discover() if e.slug == "requetes")
    assert entry.app == "modules.requetes"


def test_registered_modules_are_in_module_order():
    slugs = [meta["slug"] for meta in manager.registered_modules()]
    assert slugs == [*FOUR_MODULES, "throwaway"]


def test_manage_py_hub_modules_lists_modules_and_hooks(capsys):
    call_command("hub", "modules")
    out = capsys.readouterr().out
    for slug in FOUR_MODULES:
        assert slug in out
    assert "Requêtes / Service requests  [enabled]" in out
    assert "hub_home_tiles" in out


def test_manage_py_hub_modules_shows_disabled_modules(capsys):
    with override_settings(HUB_DISABLED_MODULES=["alertes"]):
        call_command("hub", "modules")
    out = capsys.readouterr().out
    assert "Alertes et communications / Alerts and communications  [disabled]" in out


def test_module_disabled_at_start_up_is_not_installed(tmp_path):
    """HUB_DISABLED_MODULES in the environment keeps the app out of INSTALLED_APPS."""
    env = {**os.environ, "HUB_DISABLED_MODULES": "alertes", "DJANGO_SETTINGS_MODULE":
           "hub.settings", "VAR_DIR": str(tmp_path)}
    env.pop("DATABASE_URL", None)
    result = subprocess.run(
        [sys.executable, "manage.py", "hub", "modules"], env=env, capture_output=True,
        text=True, timeout=120, check=False,
    )
    assert result.returncode == 0, result.stderr
    assert "requetes" in result.stdout
    assert "alertes" not in result.stdout


def test_misspelled_hook_implementation_is_an_error_at_start_up():
    class Misspelled:
        @hookimpl
        def hub_home_tile(self, request):  # missing "s"
            return []

    pm = manager.get_plugin_manager()
    pm.register(Misspelled(), name="misspelled")
    try:
        with pytest.raises(pluggy.PluginValidationError):
            pm.check_pending()
    finally:
        pm.unregister(name="misspelled")


# --- The throwaway module plugs in with zero edits to hub/ ------------------------------

def _throwaway_everywhere(client):
    page = client.get("/fr/jetable/")
    schema = client.get("/api/schema/?format=json").json()
    home = client.get("/fr/").content.decode()
    espace = client.get("/fr/mon-espace/").content.decode()
    return {
        "url": page.status_code == 200 and "module jetable" in page.content.decode(),
        "api": "/api/v1/throwaway-ping/" in schema["paths"],
        "tile": "Tuile jetable" in home,
        "panel": "Panneau jetable" in espace,
    }


def test_throwaway_module_plugs_in(client, site, citizen):
    client.force_login(citizen)
    assert _throwaway_everywhere(client) == {"url": True, "api": True, "tile": True,
                                             "panel": True}
    assert client.get("/api/v1/throwaway-ping/").json() == {"pong": True}


def test_disabling_the_throwaway_module_removes_all_four(client, site, citizen):
    client.force_login(citizen)
    with override_settings(HUB_DISABLED_MODULES=["throwaway"]):
        assert _throwaway_everywhere(client) == {"url": False, "api": False, "tile": False,
                                                 "panel": False}
        assert client.get("/fr/jetable/").status_code == 404
        assert client.get("/api/v1/throwaway-ping/").status_code == 404
        slugs = [m["slug"] for m in client.get("/api/v1/modules/").json()]
        assert "throwaway" not in slugs
    # and re-enabling brings it back
    assert _throwaway_everywhere(client)["url"] is True


def test_disabling_one_module_leaves_the_others_working(client, site, citizen):
    client.force_login(citizen)
    with override_settings(HUB_DISABLED_MODULES=["requetes"]):
        home = client.get("/fr/").content.decode()
        assert "Signaler un problème" not in home and "Report a problem" not in home
        assert client.get("/fr/alertes/").status_code == 200
        assert client.get("/fr/mon-espace/").status_code == 200


# --- Events ------------------------------------------------------------------------------

class _FailingListener:
    @hookimpl(optionalhook=True)
    def throwaway_happened(self, payload):
        raise RuntimeError("listener is broken")


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_events_fire_after_commit_and_a_failing_listener_never_breaks_the_sender(caplog):
    pm = manager.get_plugin_manager()
    pm.register(_FailingListener(), name="failing-listener")
    try:
        with caplog.at_level(logging.ERROR), transaction.atomic():
            manager.fire_event("throwaway_happened", payload={"n": 1})
            assert throwaway.RECEIVED == []  # not before the commit
        assert throwaway.RECEIVED == [{"n": 1}]
        assert "listener is broken" in caplog.text
    finally:
        pm.unregister(name="failing-listener")


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_events_are_dropped_when_the_transaction_rolls_back():
    with pytest.raises(ZeroDivisionError), transaction.atomic():
        manager.fire_event("throwaway_happened", payload={"n": 2})
        1 / 0  # noqa: B018
    assert throwaway.RECEIVED == []


def test_an_event_nobody_declared_is_a_no_op():
    assert manager.call_listeners("nobody_declared_this", payload={}) == []


def test_disabled_module_does_not_receive_events():
    with override_settings(HUB_DISABLED_MODULES=["throwaway"]):
        manager.call_listeners("throwaway_happened", payload={"n": 3})
    assert throwaway.RECEIVED == []


# --- One test per hub hook ---------------------------------------------------------------

def test_hook_hub_module():
    meta = manager.module_metadata("requetes")
    assert meta["name_fr"] == "Requêtes" and meta["name_en"] == "Service requests"
    assert meta["order"] == 10 and meta["icon"] == "request"
    throwaway_meta = manager.module_metadata("throwaway")
    assert throwaway_meta["description_en"] == ""  # defaults filled in


def test_hook_hub_hookspecs():
    pm = manager.get_plugin_manager()
    assert hasattr(pm.hook, "request_created")
    assert hasattr(pm.hook, "request_status_changed")
    assert hasattr(pm.hook, "news_published")
    assert hasattr(pm.hook, "throwaway_happened")


def test_hook_hub_urlpatterns(client, site):
    assert client.get("/fr/jetable/").status_code == 200
    assert client.get("/en/jetable/").status_code == 200
    assert client.get("/fr/requetes/").status_code == 200


def test_hook_hub_root_urlpatterns(client, db):
    response = client.get("/open311/jetable/")
    assert response.status_code == 200 and response.content == b"ok"
    assert client.get("/open311/inconnu/").status_code == 404  # the JSON 404 still applies
    with override_settings(HUB_DISABLED_MODULES=["throwaway"]):
        assert client.get("/open311/jetable/").status_code == 404


def test_hook_hub_api_routes(client):
    assert client.get("/api/v1/throwaway-ping/").json() == {"pong": True}
    assert "throwaway-ping" in client.get("/api/v1/").json()


def test_hook_hub_home_tiles(client, site):
    content = client.get("/fr/").content.decode()
    positions = [content.index(title) for title in
                 ["Signaler un problème", "Alertes et communications", "Actualités de la Ville",
                  "Autres services en ligne", "Tuile jetable"]]
    assert positions == sorted(positions), "tiles follow module order"


def test_hook_hub_dashboard_panels(client, site, citizen):
    client.force_login(citizen)
    content = client.get("/en/mon-espace/").content.decode()
    for title in ["My requests", "My communications", "Latest news", "My services",
                  "Panneau jetable"]:
        assert title in content


def test_hook_hub_banners(client, site):
    assert "Bannière jetable" in client.get("/fr/").content.decode()
    with override_settings(HUB_DISABLED_MODULES=["throwaway"]):
        assert "Bannière jetable" not in client.get("/fr/").content.decode()


def test_hook_hub_search_sources(db):
    from django.db.models import QuerySet

    sources = manager.collect("hub_search_sources")
    assert sources, "the news, service-link and alert modules contribute sources"
    assert all(isinstance(source, QuerySet) for source in sources)
    assert "alertes.Alert" in {source.model._meta.label for source in sources}
    with override_settings(HUB_DISABLED_MODULES=["actualites", "liens_services", "requetes",
                                                 "alertes"]):
        assert manager.collect("hub_search_sources") == []


def test_hook_hub_search_documents(db):
    """Asked only when Elasticsearch is configured; requetes contributes its staff index,
    and a disabled module's document is left out."""
    from hub import search

    with override_settings(ELASTICSEARCH_URL=""):
        assert search.document_sources() == []
    with override_settings(ELASTICSEARCH_URL="http://127.0.0.1:9200"):
        sources = search.document_sources()
        assert [s.model._meta.label for s in sources] == ["requetes.ServiceRequest"]
        assert sources[0].document._index._name.endswith("_requetes")
        with override_settings(HUB_DISABLED_MODULES=["requetes"]):
            assert search.document_sources() == []


def test_hook_hub_oauth_client_services(client, site, citizen):
    """"Services using my account" names the city service behind a client when a module
    knows it (liens_services), and falls back to the client's name without the module."""
    import datetime

    from django.utils import timezone
    from oauth2_provider.models import get_access_token_model, get_application_model

    from modules.liens_services.models import ServiceLink

    application = get_application_model().objects.create(
        name="client-roles", client_type="confidential",
        authorization_grant_type="authorization-code",
        redirect_uris="https://roles.example/cb", algorithm="RS256")
    link = ServiceLink.objects.filter(locale__language_code="fr").first()
    ServiceLink.objects.filter(translation_key=link.translation_key).update(
        oidc_application=application)
    get_access_token_model().objects.create(
        user=citizen, application=application, token="hook-token", scope="openid",
        expires=timezone.now() + datetime.timedelta(hours=1))
    assert manager.collect("hub_oauth_client_services", application_ids=[application.pk]) == [
        {"application_id": application.pk, "title": link.title, "url": link.url}]
    client.force_login(citizen)
    assert f"<h2>{link.title}</h2>" in client.get("/fr/compte/services-autorises/"
                                                   ).content.decode()
    with override_settings(HUB_DISABLED_MODULES=["liens_services"]):
        assert manager.collect("hub_oauth_client_services",
                               application_ids=[application.pk]) == []
        assert "<h2>client-roles</h2>" in client.get("/fr/compte/services-autorises/"
                                                      ).content.decode()


def test_hook_hub_user_data_export(citizen):
    from hub.accounts.services import export_user_data

    data = export_user_data(citizen)
    assert data["modules"]["throwaway"] == {"favourite_colour": "bleu"}
    assert data["account"]["email"] == citizen.email
    assert throwaway.EXPORTED_FOR == [citizen.email]


def test_hook_hub_user_data_erase(citizen):
    from hub.accounts.services import delete_account
    from hub.models import User

    delete_account(citizen)
    assert throwaway.ERASED_FOR == ["citoyenne@example.com"]
    assert not User.objects.filter(email="citoyenne@example.com").exists()


def test_hook_hub_demo_data(site):
    from hub import demo

    assert throwaway.DEMO_RUNS == [] or throwaway.DEMO_RUNS == [1]
    throwaway.DEMO_RUNS.clear()
    demo.load()
    assert throwaway.DEMO_RUNS == [1]


def test_hook_hub_periodic_tasks():
    """alertes declares its dispatch job, every minute; a disabled module's jobs are not
    asked.  (The scheduler that enqueues them is tested in tests/test_scheduler.py.)"""
    from hub.scheduler import PeriodicTask

    jobs = {job.name: job for job in manager.collect("hub_periodic_tasks")}
    assert isinstance(jobs["alertes.dispatch"], PeriodicTask)
    assert jobs["alertes.dispatch"].schedule == "* * * * *"
    with override_settings(HUB_DISABLED_MODULES=["alertes"]):
        assert "alertes.dispatch" not in {job.name for job in
                                          manager.collect("hub_periodic_tasks")}


def test_modules_settings_come_from_the_environment():
    """`<SLUG>_<NAME>` variables of installed modules become settings, JSON decoded."""
    from hub.plugins.manager import settings_from_environment

    found = settings_from_environment({
        "ALERTES_TWILIO_FROM": "+14505550100", "ALERTES_VOICE_RETRY_DELAY": "120",
        "ALERTES_RATE_LIMITS": '{"sms": 1}', "REQUETES_MAP_TILES_URL": "https://t/{z}.png",
        "ALERTES_PUSH_ALLOW_LOOPBACK": "false", "NOTAMODULE_X": "1", "PATH": "/bin"})
    assert found == {"ALERTES_TWILIO_FROM": "+14505550100", "ALERTES_VOICE_RETRY_DELAY": 120,
                     "ALERTES_RATE_LIMITS": {"sms": 1},
                     "REQUETES_MAP_TILES_URL": "https://t/{z}.png",
                     "ALERTES_PUSH_ALLOW_LOOPBACK": False}
