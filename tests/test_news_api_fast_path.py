"""The pages API's fast path for the news listing (hub.api.wagtail_api.fast_listing_items)
writes the same JSON as Wagtail's serializer, and anything it does not cover takes
Wagtail's way."""

import datetime
import json

import pytest
from django.core.cache import cache
from django.test import override_settings
from wagtail.models import Locale, PageViewRestriction

from hub.api import wagtail_api
from modules.actualites.models import NewsIndexPage, NewsPage

LISTING = "/api/v2/pages/?type=actualites.NewsPage"

COVERED = [
    LISTING,
    LISTING + "&locale=fr",
    LISTING + "&locale=en",
    LISTING + "&locale=fr&fields=date,lead&order=-date&limit=20",
    LISTING + "&locale=fr&fields=date,lead&order=-date&limit=5&offset=3",
    LISTING + "&locale=fr&fields=date,lead&order=-date&limit=5&offset=400",
    LISTING + "&fields=date,main_image_alt,seo_title,search_description,show_in_menus",
    LISTING + "&fields=-title,-html_url,lead&order=title",
    LISTING + "&fields=_,date&order=-first_published_at",
    LISTING + "&order=id&limit=3&offset=2",
    LISTING + "&order=-title",
    "/api/v2/pages/?type=actualites.NewsPage,actualites.NewsIndexPage&fields=-title",
]
FALLBACK = [
    LISTING + "&search=deneigement",
    LISTING + "&fields=date,body",
    LISTING + "&fields=*",
    LISTING + "&fields=date,tag_names",
    LISTING + "&fields=main_image_thumbnail",
    LISTING + "&date=2026-10-30",
    LISTING + "&format=json",
    "/api/v2/pages/?locale=fr",
]
ERRORS = [
    LISTING + "&fields=nope",
    LISTING + "&fields=nope&order=nope",
    LISTING + "&fields=body,nope&limit=1000",
    LISTING + "&order=nope",
    LISTING + "&limit=-1",
    LISTING + "&locale=xx",
    "/api/v2/pages/?type=actualites.Nope",
]


@pytest.fixture
def news(site):
    """French news (one with an accented slug and a null first publication date, one
    view-restricted, one draft) and their English translations."""
    cache.clear()
    index = NewsIndexPage.objects.get(locale__language_code="fr")
    pages = []
    for number in range(12):
        page = index.add_child(instance=NewsPage(
            title=f"Avis n° {number} « déneigement »", slug=f"avis-rapide-{number}",
            lead=f"Déneigement, secteur {number} — « guillemets » & <b>balises</b>.",
            date=datetime.date(2026, 11, 1) - datetime.timedelta(days=number % 5),
            live=True, seo_title=f"SEO {number}" if number % 2 else "",
            first_published_at=datetime.datetime(2026, 1, number + 1, 12, 30,
                                                  tzinfo=datetime.UTC)))
        index.refresh_from_db(fields=["numchild", "path", "depth"])
        pages.append(page)
    index.add_child(instance=NewsPage(
        title="Crêpes d'été", slug="crêpes-été-ñ", lead="Unicode.", live=True,
        date=datetime.date(2026, 6, 1)))
    index.refresh_from_db(fields=["numchild", "path", "depth"])
    index.add_child(instance=NewsPage(title="Brouillon", slug="brouillon-rapide",
                                      lead="Non publié.", live=False))
    index.refresh_from_db(fields=["numchild", "path", "depth"])
    PageViewRestriction.objects.create(page=pages[1], restriction_type="login")
    english = Locale.objects.get(language_code="en")
    for page in pages[:3]:
        translated = page.copy_for_translation(english)
        translated.title = page.title.replace("Avis", "Notice")
        translated.save_revision().publish()
    cache.clear()
    return pages


def _get(client, url, fast: bool):
    with override_settings(HUB_API_FAST_LISTING=fast):
        response = client.get(url, HTTP_HOST="127.0.0.1")
    return response


def _used_fast_path(client, url) -> bool:
    wagtail_api._fast_layouts.clear()
    client.get(url, HTTP_HOST="127.0.0.1")
    return any(layout is not None for layout in wagtail_api._fast_layouts.values())


@pytest.mark.parametrize("url", COVERED)
def test_covered_listings_are_byte_for_byte_wagtails(client, news, url):
    assert _used_fast_path(client, url)
    wagtail = _get(client, url, fast=False)
    fast = _get(client, url, fast=True)
    assert wagtail.status_code == fast.status_code == 200
    assert fast.content == wagtail.content
    assert fast["Content-Type"] == wagtail["Content-Type"]


def test_listings_hold_what_they_should(client, news):
    items = json.loads(_get(client, LISTING + "&locale=fr&limit=50", fast=True).content)
    ids = {item["id"] for item in items["items"]}
    assert news[0].id in ids and news[1].id not in ids  # view-restricted page left out
    assert not NewsPage.objects.filter(slug="brouillon-rapide", id__in=ids).exists()
    unicode_item = next(item for item in items["items"] if item["title"] == "Crêpes d'été")
    assert unicode_item["meta"]["html_url"].endswith(
        "/fr/actualites/cr%C3%AApes-%C3%A9t%C3%A9-%C3%B1/")
    english = json.loads(_get(client, LISTING + "&locale=en", fast=True).content)
    assert {item["meta"]["locale"] for item in english["items"]} == {"en"}
    assert all("/en/" in item["meta"]["html_url"] for item in english["items"])


@pytest.mark.parametrize("url", FALLBACK)
def test_other_parameters_and_fields_take_wagtails_way(client, news, url):
    assert not _used_fast_path(client, url)
    assert _get(client, url, fast=True).content == _get(client, url, fast=False).content


@pytest.mark.parametrize("url", ERRORS)
def test_errors_are_wagtails(client, news, url):
    wagtail = _get(client, url, fast=False)
    fast = _get(client, url, fast=True)
    assert fast.status_code == wagtail.status_code
    assert wagtail.status_code in (400, 404)
    assert fast.content == wagtail.content


def test_signed_in_visitor_gets_the_same_listing(client, news, citizen):
    client.force_login(citizen)
    url = LISTING + "&locale=fr&fields=date,lead&order=-date&limit=20"
    fast = _get(client, url, fast=True)
    assert fast.content == _get(client, url, fast=False).content
    # a signed-in citizen still does not see a page restricted to a group
    ids = {item["id"] for item in json.loads(fast.content)["items"]}
    assert news[0].id in ids


def test_a_newly_restricted_page_leaves_the_fast_listing_at_once(client, news):
    url = LISTING + "&locale=fr&limit=50"
    with override_settings(HUB_FRAGMENT_CACHE_SECONDS=10):
        before = {item["id"] for item in json.loads(client.get(url).content)["items"]}
        assert news[2].id in before
        PageViewRestriction.objects.create(page=news[2], restriction_type="password",
                                           password="secret")
        after = {item["id"] for item in json.loads(client.get(url).content)["items"]}
    assert news[2].id not in after
    cache.clear()
