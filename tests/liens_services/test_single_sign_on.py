"""Service links tied to single sign-on clients: chosen in the admin, shown on the
directory as using the city account, and named on "Services using my account"."""

from __future__ import annotations

import datetime
import secrets

import pytest
from django.utils import timezone
from oauth2_provider.models import get_access_token_model, get_application_model
from wagtail.models import Locale

from hub.plugins.manager import collect
from modules.liens_services import services
from modules.liens_services.models import ServiceLink

ADD_URL = "/admin/snippets/liens_services/servicelink/add/?locale=fr"
BADGE = "Compte de l’Espace citoyen"


def _application(name):
    return get_application_model().objects.create(
        name=name, client_type="confidential", authorization_grant_type="authorization-code",
        redirect_uris=f"https://{name.lower()}.example/callback", algorithm="RS256")


def _grant(user, application, scope="openid profile"):
    get_access_token_model().objects.create(
        user=user, application=application, token=secrets.token_urlsafe(24), scope=scope,
        expires=timezone.now() + datetime.timedelta(hours=1))


@pytest.fixture
def links(site):
    fr = Locale.objects.get(language_code="fr")
    return {link.title: link for link in ServiceLink.objects.filter(locale=fr)}


@pytest.fixture
def sport_plus(links):
    """Sport-Plus (demo: not marked as using the city account) tied to a client, in
    French and English."""
    application = _application("SportPlus")
    link = links["Sport-Plus"]
    assert not link.uses_city_account
    ServiceLink.objects.filter(translation_key=link.translation_key).update(
        oidc_application=application)
    return application, link


def test_admin_form_has_the_client_field_and_saves_the_choice(client, links, administrator):
    application = _application("Urbanisme")
    client.force_login(administrator)
    form = client.get(ADD_URL)
    assert form.status_code == 200
    html = form.content.decode()
    assert 'name="oidc_application"' in html

    data = {"title": "Permis en ligne", "description": "Demandes de permis",
            "url": "https://permis.example/", "category": "permits", "icon": "link",
            "oidc_application": str(application.pk), "is_active": "on", "sort_order": "5"}
    response = client.post(ADD_URL, data)
    assert response.status_code == 302, response.content.decode()[:2000]
    link = ServiceLink.objects.get(title="Permis en ligne")
    assert link.oidc_application == application
    assert link.signs_in_with_city_account

    # An unknown client is a form error, nothing is saved.
    response = client.post(ADD_URL, {**data, "title": "Autre", "oidc_application": "999999"})
    assert response.status_code == 200
    assert not ServiceLink.objects.filter(title="Autre").exists()


def test_directory_marks_services_signed_in_with_the_city_account(client, links, sport_plus):
    html = client.get("/fr/services-en-ligne/").content.decode()
    tile = html[html.index(">Sport-Plus"):]
    tile = tile[:tile.index("</li>")]
    assert BADGE in tile
    not_sso = html[html.index(">Actualités de la Ville"):]
    assert BADGE not in not_sso[:not_sso.index("</li>")]


def test_authorized_services_names_the_linked_service(client, links, sport_plus, citizen):
    application, link = sport_plus
    unlinked = _application("Bibliotheque")
    _grant(citizen, application)
    _grant(citizen, unlinked, scope="openid")
    client.force_login(citizen)
    html = client.get("/fr/compte/services-autorises/").content.decode()
    assert "<h2>Sport-Plus</h2>" in html
    assert f'href="{link.url}"' in html
    assert "<h2>Bibliotheque</h2>" in html  # no link: the client's own name
    assert "<h2>SportPlus</h2>" not in html


def test_authorized_services_uses_the_visitors_language(client, links, sport_plus, citizen):
    application, link = sport_plus
    english = link.get_translation(Locale.objects.get(language_code="en"))
    english.title = "Sport-Plus (leisure registration)"
    english.save()
    _grant(citizen, application)
    client.force_login(citizen)
    html = client.get("/en/compte/services-autorises/").content.decode()
    assert "<h2>Sport-Plus (leisure registration)</h2>" in html


def test_inactive_links_and_other_clients_are_not_named(links, sport_plus):
    application, link = sport_plus
    other = _application("Autre")
    assert [s["application_id"] for s in services.services_for_clients([other.pk])] == []
    ServiceLink.objects.filter(translation_key=link.translation_key).update(is_active=False)
    assert services.services_for_clients([application.pk]) == []


def test_hook_answers_in_one_query(links, sport_plus, django_assert_num_queries):
    application, _link = sport_plus
    clients = [application.pk] + [_application(f"C{i}").pk for i in range(5)]
    with django_assert_num_queries(1):
        answer = collect("hub_oauth_client_services", application_ids=clients)
    assert [(a["application_id"], a["title"]) for a in answer] == [(application.pk,
                                                                    "Sport-Plus")]
