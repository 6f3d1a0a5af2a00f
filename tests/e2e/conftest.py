"""Browser fixtures: Debian's Chromium driven by Playwright for Python, against
pytest-django's ``live_server`` (a thread of this process, so ``mail.outbox`` is readable).

Without ``/usr/bin/chromium`` the e2e tests are skipped — unless
``HUB_REQUIRE_BROWSER_TESTS=1`` (CI), where a missing browser is a failure.
Nothing is ever downloaded: ``playwright install`` is not used.
"""

import os
from pathlib import Path

import pytest

# Playwright's sync API runs an event loop in this thread; Django's ORM would otherwise
# refuse to be called from the test body ("async unsafe").
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

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


@pytest.fixture(scope="session")
def browser():
    if not CHROMIUM.exists():
        message = (f"{CHROMIUM} is missing: install Debian's chromium "
                   "(apt-get install -y chromium) to run the browser tests")
        if REQUIRED:
            pytest.fail(f"HUB_REQUIRE_BROWSER_TESTS=1 but {message}", pytrace=False)
        pytest.skip(message)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), headless=True,
                                    args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def demo_site(live_server, settings):
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
