"""Module `actualites`: news pages, filters, pagination, feeds, API, scheduled
publishing, the news_published event, tile, panel, search sources and demo."""

from __future__ import annotations

import datetime

import pytest
from defusedxml import ElementTree
from django.core.management import call_command
from django.utils import timezone
from wagtail.models import Locale

from hub.plugins import hookimpl
from hub.plugins.manager import collect, get_plugin_manager
from modules.actualites import demo as news_demo
from modules.actualites.hookspecs import NewsPublished
from modules.actualites.models import NewsCategory, NewsIndexPage, NewsPage

ATOM = "{http://www.w3.org/2005/Atom}"


@pytest.fixture
def news(site):
    """The demo news (the site fixture already ran every module's demo)."""
    return NewsIndexPage.objects.get(locale__language_code="fr")


def _add_news(index, slug, *, title=None, date=None, publish=True, **extra):
    page = NewsPage(title=title or slug, slug=slug, lead=f"Résumé de {slug}",
                    date=date or datetime.date(2026, 1, 1), live=False, **extra)
    index.add_child(instance=page)
    revision = page.save_revision()
    if publish:
        revision.publish()
    page.refresh_from_db()
    return page


class EventListener:
    """A listener of ``news_published``, registered like another module's plugin."""

    def __init__(self):
        self.news = []

    @hookimpl
    def news_published(self, news):
        self.news.append(news)

    @property
    def page_ids(self):
        return [news.page_id for news in self.news]


@pytest.fixture
def listener():
    pm = get_plugin_manager()
    plugin = EventListener()
    pm.register(plugin, name="test-actualites-listener")
    yield plugin
    pm.unregister(plugin)


# --- models and demo --------------------------------------------------------------------

def test_demo_creates_french_news_with_english_translations(news):
    fr = Locale.objects.get(language_code="fr")
    en = Locale.objects.get(language_code="en")
    assert NewsPage.objects.filter(locale=fr).count() == 6
    assert NewsPage.objects.filter(locale=en).count() == 6
    bridge = NewsPage.objects.get(locale=fr, slug="fermeture-pont-salaberry")
    english = bridge.get_translation(en)
    assert english.title == "Salaberry bridge closed for roadwork"
    assert english.translation_key == bridge.translation_key
    assert [c.name for c in english.categories.all()] == ["Roadwork and traffic"]
    assert sorted(bridge.tag_names) == ["circulation", "pont Salaberry"]
    assert NewsCategory.objects.filter(locale=en).count() == 4


def test_demo_is_idempotent(news):
    counts = (NewsPage.objects.count(), NewsIndexPage.objects.count(),
              NewsCategory.objects.count())
    news_demo.load()
    news_demo.load()
    assert (NewsPage.objects.count(), NewsIndexPage.objects.count(),
            NewsCategory.objects.count()) == counts


def test_main_image_needs_alternative_text(news):
    from django.core.exceptions import ValidationError
    from wagtail.images.models import Image
    from wagtail.images.tests.utils import get_test_image_file

    image = Image.objects.create(title="Pont", file=get_test_image_file())
    page = NewsPage(title="Avec image", slug="avec-image", lead="Résumé",
                    main_image=image)
    with pytest.raises(ValidationError) as error:
        page.clean()
    assert "main_image_alt" in error.value.message_dict


# --- pages ------------------------------------------------------------------------------

@pytest.mark.parametrize("path, texts", [
    ("/fr/actualites/", ["Actualités", "Fermeture du pont Salaberry pour travaux",
                         "Hiver et déneigement"]),
    ("/en/news/", ["News", "Salaberry bridge closed for roadwork", "Winter and snow removal"]),
])
def test_index_renders_in_both_languages(client, news, path, texts):
    response = client.get(path)
    assert response.status_code == 200
    content = response.content.decode()
    for text in texts:
        assert text in content
    assert 'type="application/atom+xml"' in content


def test_index_lists_only_its_language(client, news):
    content = client.get("/fr/actualites/").content.decode()
    assert "Salaberry bridge closed" not in content


