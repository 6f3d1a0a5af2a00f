"""Module `liens_services`: the directory (categories, search, bad input), favourites
(authorization, CSRF), "Mes services", export/erase, search sources and demo."""

from __future__ import annotations

import pytest
from django.test import Client
from wagtail.models import Locale

from hub.plugins.manager import collect
from modules.liens_services import demo as links_demo
from modules.liens_services.models import Favourite, ServiceLink

INDEX = "/fr/services-en-ligne/"


@pytest.fixture
def links(site):
    fr = Locale.objects.get(language_code="fr")
    return {link.title: link for link in ServiceLink.objects.filter(locale=fr)}


def _add_url(link):
    return f"/fr/services-en-ligne/favoris/{link.pk}/ajouter/"


def _remove_url(link):
    return f"/fr/services-en-ligne/favoris/{link.pk}/retirer/"


# --- models and demo ---------------------------------------------------------------------

def test_demo_links_in_both_languages(links):
    assert set(links) == {"Demandes en urbanisme", "Rôle d’évaluation foncière",
                          "Sport-Plus", "Actualités de la Ville"}
    en = Locale.objects.get(language_code="en")
    roll = links["Rôle d’évaluation foncière"].get_translation(en)
    assert roll.title == "Property assessment roll"
    assert roll.category == "taxes" and roll.uses_city_account and roll.open_in_new_tab
    assert links["Actualités de la Ville"].get_translation(en).url.endswith("/en/news/")


def test_demo_is_idempotent(links):
    count = ServiceLink.objects.count()
    links_demo.load()
    links_demo.load()
    assert ServiceLink.objects.count() == count == 8


# --- the directory -----------------------------------------------------------------------

def test_directory_in_french_and_english(client, links):
    content = client.get(INDEX).content.decode()
    for text in ["Autres services en ligne", "Demandes en urbanisme", "Sport-Plus",
                 "Rôle d’évaluation foncière", "Permis", "Loisirs"]:
        assert text in content
    english = client.get("/en/services-en-ligne/").content.decode()
    assert "Property assessment roll" in english
    assert "Rôle d’évaluation" not in english


def test_new_tab_links_say_so_and_use_noopener(client, links):
    content = client.get("/en/services-en-ligne/").content.decode()
    assert ('href="https://www.sport-plus-online.com/" target="_blank" '
            'rel="noopener noreferrer">Sport-Plus <span class="field__help">'
            '(opens in a new tab)</span></a>') in content
    assert 'href="https://www.ville.valleyfield.qc.ca/services-aux-citoyens/urbanisme/" ' \
           'rel="noopener">Urban-planning requests</a>' in content


def test_category_filter(client, links):
    content = client.get(INDEX + "?categorie=leisure").content.decode()
    assert "Sport-Plus" in content
    assert "Demandes en urbanisme" not in content


def test_search_ignores_accents_and_case(client, links):
    for query in ["evaluation", "ÉVALUATION", "rôle  évaluation"]:
        content = client.get(INDEX, {"q": query}).content.decode()
        assert "Rôle d’évaluation foncière" in content, query
        assert "Sport-Plus" not in content, query
    english = client.get("/en/services-en-ligne/", {"q": "day camp"}).content.decode()
    assert "Sport-Plus" in english and "Property assessment roll" not in english


def test_search_and_category_combined(client, links):
    content = client.get(INDEX, {"q": "camp", "categorie": "permits"}).content.decode()
    assert "Aucun service ne correspond à votre recherche." in content


@pytest.mark.parametrize("params", [
    {"q": "' OR 1=1 --"}, {"q": "<script>alert(1)</script>"}, {"q": "%00\x00"},
    {"q": "Sport-Plus\"; DROP TABLE liens_services_servicelink; --"},
])
def test_injection_like_queries_find_nothing_and_never_fail(client, links, params):
    response = client.get(INDEX, params)
    assert response.status_code == 200
    content = response.content.decode()
    assert "<script>alert(1)" not in content
    assert "Sport-Plus</a>" not in content
    assert ServiceLink.objects.count() == 8


@pytest.mark.parametrize("params, message", [
    ({"categorie": "inconnue"}, "Cette catégorie n’existe pas."),
    ({"categorie": "<script>"}, "Cette catégorie n’existe pas."),
    ({"q": "x" * 101}, "La recherche est limitée à 100 caractères."),
])
def test_bad_filters_are_a_clear_400(client, links, params, message):
    response = client.get(INDEX, params)
    assert response.status_code == 400
    content = response.content.decode()
    assert message in content
    assert "<script>" not in content.split("</head>", 1)[1].replace(
        '<script nonce="', "")


def test_inactive_links_are_hidden(client, links):
    sport = links["Sport-Plus"]
    sport.is_active = False
    sport.save()
    assert "Sport-Plus" not in client.get(INDEX).content.decode()


def test_post_to_the_directory_is_refused(client, links):
    assert client.post(INDEX).status_code == 405


# --- favourites --------------------------------------------------------------------------

def test_anonymous_is_sent_to_sign_in(client, links):
    response = client.post(_add_url(links["Sport-Plus"]))
    assert response.status_code == 302
    assert response["Location"].startswith("/fr/compte/login/?next=")
    assert not Favourite.objects.exists()


