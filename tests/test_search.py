"""Hub search: pages and module sources, French and English, accents and case ignored,
bad input answered with a clear error."""

import subprocess
import sys

import pytest
from django.conf import settings
from django.utils import translation
from wagtail.models import Locale

from hub.models import ContentPage, HomePage
from hub.search import search


@pytest.fixture
def pages(site):
    home_fr = HomePage.objects.get(locale__language_code="fr")
    snow = home_fr.add_child(instance=ContentPage(
        title="Déneigement des rues", slug="deneigement", search_description="Opérations",
        body=[("paragraph", "<p>Les opérations de déneigement commencent à 20 h.</p>")]))
    snow.save_revision().publish()
    draft = home_fr.add_child(instance=ContentPage(
        title="Brouillon déneigement secret", slug="brouillon", live=False))
    home_en = HomePage.objects.get(locale__language_code="en")
    snow_en = snow.copy_for_translation(Locale.objects.get(language_code="en"))
    snow_en.title = "Snow removal"
    snow_en.body = [("paragraph", "<p>Snow removal starts at 8 p.m.</p>")]
    snow_en.save_revision().publish()
    return {"snow": snow, "draft": draft, "snow_en": snow_en, "home_en": home_en}


@pytest.mark.parametrize("query", ["déneigement", "deneigement", "DÉNEIGEMENT", "Deneigement"])
def test_accents_and_case_do_not_matter(pages, query):
    titles = [hit.title for hit in search(query, language="fr")]
    assert "Déneigement des rues" in titles


def test_body_text_is_searched(pages):
    assert [h.title for h in search("opérations commencent", language="fr")][:1] == [
        "Déneigement des rues"]


def test_results_follow_the_language(pages):
    assert "Snow removal" in [h.title for h in search("snow removal", language="en")]
    assert "Snow removal" not in [h.title for h in search("snow removal", language="fr")]


def test_drafts_are_never_found(pages):
    assert all("Brouillon" not in hit.title for hit in search("brouillon", language="fr"))


def test_search_page(client, pages):
    response = client.get("/fr/recherche/", {"q": "deneigement"})
    assert response.status_code == 200
    content = response.content.decode()
    assert 'href="/fr/deneigement/"' in content
    assert 'role="search"' in content


def test_search_page_without_query_shows_the_form(client, site):
    response = client.get("/fr/recherche/")
    assert response.status_code == 200
    assert "<h2" not in response.content.decode().split("<main", 1)[1].split("</main>")[0] \
        or "résultat" not in response.content.decode()


@pytest.mark.parametrize("query", [
    "<script>alert(1)</script>", "' OR 1=1 --", '"unbalanced', "NOT", "AND OR", "*", "(", "%",
    "déneigement\x00", "🙂",
])
def test_nasty_queries_are_harmless(client, pages, query):
    response = client.get("/fr/recherche/", {"q": query})
    assert response.status_code in (200, 400)  # a NUL character is a form error
    assert "<script>alert(1)</script>" not in response.content.decode()
    api = client.get("/api/v1/search/", {"q": query})
    assert api.status_code in (200, 400)


def test_too_long_query_is_a_form_error(client, site):
    response = client.get("/fr/recherche/", {"q": "x" * 500})
    assert response.status_code == 400
    assert "error-summary" in response.content.decode()


def test_api_search(client, pages):
    response = client.get("/api/v1/search/", {"q": "deneigement"})
    assert response.status_code == 200
    hit = next(h for h in response.json() if h["url"] == "/fr/deneigement/")
    assert hit["title"] == "Déneigement des rues" and hit["summary"] == "Opérations"
    english = client.get("/api/v1/search/", {"q": "snow", "lang": "en"}).json()
    assert "/en/deneigement/" in [hit["url"] for hit in english]
    assert all(not hit["url"].startswith("/fr/") for hit in english)


@pytest.mark.parametrize(("params", "field"), [({}, "q"), ({"q": ""}, "q"),
                                               ({"q": "x" * 201}, "q"),
                                               ({"q": "neige", "lang": "de"}, "lang")])
def test_api_search_bad_input(client, site, params, field):
    response = client.get("/api/v1/search/", params)
    assert response.status_code == 400
    assert field in response.json()


def test_api_search_is_in_the_schema(client):
    assert "/api/v1/search/" in client.get("/api/schema/?format=json").json()["paths"]


def test_module_sources_are_searched(pages):
    """Modules contribute through hub_search_sources; the throwaway module contributes a
    Page queryset restricted to the snow page, which must not be listed twice."""
    from hub.plugins import hookimpl
    from hub.plugins.manager import get_plugin_manager

    class Source:
        @hookimpl
        def hub_search_sources(self):
            return [ContentPage.objects.live(), ContentPage]

    pm = get_plugin_manager()
    pm.register(Source(), name="search-source")
    try:
        titles = [hit.title for hit in search("déneigement", language="fr")]
    finally:
        pm.unregister(name="search-source")
    assert titles.count("Déneigement des rues") == 1


def test_elasticsearch_is_used_when_configured():
    code = "import hub.settings as s; print(s.WAGTAILSEARCH_BACKENDS['default']['BACKEND'])"
    env = {"PATH": "/usr/bin:/bin", "ELASTICSEARCH_URL": "http://127.0.0.1:9200"}
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True,
                         text=True, check=True, cwd=settings.BASE_DIR).stdout.strip()
    assert out == "wagtail.search.backends.elasticsearch8"


@pytest.mark.parametrize(("raw", "clean"), [('"unbalanced', "unbalanced"), ("NOT", "not"),
                                            ("l'eau (potable)*", "l eau potable"),
                                            ("  nid-de-poule ", "nid-de-poule"), ("%_", "")])
def test_queries_are_reduced_to_words(raw, clean):
    from hub.search import normalise_query

    assert normalise_query(raw) == clean


@pytest.mark.parametrize("query", ["nid de poule", "nids-de-poule", "NID DE POULE"])
def test_pothole_words_find_the_roads_category(site, query):
    hits = search(query, language="fr")
    assert "/fr/requetes/nouvelle/voirie/" in [hit.url for hit in hits]


@pytest.mark.parametrize("query", ["déneigement", "deneigement"])
def test_snow_removal_finds_the_category_and_the_news(site, query):
    hits = search(query, language="fr")
    kinds = {hit.kind for hit in hits}
    urls = [hit.url for hit in hits]
    assert "/fr/requetes/nouvelle/deneigement/" in urls
    assert any("actualit" in url for url in urls), urls
    assert len(kinds) >= 2


def test_english_visitors_find_categories_in_english(site):
    with translation.override("en"):
        hits = search("pothole", language="en")
    assert any(hit.url == "/en/requetes/nouvelle/voirie/" for hit in hits)
