"""The signed-in path (issue 14, item 6): Mon Espace and the app's own routes stay cheap
with the demo resident's real data, and what they show is never stale.

Mon Espace costs at most 8 queries as production runs it (``HUB_FRAGMENT_CACHE_SECONDS``
on): the session and the account, one query per personal panel (requests; subscription
with its topics and channels; messages received; services with favourites), the
alerts banner, and nothing for the news (public, kept a few seconds, refreshed by a
publication).  The personal panels are never cached, so every change — the resident's
own (a request filed, a topic chosen, a favourite added) or an agent's (a request's
status) — shows on the very next page; each is made here through the real view or
service.  Throughput is measured by ``bench/signed_in.py``, not asserted."""

from __future__ import annotations

import datetime
import json

import pytest
from django.core.cache import cache
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils.html import escape

from hub.models import User
from tests.conftest import bearer as make_bearer

MON_ESPACE = "/fr/mon-espace/"
RESIDENT = "resident@example.com"
QUERY_BUDGET = 8


@pytest.fixture(autouse=True)
def _production_fragment_cache(settings):
    settings.HUB_FRAGMENT_CACHE_SECONDS = 10  # DEBUG=0's default
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def resident(site):
    """The demo resident: four requests, a subscription (three topics and the emergency
    one, email and SMS), messages received."""
    return User.objects.get(email=RESIDENT)


@pytest.fixture
def resident_client(resident):
    client = Client()
    client.force_login(resident)
    return client


APP_SCOPES = "openid profile requetes:read alertes:read alertes:write"


def bearer(user, scope=APP_SCOPES) -> str:
    """The app's token with the scopes its signed-in screens need."""
    return make_bearer(user, scope)


def queries_of(client, path: str) -> tuple[int, str]:
    client.get(path)  # warm: templates, the fragment memo, the site root paths
    with CaptureQueriesContext(connection) as captured:
        response = client.get(path)
    assert response.status_code == 200, (path, response.status_code)
    return len(captured), response.content.decode()


@pytest.mark.django_db
def test_mon_espace_costs_at_most_8_queries_with_the_demo_residents_data(resident,
                                                                         resident_client):
    from modules.requetes.models import ServiceRequest

    count, html = queries_of(resident_client, MON_ESPACE)
    assert count <= QUERY_BUDGET, count
    # … and every panel shows the resident's own data, not an empty dashboard.
    for reference in ServiceRequest.objects.filter(citizen=resident).values_list(
            "reference", flat=True):
        assert reference in html
    assert "Déneigement" in html and "Texto" in html  # a topic, a channel
    assert "Messages reçus" in html
    assert "Dernières actualités" in html and "Mes services" in html


@pytest.mark.django_db
def test_mon_espace_queries_do_not_grow_with_the_residents_data(resident, resident_client):
    """One query per panel, whatever the number of topics, channels and messages."""
    from modules.alertes.models import Address, Delivery, Notice, Topic

    before, _html = queries_of(resident_client, MON_ESPACE)
    subscriber = resident.alert_subscriber
    subscriber.topics.add(*Topic.objects.all())
    Address.objects.create(subscriber=subscriber, channel="voice", value="+14505550142")
    for number in range(5):
        notice = Notice.objects.create(dedupe_key=f"test-panel-{number}", topic="requests",
                                       subject=f"Avis {number}", body="…", user=resident)
        Delivery.objects.create(notice=notice, subscriber=subscriber, channel="email",
                                address=RESIDENT)
    after, html = queries_of(resident_client, MON_ESPACE)
    assert after == before, (before, after)
    assert "Avis 4" in html