def test_get_changes_nothing(client, links, citizen):
    client.force_login(citizen)
    assert client.get(_add_url(links["Sport-Plus"])).status_code == 405
    assert not Favourite.objects.exists()


def test_add_and_remove_own_favourite(client, links, citizen):
    client.force_login(citizen)
    sport = links["Sport-Plus"]
    response = client.post(_add_url(sport))
    assert response.status_code == 302 and response["Location"] == INDEX
    client.post(_add_url(sport))  # twice: still one
    assert Favourite.objects.filter(user=citizen).count() == 1
    assert "Retirer «\u00a0Sport-Plus\u00a0» de mes services" in client.get(INDEX).content.decode()
    # The English version of the same link is the same favourite.
    english = sport.get_translation(Locale.objects.get(language_code="en"))
    client.post(f"/en/services-en-ligne/favoris/{english.pk}/ajouter/")
    assert Favourite.objects.filter(user=citizen).count() == 1
    client.post(f"/en/services-en-ligne/favoris/{english.pk}/retirer/")
    assert not Favourite.objects.filter(user=citizen).exists()


def test_another_users_favourite_cannot_be_removed(client, links, citizen, other_citizen):
    sport = links["Sport-Plus"]
    Favourite.objects.create(user=citizen, link=sport)
    client.force_login(other_citizen)
    response = client.post(_remove_url(sport), follow=True)
    assert response.status_code == 200
    assert "ne fait pas partie de vos favoris" in response.content.decode()
    assert Favourite.objects.filter(user=citizen, link=sport).exists()


def test_csrf_is_required(links, citizen):
    client = Client(enforce_csrf_checks=True)
    client.force_login(citizen)
    assert client.post(_add_url(links["Sport-Plus"])).status_code == 403
    assert not Favourite.objects.exists()


def test_unknown_or_inactive_link_is_404(client, links, citizen):
    client.force_login(citizen)
    assert client.post("/fr/services-en-ligne/favoris/999999/ajouter/").status_code == 404
    sport = links["Sport-Plus"]
    sport.is_active = False
    sport.save()
    assert client.post(_add_url(sport)).status_code == 404


@pytest.mark.parametrize("target, expected", [
    ("/fr/mon-espace/", "/fr/mon-espace/"),
    ("https://evil.example.com/", INDEX),
    ("//evil.example.com/", INDEX),
    ("javascript:alert(1)", INDEX),
])
def test_next_only_goes_to_this_site(client, links, citizen, target, expected):
    client.force_login(citizen)
    response = client.post(_add_url(links["Sport-Plus"]), {"next": target})
    assert response["Location"] == expected


def test_my_services_panel_lists_favourites_first(client, links, citizen, other_citizen):
    Favourite.objects.create(user=citizen, link=links["Actualités de la Ville"])
    Favourite.objects.create(user=other_citizen, link=links["Sport-Plus"])
    client.force_login(citizen)
    content = client.get("/fr/mon-espace/").content.decode()
    panel = content[content.index("Mes services"):]
    assert panel.index("Actualités de la Ville") < panel.index("Demandes en urbanisme")
    assert panel.index("Demandes en urbanisme") < panel.index("Sport-Plus")
    english = client.get("/en/mon-espace/").content.decode()
    panel = english[english.index("My services"):]
    assert panel.index("City news") < panel.index("Urban-planning requests")


# --- privacy ------------------------------------------------------------------------------

def test_export_and_erase(links, citizen, other_citizen):
    from hub.accounts.services import delete_account, export_user_data

    Favourite.objects.create(user=citizen, link=links["Sport-Plus"])
    Favourite.objects.create(user=other_citizen, link=links["Sport-Plus"])
    data = export_user_data(citizen)["modules"]["liens_services"]
    assert [f["title"] for f in data["favourites"]] == ["Sport-Plus"]
    assert "liens_services" not in export_user_data(
        type(citizen).objects.create_user(email="vide@example.com", password="x" * 12)
    )["modules"]
    delete_account(citizen)
    assert not Favourite.objects.filter(user__email="citoyenne@example.com").exists()
    assert Favourite.objects.filter(user=other_citizen).count() == 1


# --- search sources -----------------------------------------------------------------------

def test_search_sources_are_active_links(links):
    sport = links["Sport-Plus"]
    sources = [s for s in collect("hub_search_sources")
               if getattr(s, "model", None) is ServiceLink]
    assert len(sources) == 1
    assert {link.title for link in sources[0].search("Sport-Plus")} >= {"Sport-Plus"}
    sport.is_active = False
    sport.save()
    assert sport.pk not in sources[0].values_list("pk", flat=True)


# --- admin ----------------------------------------------------------------------------------

def test_editors_manage_service_links_citizens_cannot(client, links, editor, citizen):
    client.force_login(editor)
    assert client.get("/admin/snippets/liens_services/servicelink/").status_code == 200
    client.force_login(citizen)
    response = client.get("/admin/snippets/liens_services/servicelink/")
    assert response.status_code == 302
