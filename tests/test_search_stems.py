"""Site search (issue 13): French and English plurals and forms on both databases
("patinoire" finds "Patinoires extérieures", "rink" finds "Outdoor rinks"), accents
folded, and the alerts and service links found through their modules' hook.

Run on SQLite by default and on PostgreSQL with DATABASE_URL set; the stems are the
hub's own (``hub.search_stems``), the same on both."""

import pytest
from wagtail.models import Locale
from wagtail.search import index

from hub import search_stems
from hub.models import ContentPage, HomePage
from hub.search import search
from modules.alertes.models import Alert
from modules.liens_services.models import ServiceLink

pytestmark = pytest.mark.django_db


@pytest.fixture
def rinks(site):
    home_fr = HomePage.objects.get(locale__language_code="fr")
    page = home_fr.add_child(instance=ContentPage(
        title="Patinoires extérieures", slug="patinoires",
        body=[("paragraph", "<p>Les surfaces glacées sont entretenues chaque jour.</p>")]))
    page.save_revision().publish()
    english = page.copy_for_translation(Locale.objects.get(language_code="en"))
    english.title = "Outdoor rinks"
    english.body = [("paragraph", "<p>The ice surfaces are looked after every day.</p>")]
    english.save_revision().publish()
    return page, english


def titles(query, language):
    return [hit.title for hit in search(query, language=language)]


def test_the_stems_field_is_on_every_indexed_model():
    assert search_stems.installed()
    for model in index.get_indexed_models():
        if any(isinstance(f, index.SearchField) for f in model.get_search_fields()):
            assert any(isinstance(f, search_stems.StemsField)
                       for f in model.get_search_fields()), model


def test_stems_fold_accents_and_plurals():
    assert search_stems.stem("patinoire", "fr") == search_stems.stem("Patinoires", "fr")
    assert search_stems.stem("rink", "en") == search_stems.stem("rinks", "en")
    assert search_stems.stem("Extérieures", "fr") == search_stems.stem("exterieure", "fr")
    assert search_stems.stem("journaux", "fr") == search_stems.stem("journal", "fr")
    assert "patinoir" in search_stems.stems_of("<p>Patinoires extérieures</p>").split()


@pytest.mark.parametrize("query", ["patinoire", "patinoires", "Patinoire exterieure",
                                   "PATINOIRES EXTÉRIEURES", "exterieur"])
def test_french_forms_find_the_page(rinks, query):
    assert "Patinoires extérieures" in titles(query, "fr")


@pytest.mark.parametrize("query", ["rink", "rinks", "outdoor rink", "Rinks"])
def test_english_forms_find_the_page(rinks, query):
    found = titles(query, "en")
    assert "Outdoor rinks" in found
    assert "Patinoires extérieures" not in found  # the visitor's language only


def test_body_words_are_stemmed_too(rinks):
    assert "Patinoires extérieures" in titles("surface glacée", "fr")
    assert "Outdoor rinks" in titles("surface", "en")


def test_unrelated_words_find_nothing(rinks):
    assert "Patinoires extérieures" not in titles("piscine", "fr")
    assert "Patinoires extérieures" not in titles("patinoire piscine", "fr")  # every word


@pytest.fixture
def alerts(site):
    sent = Alert.objects.create(
        title_fr="Fermetures de rues pour le défilé", title_en="Street closures for the parade",
        body_fr="Plusieurs rues seront fermées samedi.", body_en="Several streets closed.",
        status=Alert.Status.SENT)
    draft = Alert.objects.create(
        title_fr="Fermeture brouillon secrète", body_fr="Pas encore envoyée.",
        status=Alert.Status.DRAFT)
    return sent, draft


def test_published_alerts_are_found_in_both_languages(alerts):
    sent, _draft = alerts
    hits = search("fermeture rue", language="fr")
    alert_hits = [h for h in hits if h.url.endswith(f"/{sent.pk}/")]
    assert [h.title for h in alert_hits] == ["Fermetures de rues pour le défilé"]
    assert alert_hits[0].summary == "Plusieurs rues seront fermées samedi."
    english = [h for h in search("street closure", language="en")
               if h.url.endswith(f"/{sent.pk}/")]
    assert english and english[0].title == "Street closures for the parade"


def test_draft_alerts_are_never_found(alerts):
    assert all("brouillon" not in hit.title.lower() for hit in search("brouillon", "fr"))
    assert all("brouillon" not in hit.title.lower()
               for hit in search("fermeture", "fr"))


@pytest.fixture
def links(site):
    fr = Locale.objects.get(language_code="fr")
    active = ServiceLink.objects.create(
        title="Inscriptions aux activités de loisirs", description="Cours et camps de jour",
        url="https://loisirs.example.org/", locale=fr)
    hidden = ServiceLink.objects.create(
        title="Inscriptions archivées", url="https://vieux.example.org/", locale=fr,
        is_active=False)
    return active, hidden


def test_service_links_are_found(links):
    hits = search("inscription loisir", language="fr")
    assert [(h.title, h.url) for h in hits if "example.org" in h.url] == [
        ("Inscriptions aux activités de loisirs", "https://loisirs.example.org/")]
    assert all("vieux" not in hit.url for hit in search("inscriptions", "fr"))
    assert any(h.url == "https://loisirs.example.org/" for h in search("activite", "fr"))
