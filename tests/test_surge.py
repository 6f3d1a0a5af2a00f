"""Surge performance: query budgets that do not grow with the number of news pages, and
the public cache's place in the middleware (headers, cookies, CSRF, languages)."""

import datetime
import re

import pytest
from django.core.cache import cache
from django.http import HttpResponse
from django.template import engines
from django.test import override_settings
from django.urls import path

from modules.actualites.models import NewsIndexPage, NewsPage

NEWS_API = ("/api/v2/pages/?type=actualites.NewsPage&locale=fr&fields=date,lead"
            "&order=-date&limit=20")


def form_view(request):
    html = engines["django"].from_string(
        "<form method=post>{% csrf_token %}</form>").render({}, request)
    return HttpResponse(html)


def plain_view(request):
    return HttpResponse("plain")


urlpatterns = [path("surge-form/", form_view), path("surge-plain/", plain_view)]


def add_news(count: int, start: int = 0) -> None:
    index = NewsIndexPage.objects.get(locale__language_code="fr")
    for number in range(start, start + count):
        index.add_child(instance=NewsPage(
            title=f"Avis n° {number}", slug=f"avis-surge-{number}", lead="Déneigement.",
            date=datetime.date(2026, 11, 1) - datetime.timedelta(days=number), live=True,
            body=[("paragraph", f"<p>Avis {number}</p>")]))
        index.refresh_from_db(fields=["numchild", "path", "depth"])


def count_queries(client, url, django_assert_max_num_queries, budget):
    client.get(url)  # warm per-process caches (site root paths, content types)
    with django_assert_max_num_queries(budget) as captured:
        response = client.get(url)
    assert response.status_code == 200
    return len(captured), response


def test_news_api_listing_queries_do_not_grow_with_items(client, site,
                                                         django_assert_max_num_queries):
    few, response = count_queries(client, NEWS_API, django_assert_max_num_queries, 8)
    add_news(25)
    many, response = count_queries(client, NEWS_API, django_assert_max_num_queries, 8)
    data = response.json()
    assert len(data["items"]) == 20 and data["meta"]["total_count"] >= 25
    assert many == few
    assert {item["meta"]["locale"] for item in data["items"]} == {"fr"}
    dates = [item["date"] for item in data["items"]]
    assert dates == sorted(dates, reverse=True)


def test_news_api_listing_keeps_private_pages_out(client, site):
    from wagtail.models import PageViewRestriction

    add_news(3)
    hidden = NewsPage.objects.get(slug="avis-surge-0")
    PageViewRestriction.objects.create(page=hidden, restriction_type="login")
    ids = {item["id"] for item in client.get(NEWS_API).json()["items"]}
    assert hidden.id not in ids
    assert NewsPage.objects.get(slug="avis-surge-1").id in ids


def test_news_page_query_budget_is_fixed(client, site, django_assert_max_num_queries):
    add_news(2)
    url = NewsPage.objects.get(slug="avis-surge-1").url
    few, _ = count_queries(client, url, django_assert_max_num_queries, 17)
    add_news(20, start=2)
    many, _ = count_queries(client, url, django_assert_max_num_queries, 17)
    assert many == few


# --- the public cache, now ahead of sessions, CSRF and CSP -------------------------------

@pytest.fixture
def cached(site):
    cache.clear()
    with override_settings(HUB_PUBLIC_CACHE_SECONDS=60):
        yield
    cache.clear()


def test_a_hit_carries_the_stored_csp_header_whose_nonce_is_in_the_html(client, cached):
    first = client.get("/fr/")
    second = client.get("/fr/")
    assert second["X-Hub-Cache"] == "hit"
    policy = second["Content-Security-Policy"]
    nonce = re.search(r"'nonce-([^']+)'", policy).group(1)
    assert policy == first["Content-Security-Policy"]
    assert f'nonce="{nonce}"' in second.content.decode() or "nonce" not in (
        second.content.decode())
    assert second["Permissions-Policy"] and second["Cross-Origin-Resource-Policy"]
    assert second["X-Content-Type-Options"] == "nosniff"  # SecurityMiddleware, outside
    assert not second.cookies  # no session, no CSRF cookie handed out from the cache


def test_a_hit_creates_no_session_and_sets_no_cookie(client, cached):
    from django.contrib.sessions.models import Session

    client.get("/fr/")
    before = Session.objects.count()
    response = client.get("/fr/")
    assert response["X-Hub-Cache"] == "hit" and not response.cookies
    assert Session.objects.count() == before


@override_settings(ROOT_URLCONF=__name__)
def test_a_page_with_a_csrf_token_is_never_stored(client, cached):
    # A visitor who already holds a CSRF cookie gets no Set-Cookie, yet the page holds a
    # token derived from their secret: sharing it would leak the secret.
    from django.conf import settings

    client.cookies[settings.CSRF_COOKIE_NAME] = "a" * 32
    first = client.get("/surge-form/")
    assert first.status_code == 200 and "csrfmiddlewaretoken" in first.content.decode()
    assert "X-Hub-Cache" not in first and settings.CSRF_COOKIE_NAME in first.cookies
    assert "X-Hub-Cache" not in client.get("/surge-form/")
    # the same view without the token is stored
    assert client.get("/surge-plain/")["X-Hub-Cache"] == "miss"
    assert client.get("/surge-plain/")["X-Hub-Cache"] == "hit"


def test_unprefixed_urls_are_keyed_by_language_cookie_and_accept_language(client, cached):
    from django.conf import settings

    french = client.get("/api/v1/modules/", HTTP_ACCEPT_LANGUAGE="fr")
    assert french["X-Hub-Cache"] == "miss"
    english = client.get("/api/v1/modules/", HTTP_ACCEPT_LANGUAGE="en")
    assert english["X-Hub-Cache"] == "miss"
    assert english["Content-Language"] == "en" and french["Content-Language"] == "fr"
    assert client.get("/api/v1/modules/", HTTP_ACCEPT_LANGUAGE="en")["X-Hub-Cache"] == "hit"
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    by_cookie = client.get("/api/v1/modules/", HTTP_ACCEPT_LANGUAGE="fr")
    assert by_cookie["X-Hub-Cache"] == "miss" and by_cookie["Content-Language"] == "en"


def test_a_session_cookie_bypasses_the_cache_even_when_anonymous(client, cached):
    from django.conf import settings

    client.get("/fr/")
    client.cookies[settings.SESSION_COOKIE_NAME] = "not-a-session"
    assert "X-Hub-Cache" not in client.get("/fr/")


def test_csrf_is_still_enforced_on_posts(site):
    from django.test import Client

    strict = Client(enforce_csrf_checks=True)
    response = strict.post("/fr/compte/login/", {"login": "x@example.org", "password": "y"})
    assert response.status_code == 403