def test_news_page_has_open_graph_tags(client, news):
    from wagtail.images.models import Image
    from wagtail.images.tests.utils import get_test_image_file

    page = NewsPage.objects.get(locale__language_code="fr", slug="operation-deneigement")
    page.main_image = Image.objects.create(title="Chasse-neige",
                                           file=get_test_image_file())
    page.main_image_alt = "Un chasse-neige dans une rue enneigée"
    page.save_revision().publish()
    content = client.get("/fr/actualites/operation-deneigement/").content.decode()
    assert '<meta property="og:type" content="article">' in content
    assert 'property="og:title" content="Opération de déneigement' in content
    assert 'property="og:locale" content="fr_CA"' in content
    assert 'property="og:url" content="http://127.0.0.1:8000/fr/actualites/' in content
    assert 'property="og:image" content="http' in content
    assert 'alt="Un chasse-neige dans une rue enneigée"' in content
    english = client.get("/en/news/operation-deneigement/").content.decode()
    assert 'property="og:locale" content="en_CA"' in english
    assert "Snow removal: no overnight street parking" in english


def test_news_body_blocks_render(client, news):
    page = _add_news(news, "blocs", body=[
        ("paragraph", "<p>Un paragraphe</p>"),
        ("quote", {"quote": "Citation <b>brute</b>", "attribution": "La mairesse"}),
        ("video", {"url": "https://video.example.com/v/1", "title": "La vidéo"}),
        ("call_to_action", {"text": "S’inscrire", "url": "https://example.com/"}),
    ])
    content = client.get(page.url).content.decode()
    assert "Un paragraphe" in content
    assert "Citation &lt;b&gt;brute&lt;/b&gt;" in content
    assert 'href="https://video.example.com/v/1" rel="noopener">La vidéo' in content
    assert "<iframe" not in content
    assert "S’inscrire" in content


def test_draft_and_scheduled_news_are_invisible(client, news):
    draft = _add_news(news, "brouillon", title="Brouillon secret", publish=False)
    assert client.get("/fr/actualites/brouillon/").status_code == 404
    assert "Brouillon secret" not in client.get("/fr/actualites/").content.decode()
    api = client.get("/api/v2/pages/?type=actualites.NewsPage&locale=fr").json()
    assert draft.pk not in [item["id"] for item in api["items"]]


# --- filters and pagination --------------------------------------------------------------

def test_category_filter(client, news):
    content = client.get("/fr/actualites/?categorie=hiver").content.decode()
    assert "Opération de déneigement" in content
    assert "Ouverture des patinoires extérieures" in content
    assert "Fermeture du pont Salaberry" not in content
    english = client.get("/en/news/?categorie=hiver").content.decode()
    assert "Snow removal: no overnight street parking" in english
    assert "Salaberry bridge" not in english


def test_tag_filter(client, news):
    content = client.get("/fr/actualites/?etiquette=d%C3%A9neigement").content.decode()
    assert "Opération de déneigement" in content
    assert "Fermeture du pont Salaberry" not in content
    by_name = client.get("/fr/actualites/?etiquette=pont%20salaberry").content.decode()
    assert "Fermeture du pont Salaberry" in by_name
    assert "Opération de déneigement" not in by_name
    page = NewsPage.objects.get(locale__language_code="fr", slug="operation-deneigement")
    assert "?etiquette=d%C3%A9neigement" in client.get(page.url).content.decode()


BAD_FILTERS = [
    "categorie=inconnue", "categorie=%3Cscript%3Ealert(1)%3C%2Fscript%3E",
    "categorie=%27%20OR%201=1%20--", "categorie=" + "x" * 5000, "etiquette=" + "y" * 5000,
    "etiquette=%00", "categorie=hiver%00", "categorie=%F0%9F%92%A5",
    "categorie=hiver&categorie=inconnue",
]


def test_bad_filters_give_a_message_never_a_500(client, news):
    for query in BAD_FILTERS:
        response = client.get(f"/fr/actualites/?{query}")
        assert response.status_code == 200, query
        content = response.content.decode()
        assert "<script>alert(1)" not in content
        assert "Fermeture du pont Salaberry" not in content, query


def test_unknown_category_says_so(client, news):
    content = client.get("/fr/actualites/?categorie=inconnue").content.decode()
    assert "Cette catégorie n’existe pas." in content or "Cette catégorie n'existe pas." \
        in content


