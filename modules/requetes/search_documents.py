"""The service-request index in Elasticsearch (``elasticsearch.dsl``), used when
``ELASTICSEARCH_URL`` is set: the staff queue's text search and the dashboard's counts
then come from Elasticsearch instead of the database.

The document holds staff data (descriptions, addresses): the index is never exposed to
the public; only staff screens query it, always filtered by the departments the agent
may see.  The query builders are pure functions returning ``Search`` objects, so their
bodies are tested without a server; the hub keeps the index current
(``hub_search_documents``, ``manage.py search_index``).
"""

from __future__ import annotations

from collections.abc import Iterable

from django.conf import settings
from elasticsearch.dsl import (
    A,
    Date,
    Document,
    GeoPoint,
    Keyword,
    Q,
    Search,
    Text,
    analyzer,
    normalizer,
    token_filter,
)

from hub.search import SearchDocumentSource, elasticsearch_client

from .models import ServiceRequest

MAX_IDS = 1000

french_stemmer = token_filter("requetes_french_stemmer", type="stemmer", language="light_french")
french_elision = token_filter("requetes_french_elision", type="elision", articles_case=True,
                              articles=["l", "m", "t", "qu", "n", "s", "j", "d", "c",
                                        "jusqu", "quoiqu", "lorsqu", "puisqu"])
# "Déneigement", "DENEIGEMENT" and "déneiger" all find the same requests.
french_folded = analyzer("requetes_french", tokenizer="standard",
                         filter=[french_elision, "lowercase", "asciifolding", french_stemmer])
# References and codes are matched whole but regardless of case ("2026-000012").
folded_keyword = normalizer("requetes_folded", filter=["lowercase", "asciifolding"])


def index_name() -> str:
    prefix = getattr(settings, "ELASTICSEARCH_INDEX", "") or "espace_citoyen"
    return f"{prefix}_requetes"


class ServiceRequestDocument(Document):
    reference = Keyword(normalizer=folded_keyword)
    description = Text(analyzer=french_folded)
    category = Keyword()
    department = Keyword()
    status = Keyword()
    closure_reason = Keyword()
    created_at = Date()
    closed_at = Date()
    due_date = Date()
    location = GeoPoint()
    address = Text(analyzer=french_folded)

    class Index:
        name = index_name()
        settings = {"number_of_shards": 1, "number_of_replicas": 0}


def to_document(obj: ServiceRequest) -> ServiceRequestDocument:
    return ServiceRequestDocument(
        meta={"id": str(obj.pk)},
        reference=obj.reference,
        description=obj.description,
        category=obj.category.service_code,
        department=str(obj.department_id),
        status=obj.status,
        closure_reason=obj.closure_reason or None,
        created_at=obj.created_at,
        closed_at=obj.closed_at,
        due_date=obj.due_date,
        location={"lat": obj.latitude, "lon": obj.longitude},
        address=obj.address,
    )


def rows():
    return ServiceRequest.objects.select_related("category").order_by("pk")


SOURCE = SearchDocumentSource(document=ServiceRequestDocument, model=ServiceRequest,
                              queryset=rows, to_document=to_document)

SORTS = {
    "recent": [{"created_at": "desc"}],
    "oldest": [{"created_at": "asc"}],
    "due": [{"due_date": {"order": "asc", "missing": "_last"}}],
    "relevance": ["_score", {"created_at": "desc"}],
}


def _search(index: str | None) -> Search:
    return ServiceRequestDocument.search(index=index) if index else ServiceRequestDocument.search()


def _scoped(search: Search, department_ids: Iterable | None) -> Search:
    """Restrict to the departments an agent may see; ``None`` means all (administrators,
    intake agents), an empty list means none."""
    if department_ids is None:
        return search
    return search.filter("terms", department=[str(pk) for pk in department_ids])


def staff_search(text: str, *, department_ids: Iterable | None = None,
                 statuses: Iterable[str] | None = None,
                 categories: Iterable[str] | None = None, sort: str = "relevance",
                 size: int = MAX_IDS, index: str | None = None) -> Search:
    """The staff queue's search: every word of ``text`` in the reference, the address or
    the description (accents and case ignored), within the agent's departments."""
    search = _scoped(_search(index), department_ids)
    if text:
        search = search.query(Q("multi_match", query=text, operator="and",
                                type="cross_fields",
                                fields=["reference^5", "address^2", "description"]))
    if statuses:
        search = search.filter("terms", status=list(statuses))
    if categories:
        search = search.filter("terms", category=list(categories))
    return search.sort(*SORTS.get(sort, SORTS["relevance"])).source(False).extra(size=size)


def dashboard_aggregations(*, department_ids: Iterable | None = None,
                           since=None, index: str | None = None) -> Search:
    """Counts per status and per category, and requests created per week."""
    search = _scoped(_search(index), department_ids).extra(size=0)
    if since is not None:
        search = search.filter("range", created_at={"gte": since})
    search.aggs.bucket("by_status", A("terms", field="status", size=20))
    search.aggs.bucket("by_category", A("terms", field="category", size=200))
    search.aggs.bucket("per_week", A("date_histogram", field="created_at",
                                     calendar_interval="week", min_doc_count=0))
    return search


def matching_ids(text: str, *, department_ids: Iterable | None = None, client=None,
                 index: str | None = None) -> list[int]:
    """Primary keys of the requests matching ``text`` (best first, at most ``MAX_IDS``)."""
    client = client or elasticsearch_client()
    response = staff_search(text, department_ids=department_ids,
                            index=index).using(client).execute()
    return [int(hit.meta.id) for hit in response]


def dashboard_counts(*, department_ids: Iterable | None = None, since=None, client=None,
                     index: str | None = None) -> dict:
    """What the dashboard shows, from Elasticsearch: ``{"by_status": {status: n},
    "by_category": {service_code: n}, "per_week": [(week start ISO date, n), …]}``."""
    client = client or elasticsearch_client()
    response = dashboard_aggregations(department_ids=department_ids, since=since,
                                      index=index).using(client).execute()
    aggs = response.aggregations
    return {
        "by_status": {b.key: b.doc_count for b in aggs.by_status.buckets},
        "by_category": {b.key: b.doc_count for b in aggs.by_category.buckets},
        "per_week": [(b.key_as_string[:10], b.doc_count) for b in aggs.per_week.buckets],
    }
