"""The service-request index: the mappings and query bodies elasticsearch-dsl generates,
the staff search on the database (the default path), the fallback when Elasticsearch
does not answer, and live tests against a real Elasticsearch when ``ELASTICSEARCH_URL``
is set (skipped otherwise: no server runs in this workplace)."""

import datetime
import os
import socket
import uuid

import pytest
from django.test import override_settings
from django.utils import timezone

from hub import search as hub_search
from modules.requetes import search_documents as sd
from modules.requetes import services
from modules.requetes.models import ServiceRequest
from tests.requetes.conftest import INSIDE

ANALYZED = {"analyzer": "requetes_french", "type": "text"}

EXPECTED_INDEX = {
    "settings": {
        "number_of_shards": 1,
        "number_of_replicas": 0,
        "analysis": {
            "analyzer": {"requetes_french": {
                "type": "custom", "tokenizer": "standard",
                "filter": ["requetes_french_elision", "lowercase", "asciifolding",
                           "requetes_french_stemmer"]}},
            "filter": {
                "requetes_french_elision": {
                    "type": "elision", "articles_case": True,
                    "articles": ["l", "m", "t", "qu", "n", "s", "j", "d", "c", "jusqu",
                                 "quoiqu", "lorsqu", "puisqu"]},
                "requetes_french_stemmer": {"type": "stemmer", "language": "light_french"},
            },
            "normalizer": {"requetes_folded": {"type": "custom",
                                               "filter": ["lowercase", "asciifolding"]}},
        },
    },
    "mappings": {"properties": {
        "reference": {"type": "keyword", "normalizer": "requetes_folded"},
        "description": ANALYZED,
        "category": {"type": "keyword"},
        "department": {"type": "keyword"},
        "status": {"type": "keyword"},
        "closure_reason": {"type": "keyword"},
        "created_at": {"type": "date"},
        "closed_at": {"type": "date"},
        "due_date": {"type": "date"},
        "location": {"type": "geo_point"},
        "address": ANALYZED,
    }},
}


def test_index_mappings_and_french_analysis():
    assert sd.ServiceRequestDocument._index.to_dict() == EXPECTED_INDEX
    assert sd.ServiceRequestDocument._index._name == "espace_citoyen_requetes"


def test_staff_search_body_for_a_department_agent():
    body = sd.staff_search("nid de poule", department_ids=[3, 7], statuses=["new"],
                           categories=["voirie"]).to_dict()
    assert body == {
        "query": {"bool": {
            "must": [{"multi_match": {
                "query": "nid de poule", "operator": "and", "type": "cross_fields",
                "fields": ["reference^5", "address^2", "description"]}}],
            "filter": [{"terms": {"department": ["3", "7"]}},
                       {"terms": {"status": ["new"]}},
                       {"terms": {"category": ["voirie"]}}],
        }},
        "sort": ["_score", {"created_at": "desc"}],
        "size": 1000,
        "_source": False,
    }


def test_staff_search_body_for_an_administrator_and_sorts():
    body = sd.staff_search("2026-000012", sort="due").to_dict()
    assert body == {
        "query": {"multi_match": {
            "query": "2026-000012", "operator": "and", "type": "cross_fields",
            "fields": ["reference^5", "address^2", "description"]}},
        "sort": [{"due_date": {"order": "asc", "missing": "_last"}}],
        "size": 1000, "_source": False,
    }
    # An unknown sort falls back to relevance; an agent without department sees nothing.
    assert sd.staff_search("x", sort="drop table")._sort == ["_score", {"created_at": "desc"}]
    assert sd.staff_search("x", department_ids=[]).to_dict()["query"]["bool"]["filter"] == [
        {"terms": {"department": []}}]


def test_dashboard_aggregations_body():
    since = datetime.date(2026, 1, 1)
    body = sd.dashboard_aggregations(department_ids=[2], since=since).to_dict()
    assert body == {
        "query": {"bool": {"filter": [{"terms": {"department": ["2"]}},
                                      {"range": {"created_at": {"gte": since}}}]}},
        "aggs": {
            "by_status": {"terms": {"field": "status", "size": 20}},
            "by_category": {"terms": {"field": "category", "size": 200}},
            "per_week": {"date_histogram": {"field": "created_at", "calendar_interval": "week",
                                            "min_doc_count": 0}},
        },
        "size": 0,
    }
    assert sd.dashboard_aggregations().to_dict()["size"] == 0


ANSWERS = {"eclairage": {"poteau": 42}, "animaux": {"etat": "nuisance"}}


def _create(citizen, category, description, address=""):
    return services.create_request(actor=citizen, category=category, description=description,
                                   latitude=INSIDE[0], longitude=INSIDE[1], address=address,
                                   answers=ANSWERS[category.service_code])


def test_document_built_from_a_request(citizen, lighting):
    obj = _create(citizen, lighting, "Lampadaire éteint depuis lundi", "12, rue Élisabeth")
    doc = sd.to_document(obj)
    assert doc.meta.id == str(obj.pk)
    assert doc.to_dict() == {
        "reference": obj.reference, "description": "Lampadaire éteint depuis lundi",
        "category": "eclairage", "department": str(lighting.department_id), "status": "new",
        "created_at": obj.created_at, "due_date": obj.due_date,
        "location": {"lat": INSIDE[0], "lon": INSIDE[1]}, "address": "12, rue Élisabeth",
    }


# --- the database path (no Elasticsearch configured) -------------------------------------

@pytest.fixture
def requests_(citizen, lighting, animals):
    return {
        "lamp": _create(citizen, lighting, "Lampadaire éteint devant l'école",
                        "125, rue Saint-Éloi"),
        "snow": _create(citizen, lighting, "Déneigement du trottoir oublié",
                        "40, boulevard Mgr-Langlois"),
        "dog": _create(citizen, animals, "Chien errant près du parc",
                       "8, rue Victoria"),
    }