@pytest.mark.django_db
def test_a_request_filed_and_an_agents_status_change_show_at_once(resident, resident_client):
    from modules.requetes import services
    from modules.requetes.models import Category, ServiceRequest

    resident_client.get(MON_ESPACE)
    category = Category.objects.get(service_code="eclairage")
    filed = services.create_request(
        actor=resident, category=category, description="Lampadaire éteint rue Victoria.",
        latitude=45.2529, longitude=-74.1318, channel=ServiceRequest.Channel.WEB)
    html = resident_client.get(MON_ESPACE).content.decode()
    item = html[html.index(f">{filed.reference}</a>"):]
    assert item[:item.index("</li>")].endswith("Nouvelle")

    # An agent of the department acknowledges it: the resident sees it on the next page.
    agent = filed.department.agents.first()
    services.transition(filed, actor=agent, to_status="acknowledged")
    html = resident_client.get(MON_ESPACE).content.decode()
    item = html[html.index(f">{filed.reference}</a>"):]
    assert item[:item.index("</li>")].endswith("Prise en charge")


@pytest.mark.django_db
def test_topics_chosen_through_the_api_show_at_once(resident, resident_client):
    from modules.alertes.models import Topic

    resident_client.get(MON_ESPACE)
    extra = Topic.objects.filter(is_emergency=False).exclude(
        subscribers__user=resident).first()
    assert extra is not None
    app = Client(HTTP_AUTHORIZATION=f"Bearer {bearer(resident)}")
    mine = app.get("/api/v1/alert-subscription/").json()["topics"]
    response = app.patch("/api/v1/alert-subscription/preferences/",
                         json.dumps({"topics": [*mine, extra.slug]}),
                         content_type="application/json")
    assert response.status_code == 200, response.content
    assert escape(extra.name_fr) in resident_client.get(MON_ESPACE).content.decode()


@pytest.mark.django_db
def test_a_favourite_added_through_the_view_shows_at_once(resident, resident_client):
    from modules.liens_services.models import Favourite, ServiceLink

    Favourite.objects.filter(user=resident).delete()
    link = ServiceLink.objects.filter(is_active=True, locale__language_code="fr").last()
    html = resident_client.get(MON_ESPACE).content.decode()
    assert "(favori)" not in html
    response = resident_client.post(f"/fr/services-en-ligne/favoris/{link.pk}/ajouter/")
    assert response.status_code in (200, 302)
    html = resident_client.get(MON_ESPACE).content.decode()
    services_panel = html[html.index("Mes services"):]
    first_item = services_panel[services_panel.index("<li>"):services_panel.index("</li>")]
    assert link.title in first_item and "(favori)" in first_item  # favourites first


@pytest.mark.django_db
def test_a_news_page_published_shows_at_once_despite_the_fragment_memo(resident_client):
    from modules.actualites.models import NewsIndexPage, NewsPage

    resident_client.get(MON_ESPACE)  # the news panel is now memoized
    index = NewsIndexPage.objects.get(locale__language_code="fr")
    page = NewsPage(title="Collecte de sapins devancée", slug="collecte-sapins",
                    lead="Résumé", date=datetime.date(2030, 1, 2), live=False)
    index.add_child(instance=page)
    page.save_revision().publish()
    assert "Collecte de sapins devancée" in resident_client.get(MON_ESPACE).content.decode()


@pytest.mark.django_db
def test_another_resident_never_sees_the_demo_residents_data(resident, resident_client,
                                                             other_citizen):
    from modules.requetes.models import ServiceRequest

    resident_client.get(MON_ESPACE)  # the resident's page first, in the same processes
    other = Client()
    other.force_login(other_citizen)
    html = other.get(MON_ESPACE).content.decode()
    for reference in ServiceRequest.objects.filter(citizen=resident).values_list(
            "reference", flat=True):
        assert reference not in html
    assert "+14505550141" not in html and "Texto" not in html
    assert "Messages reçus" not in html


@pytest.mark.django_db
@pytest.mark.parametrize(("path", "budget"), [
    ("/api/v1/me/", 2),  # the token with its account, the departments
    ("/api/v1/requests/", 3),  # the token, the requests, their photos
    ("/api/v1/alert-subscription/", 5),  # token; subscriber and zone; topics; addresses;
])                                        # notice channels
def test_the_apps_routes_stay_within_their_query_budget(resident, path, budget):
    app = Client(HTTP_AUTHORIZATION=f"Bearer {bearer(resident)}")
    count, _body = queries_of(app, path)
    assert count <= budget, (path, count)
