"""Browser fixtures: Debian's Chromium driven by Playwright for Python, against
pytest-django's ``live_server`` (a thread of this process, so ``mail.outbox`` is readable).

Without ``/usr/bin/chromium`` the e2e tests are skipped — unless
``HUB_REQUIRE_BROWSER_TESTS=1`` (CI), where a missing browser is a failure.
Nothing is ever downloaded: ``playwright install`` is not used.

Two consequences of Playwright's *sync* API running an asyncio event loop in the test
thread, both confined to the lifetime of the ``browser`` fixture (one test module):

* Django refuses ORM calls from a thread with a running loop unless
  ``DJANGO_ALLOW_ASYNC_UNSAFE`` is set; it is set while the browser runs and restored
  afterwards, so it never leaks into other tests (or their subprocesses).
* ``django.db.connections`` is an asgiref ``Local`` that hands out *other* connection
  objects while a loop runs; those lack the snapshot of the migrated database that
  ``serialized_rollback`` restores after each transactional test's flush (Wagtail's root
  page, the groups…). The snapshot is copied onto them, and they are closed at the end.
"""

import os
from pathlib import Path

import pytest

CHROMIUM = Path(os.environ.get("HUB_CHROMIUM", "/usr/bin/chromium"))
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
REQUIRED = os.environ.get("HUB_REQUIRE_BROWSER_TESTS") == "1"
ASYNC_UNSAFE = "DJANGO_ALLOW_ASYNC_UNSAFE"
MISSING = (f"{CHROMIUM} is missing: install Debian's chromium "
           "(apt-get install -y chromium) to run the browser tests")
HERE = Path(__file__).resolve().parent


def pytest_collection_modifyitems(config, items):
    """Skip at collection time (no test database is built for nothing)."""
    if CHROMIUM.exists() or REQUIRED:
        return
    skip = pytest.mark.skip(reason=MISSING)
    for item in items:
        if HERE in Path(str(item.path)).resolve().parents:
            item.add_marker(skip)


@pytest.fixture(scope="module")
def browser(django_db_setup, django_db_blocker):
    if not CHROMIUM.exists():
        pytest.fail(f"HUB_REQUIRE_BROWSER_TESTS=1 but {MISSING}", pytrace=False)
    from django.db import connections
    from playwright.sync_api import sync_playwright

    snapshots = {alias: getattr(connections[alias], "_test_serialized_contents", None)
                 for alias in connections}
    previous = os.environ.get(ASYNC_UNSAFE)
    os.environ[ASYNC_UNSAFE] = "true"
    try:
        with sync_playwright() as p:
            for alias, snapshot in snapshots.items():
                if snapshot is not None:
                    connections[alias]._test_serialized_contents = snapshot
            browser = p.chromium.launch(executable_path=str(CHROMIUM), headless=True,
                                        args=CHROMIUM_ARGS)
            try:
                yield browser
            finally:
                browser.close()
                with django_db_blocker.unblock():
                    connections.close_all()
    finally:
        if previous is None:
            os.environ.pop(ASYNC_UNSAFE, None)
        else:
            os.environ[ASYNC_UNSAFE] = previous


@pytest.fixture
def demo_site(browser, live_server, settings):
    """The demo site, served by the live server (Wagtail's Site row points at its host)."""
    from urllib.parse import urlsplit

    from wagtail.models import Site

    from hub import demo

    settings.BASE_URL = live_server.url
    settings.WAGTAILADMIN_BASE_URL = live_server.url
    demo.load()
    base = urlsplit(live_server.url)
    Site.objects.filter(is_default_site=True).update(hostname=base.hostname, port=base.port)
    return live_server


@pytest.fixture
def context(browser, demo_site):
    ctx = browser.new_context(locale="fr-CA", base_url=demo_site.url)
    ctx.set_default_timeout(15_000)
    yield ctx
    ctx.close()


@pytest.fixture
def page(context):
    page = context.new_page()
    yield page
    page.close()
