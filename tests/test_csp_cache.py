"""A cached anonymous page never reuses a CSP nonce (issue 12, item 6).

The public page cache keeps a whole response for up to ``HUB_PUBLIC_CACHE_SECONDS``: a
nonce in it would be served to every visitor for that long, and a nonce known in advance
protects nothing.  So a page that needs a nonce (an inline script, or a script tag that
names the nonce) is never stored, and a page without one carries a policy without a
nonce (``script-src 'self'``: its scripts are static files).  The nonce stays fresh on
every response that has one.
"""

import re
import uuid

import pytest
from django.http import HttpResponse
from django.test import override_settings
from django.urls import reverse

from hub.cache import AnonymousPublicCacheMiddleware

NONCE = re.compile(r"'nonce-([^']+)'")
BODY_NONCE = re.compile(r'nonce="([^"]*)"')


@pytest.fixture
def lighting(departments):
    from modules.requetes.models import Category

    return Category.objects.create(service_code="eclairage", name_fr="Éclairage de rue",
                                   name_en="Street lighting", department=departments[0])


def _header_nonces(response) -> set[str]:
    return set(NONCE.findall(response.get("Content-Security-Policy", "")))


def _body_nonces(response) -> set[str]:
    return set(BODY_NONCE.findall(response.content.decode()))


def test_a_cached_page_carries_no_nonce_and_its_header_and_body_agree(client, cached):
    first = client.get("/fr/")
    second = client.get("/fr/")
    assert (first["X-Hub-Cache"], second["X-Hub-Cache"]) == ("miss", "hit")
    for response in (first, second):
        policy = response["Content-Security-Policy"]
        assert "script-src 'self'" in policy and "'unsafe-inline'" not in policy
        assert _header_nonces(response) == set(), policy
        assert _body_nonces(response) == set()
    assert second.content == first.content


def test_a_page_using_a_nonce_gets_a_fresh_one_each_time(client, citizen, lighting):
    client.force_login(citizen)
    url = reverse("requetes:report", args=["eclairage"])
    first, second = client.get(url), client.get(url)
    assert first.status_code == second.status_code == 200
    seen = []
    for response in (first, second):
        [nonce] = _header_nonces(response)
        assert _body_nonces(response) == {nonce}  # the header allows what the page uses
        assert len(nonce) >= 16
        seen.append(nonce)
    assert seen[0] != seen[1]


def test_a_response_holding_a_nonce_is_never_stored(rf, db):
    """Whatever a future template does: a nonce in the policy keeps the page out of
    the cache, so each visitor gets their own."""
    calls = []

    def view(request):
        calls.append(request)
        nonce = uuid.uuid4().hex
        response = HttpResponse(f'<script nonce="{nonce}">1</script>',
                                content_type="text/html")
        response["Content-Security-Policy"] = f"script-src 'self' 'nonce-{nonce}'"
        return response

    def plain(request):
        calls.append(request)
        response = HttpResponse("<p>ok</p>", content_type="text/html")
        response["Content-Security-Policy"] = "script-src 'self'"
        return response

    from django.core.cache import cache

    cache.clear()
    with override_settings(HUB_PUBLIC_CACHE_SECONDS=60):
        middleware = AnonymousPublicCacheMiddleware(view)
        one = middleware(rf.get("/fr/avec-nonce/"))
        two = middleware(rf.get("/fr/avec-nonce/"))
        assert len(calls) == 2 and "X-Hub-Cache" not in two
        assert _header_nonces(one) != _header_nonces(two)
        middleware = AnonymousPublicCacheMiddleware(plain)
        middleware(rf.get("/fr/sans-nonce/"))
        assert middleware(rf.get("/fr/sans-nonce/"))["X-Hub-Cache"] == "hit"
        assert len(calls) == 3
    cache.clear()
