"""Wagtail's page serving with the localized root memoized (``hub.views.pages``): the
same page, status and language as Wagtail's own routing for every kind of URL, in fewer
queries, and following publications at once."""

import datetime

import pytest
from django.core.cache import cache
from django.test import Client
from wagtail.models import Page

from modules.actualites.models import NewsIndexPage, NewsPage


@pytest.fixture
def news(site):
    index = NewsIndexPage.objects.get(locale__language_code="fr")
    page = index.add_child(instance=NewsPage(
        title="Déneigement de la rue Victoria", slug="deneigement-victoria",
        lead="Cette nuit.", date=datetime.date(2026, 12, 1), live=True,
        body=[("paragraph", "<p>Stationnement interdit.</p>")]))
    cache.clear()
    yield page
    cache.clear()


URLS = ["/fr/", "/en/", "/fr/actualites/", "/fr/actualites/deneigement-victoria/",
        "/fr/actualites/n-existe-pas/", "/fr/n-existe-pas/", "/en/actualites/"]


def answers(settings, seconds: int) -> dict:
    settings.HUB_FRAGMENT_CACHE_SECONDS = seconds
    client = Client()
    found = {}
    for url in URLS:
        response = client.get(url)
        page = response.context.get("page") if response.context else None
        found[url] = (response.status_code, page and page.pk, page and type(page).__name__,
                      response.headers.get("Content-Language"))
    return found


def test_every_url_serves_what_wagtail_itself_serves(news, settings):
    wagtail = answers(settings, 0)  # memoizing off: Wagtail's own routing
    hub = answers(settings, 10)
    assert hub == wagtail
    assert hub["/fr/actualites/deneigement-victoria/"][:3] == (200, news.pk, "NewsPage")
    assert hub["/en/"][0] == 200 and hub["/en/"][2] == "HomePage"
    assert hub["/en/"][1] != hub["/fr/"][1]  # each language its own home page
    assert hub["/fr/n-existe-pas/"][0] == 404


def test_a_news_page_is_three_queries(news, settings, client, django_assert_num_queries):
    """The home page (the localized root, from its own table), the news index, the news
    page with its main image; the fragments come from the cache."""
    settings.HUB_FRAGMENT_CACHE_SECONDS = 10
    client.get(news.url)
    with django_assert_num_queries(3):
        assert client.get(news.url).status_code == 200


def test_the_localized_root_follows_an_unpublication_at_once(news, settings, client):
    settings.HUB_FRAGMENT_CACHE_SECONDS = 10
    english = Page.objects.get(depth=2, locale__language_code="en")
    assert client.get("/en/").context["page"].pk == english.pk
    english.unpublish()  # a new generation: Wagtail's answer again, at once
    settings.HUB_FRAGMENT_CACHE_SECONDS = 0
    wagtail = client.get("/en/")
    settings.HUB_FRAGMENT_CACHE_SECONDS = 10
    hub = client.get("/en/")
    assert hub.status_code == wagtail.status_code
    assert (hub.context and hub.context["page"].pk) == (wagtail.context and
                                                        wagtail.context["page"].pk)
    assert not hub.context or hub.context["page"].pk != english.pk