def _found(user, text):
    qs = services.search_requests(services.staff_queryset(user), text, user)
    return set(qs.values_list("reference", flat=True))


def test_database_search_by_reference_address_and_text(requests_, administrator):
    lamp, snow, dog = requests_["lamp"], requests_["snow"], requests_["dog"]
    assert _found(administrator, lamp.reference) == {lamp.reference}
    assert _found(administrator, lamp.reference.lower()) == {lamp.reference}
    assert _found(administrator, "rue victoria") == {dog.reference}
    assert _found(administrator, "trottoir") == {snow.reference}
    assert _found(administrator, "") == {lamp.reference, snow.reference, dog.reference}
    # Every word must match, in any of the fields.
    assert _found(administrator, "lampadaire saint-éloi") == {lamp.reference}
    assert _found(administrator, "lampadaire victoria") == set()


def test_database_search_ignores_accents_and_case(requests_, administrator):
    snow, lamp = requests_["snow"], requests_["lamp"]
    for text in ("deneigement", "DÉNEIGEMENT", "Déneigement", "dEnEiGeMeNt"):
        assert _found(administrator, text) == {snow.reference}, text
    assert _found(administrator, "saint-eloi ecole") == {lamp.reference}


def test_database_search_stays_within_the_agents_departments(requests_, agent_a, agent_b):
    lamp, snow, dog = requests_["lamp"], requests_["snow"], requests_["dog"]
    # Lighting belongs to agent A's department, animals to agent B's.
    assert _found(agent_a, "rue") == {lamp.reference}
    assert _found(agent_b, "rue") == {dog.reference}
    assert _found(agent_b, snow.reference) == set()


def test_database_search_nasty_input(requests_, administrator):
    for text in ("%", "_", "' OR 1=1 --", "\\", "a" * 5000, "\x00", "   "):
        found = _found(administrator, text)
        assert isinstance(found, set)
    assert _found(administrator, "%") == set()
    assert _found(administrator, "_") == set()


def test_staff_queue_view_searches_by_reference_and_accentless_text(client, requests_,
                                                                    administrator):
    client.force_login(administrator)
    response = client.get("/admin/requetes/", {"q": requests_["dog"].reference,
                                               "status": "all"})
    assert response.status_code == 200
    body = response.content.decode()
    assert requests_["dog"].reference in body
    assert requests_["lamp"].reference not in body
    body = client.get("/admin/requetes/", {"q": "DENEIGEMENT trottoir", "status": "all"}
                      ).content.decode()
    assert requests_["snow"].reference in body
    assert requests_["dog"].reference not in body


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_elasticsearch_down_falls_back_to_the_database(requests_, administrator, caplog):
    """A configured Elasticsearch that refuses connections (a real closed port) does not
    break the queue: the database answers and the failure is logged."""
    url = f"http://127.0.0.1:{_closed_port()}"
    with override_settings(ELASTICSEARCH_URL=url, ELASTICSEARCH_TIMEOUT=2):
        assert _found(administrator, "deneigement") == {requests_["snow"].reference}
    assert "Elasticsearch request search failed" in caplog.text


# --- live Elasticsearch -------------------------------------------------------------------

LIVE_URL = os.environ.get("ELASTICSEARCH_URL", "")
live = pytest.mark.skipif(not LIVE_URL, reason="ELASTICSEARCH_URL is not set: no "
                          "Elasticsearch server to run the live index tests against")


@pytest.fixture
def live_index(requests_):
    from elasticsearch.helpers import bulk

    client = hub_search._client(LIVE_URL, 10.0)
    name = f"test_requetes_{uuid.uuid4().hex[:10]}"
    sd.ServiceRequestDocument.init(index=name, using=client)
    actions = []
    for row in sd.rows():
        action = sd.to_document(row).to_dict(include_meta=True)
        action["_index"] = name
        actions.append(action)
    bulk(client, actions, refresh="wait_for")
    yield client, name
    client.indices.delete(index=name, ignore_unavailable=True)


@live
def test_live_staff_search_is_accent_insensitive_and_stemmed(live_index, requests_):
    client, name = live_index
    snow, lamp, dog = requests_["snow"], requests_["lamp"], requests_["dog"]

    def ids(text, **kwargs):
        return set(sd.matching_ids(text, client=client, index=name, **kwargs))

    assert ids("DENEIGEMENT") == {snow.pk}
    assert ids("lampadaires") == {lamp.pk}  # French stemming: plural finds singular
    assert ids(lamp.reference.lower()) == {lamp.pk}
    assert ids("victoria") == {dog.pk}
    assert ids("rue", department_ids=[dog.department_id]) == {dog.pk}
    assert ids("rue", department_ids=[]) == set()


@live
def test_live_dashboard_counts(live_index, requests_):
    client, name = live_index
    counts = sd.dashboard_counts(client=client, index=name,
                                 since=timezone.now() - datetime.timedelta(days=1))
    assert counts["by_status"] == {"new": 3}
    assert counts["by_category"] == {"eclairage": 2, "animaux": 1}
    assert sum(n for _week, n in counts["per_week"]) == 3


@live
def test_live_search_index_command(requests_):
    from django.core.management import call_command

    with override_settings(ELASTICSEARCH_URL=LIVE_URL):
        call_command("search_index")
        client = hub_search.elasticsearch_client()
        found = set(sd.matching_ids("deneigement", client=client))
    assert requests_["snow"].pk in found
    assert ServiceRequest.objects.filter(pk__in=found).exists()