def test_pagination_and_bad_page_numbers(client, news):
    for number in range(1, 25):
        _add_news(news, f"nouvelle-{number:02d}", title=f"Nouvelle {number:02d}",
                  date=datetime.date(2030, 1, number))
    # 30 news, 10 a page, newest first: page 1 starts at 24, page 2 at 14, page 3 is the
    # last (04 … and the six demo items).
    for page, expected in [("1", "Nouvelle 24"), ("2", "Nouvelle 14"), ("abc", "Nouvelle 24"),
                           ("9999", "Nouvelle 04"), ("-1", "Nouvelle 04"),
                           ("0", "Nouvelle 04"), ("", "Nouvelle 24"),
                           ("1e9", "Nouvelle 24"), ("%00", "Nouvelle 24")]:
        response = client.get(f"/fr/actualites/?page={page}")
        assert response.status_code == 200, page
        assert expected in response.content.decode(), page
    second = client.get("/fr/actualites/?page=2").content.decode()
    assert 'rel="next"' in second and 'rel="prev"' in second
    assert "Nouvelle 24" not in second
    filtered = client.get("/fr/actualites/?categorie=hiver&page=7")
    assert filtered.status_code == 200


# --- feeds ------------------------------------------------------------------------------

def test_atom_feed_is_valid_and_per_language(client, news):
    response = client.get("/fr/actualites/flux.atom")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/atom+xml")
    root = ElementTree.fromstring(response.content)
    assert root.tag == f"{ATOM}feed"
    titles = [e.findtext(f"{ATOM}title") for e in root.findall(f"{ATOM}entry")]
    assert "Fermeture du pont Salaberry pour travaux" in titles
    assert len(titles) == 6
    links = [e.find(f"{ATOM}link").get("href") for e in root.findall(f"{ATOM}entry")]
    assert all(link.startswith("http://127.0.0.1:8000/fr/actualites/") for link in links)

    english = ElementTree.fromstring(client.get("/en/actualites/flux.atom").content)
    english_titles = [e.findtext(f"{ATOM}title") for e in english.findall(f"{ATOM}entry")]
    assert "Salaberry bridge closed for roadwork" in english_titles
    assert "Fermeture du pont Salaberry pour travaux" not in english_titles


def test_rss_feed_is_valid(client, news):
    response = client.get("/en/actualites/flux.rss")
    assert response.status_code == 200
    root = ElementTree.fromstring(response.content)
    assert root.tag == "rss"
    channel = root.find("channel")
    assert channel.findtext("language") == "en"
    items = channel.findall("item")
    assert len(items) == 6
    assert all(item.findtext("link").startswith("http://127.0.0.1:8000/en/news/")
               for item in items)


def test_feed_without_news_is_still_valid(client, db):
    response = client.get("/fr/actualites/flux.atom")
    assert response.status_code == 200
    ElementTree.fromstring(response.content)


# --- API --------------------------------------------------------------------------------

def test_api_type_and_locale_filter(client, news):
    response = client.get("/api/v2/pages/?type=actualites.NewsPage&locale=en"
                          "&fields=date,lead,category_names,tag_names")
    assert response.status_code == 200
    data = response.json()
    assert data["meta"]["total_count"] == 6
    assert {item["meta"]["locale"] for item in data["items"]} == {"en"}
    bridge = next(i for i in data["items"] if i["meta"]["slug"] == "fermeture-pont-salaberry")
    assert bridge["title"] == "Salaberry bridge closed for roadwork"
    assert bridge["category_names"] == ["Roadwork and traffic"]
    assert bridge["date"] == "2026-10-06"


def test_api_detail_has_body(client, news):
    page = NewsPage.objects.get(locale__language_code="en", slug="operation-deneigement")
    data = client.get(f"/api/v2/pages/{page.pk}/").json()
    assert data["lead"].startswith("A snow-removal operation")
    assert data["body"][0]["type"] == "paragraph"


# --- scheduled publishing and the event --------------------------------------------------

def test_publishing_fires_news_published(news, listener,
                                         django_capture_on_commit_callbacks):
    category = NewsCategory.objects.filter(locale=news.locale).first()
    with django_capture_on_commit_callbacks(execute=True):
        page = _add_news(news, "evenement", title="Nouvelle publiée",
                         date=datetime.date(2026, 3, 2))
        page.categories.add(category)
        page.tags.add("pont")
        page.save_revision().publish()
    assert listener.page_ids == [page.pk, page.pk]  # published, then corrected
    first, correction = listener.news
    assert isinstance(first, NewsPublished)
    assert (first.title, first.lead, first.language) == (
        "Nouvelle publiée", "Résumé de evenement", "fr")
    assert first.translation_key == str(page.translation_key)
    assert first.url == page.get_full_url() and first.url.startswith("http")
    assert first.url.endswith("/fr/actualites/evenement/")
    assert first.date == datetime.date(2026, 3, 2) and first.public
    assert first.first_published_at == page.first_published_at
    assert first.categories == () and first.tags == ()
    assert correction.categories == (category.name,) and correction.tags == ("pont",)
    assert correction.first_published_at == first.first_published_at


def test_a_restricted_page_is_published_as_not_public(news, listener,
                                                      django_capture_on_commit_callbacks):
    from wagtail.models import PageViewRestriction

    page = _add_news(news, "interne", publish=False)
    PageViewRestriction.objects.create(page=page, restriction_type="login")
    with django_capture_on_commit_callbacks(execute=True):
        page.save_revision().publish()
    [published] = listener.news
    assert published.page_id == page.pk and not published.public


def test_a_failing_listener_never_breaks_publishing(news, django_capture_on_commit_callbacks):
    class Broken:
        @hookimpl
        def news_published(self, news):
            raise RuntimeError("listener down")

    pm = get_plugin_manager()
    plugin = Broken()
    pm.register(plugin, name="test-broken-listener")
    try:
        with django_capture_on_commit_callbacks(execute=True):
            page = _add_news(news, "robuste")
        assert NewsPage.objects.get(pk=page.pk).live
    finally:
        pm.unregister(plugin)


def test_scheduled_publishing(client, news, listener, django_capture_on_commit_callbacks):
    go_live = timezone.now() + datetime.timedelta(hours=2)
    page = NewsPage(title="Nouvelle planifiée", slug="planifiee", lead="Bientôt",
                    go_live_at=go_live, live=False)
    news.add_child(instance=page)
    page.save_revision().publish()
    page.refresh_from_db()
    assert not page.live
    assert client.get("/fr/actualites/planifiee/").status_code == 404
    assert "Nouvelle planifiée" not in client.get("/fr/actualites/flux.atom").content.decode()
    api = client.get("/api/v2/pages/?type=actualites.NewsPage&locale=fr").json()
    assert page.pk not in [item["id"] for item in api["items"]]
    assert listener.news == []

    call_command("publish_scheduled")  # not yet time
    page.refresh_from_db()
    assert not page.live

    from freezegun import freeze_time

    with freeze_time(go_live + datetime.timedelta(minutes=1)), \
            django_capture_on_commit_callbacks(execute=True):
        call_command("publish_scheduled")
    page.refresh_from_db()
    assert page.live
    assert listener.page_ids == [page.pk]
    assert client.get("/fr/actualites/planifiee/").status_code == 200
    assert "Nouvelle planifiée" in client.get("/fr/actualites/flux.atom").content.decode()


def test_hookspec_is_declared():
    pm = get_plugin_manager()
    assert hasattr(pm.hook, "news_published")
    assert not hasattr(pm.hook, "actualite_publiee")


# --- tile, panel, search sources ----------------------------------------------------------

def test_home_tile_points_to_the_news_index(client, news):
    content = client.get("/fr/").content.decode()
    assert 'href="/fr/actualites/"' in content
    assert "Actualités de la Ville" in content
    assert 'href="/en/news/"' in client.get("/en/").content.decode()


def test_mon_espace_panel_lists_latest_news(client, news, citizen):
    client.force_login(citizen)
    content = client.get("/fr/mon-espace/").content.decode()
    assert "Ouverture des patinoires extérieures" in content  # the newest demo item
    english = client.get("/en/mon-espace/").content.decode()
    assert "Outdoor rinks opening" in english


def test_search_sources_are_live_news(news):
    draft = _add_news(news, "brouillon-recherche", title="Déneigement brouillon",
                      publish=False)
    sources = [s for s in collect("hub_search_sources")
               if getattr(s, "model", None) is NewsPage]
    assert len(sources) == 1
    queryset = sources[0]
    assert draft.pk not in queryset.values_list("pk", flat=True)
    results = list(queryset.search("Salaberry"))
    assert {page.slug for page in results} == {"fermeture-pont-salaberry"}


def test_editors_manage_news_categories(client, news, editor):
    client.force_login(editor)
    assert client.get("/admin/snippets/actualites/newscategory/").status_code == 200


def test_no_tile_before_a_news_list_exists(client, news, citizen):
    NewsIndexPage.objects.all().delete()
    assert "Actualités de la Ville" not in client.get("/fr/").content.decode()
    client.force_login(citizen)
    content = client.get("/fr/mon-espace/").content.decode()
    assert "Dernières actualités" in content or "Latest news" in content
    assert client.get("/fr/actualites/flux.atom").status_code == 200
