"""Hub-wide search: the site's pages plus what each module makes searchable.

Modules contribute querysets through ``hub_search_sources``; the hub runs Wagtail's search
backend on each (the database backend by default: SQLite FTS5 here, PostgreSQL full-text
in production with an accent-folding French configuration, see migration
``hub.0005_search_unaccent``; Elasticsearch/OpenSearch when ``ELASTICSEARCH_URL`` is set).
Accents and case never matter: "déneigement", "DENEIGEMENT" and "deneigement" match.
French and English word forms match on both databases ("patinoire" finds "Patinoires",
"rink" finds "rinks"): the hub indexes and queries Snowball stems, see ``search_stems``.
"""

from __future__ import annotations

import functools
import logging
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db.models import Model, QuerySet
from django.utils import translation
from wagtail.models import Locale, Page
from wagtail.search.backends import get_search_backend

from hub import search_stems
from hub.plugins.manager import collect

MAX_QUERY_LENGTH = 200
PER_SOURCE = 20


@dataclass
class SearchHit:
    title: str
    url: str
    kind: str
    summary: str

    def as_dict(self) -> dict:
        return {"title": self.title, "url": self.url, "type": self.kind,
                "summary": self.summary}


def _queryset(source) -> QuerySet | None:
    """A module's source as a queryset; pages are always restricted to live, public ones."""
    if isinstance(source, type) and issubclass(source, Model):
        source = source._default_manager.all()
    if not isinstance(source, QuerySet):
        return None
    if issubclass(source.model, Page):
        source = source.live().public()
    return source


def _in_language(queryset: QuerySet, locale: Locale | None) -> QuerySet:
    """Translatable content is searched in the visitor's language only."""
    model = queryset.model
    if locale is not None and any(f.name == "locale" for f in model._meta.fields):
        return queryset.filter(locale=locale)
    return queryset


def _hit(obj, request) -> SearchHit | None:
    if isinstance(obj, Page):
        page = obj.specific
        url = page.get_url(request)
        summary = page.search_description or ""
        title = page.title
    else:
        get_url = getattr(obj, "get_absolute_url", None)
        url = get_url() if callable(get_url) else ""
        title = getattr(obj, "title", None) or getattr(obj, "name", None) or str(obj)
        if callable(title):  # e.g. a model whose title() is in the active language
            title = title()
        summary = getattr(obj, "search_summary", "") or getattr(obj, "description", "")
        summary = str((summary() if callable(summary) else summary) or "")
    if not url:
        return None
    return SearchHit(title=str(title), url=url, kind=str(obj._meta.verbose_name),
                     summary=summary[:300])


def normalise_query(query: str) -> str:
    """Words only: search-engine syntax (quotes, parentheses, AND/OR/NOT, wildcards) is
    not offered to residents, and half-typed syntax must not reach the backend."""
    words = re.sub(r"[^\w\s-]", " ", query or "", flags=re.UNICODE).replace("_", " ").split()
    return " ".join(word.strip("-") for word in words if word.strip("-")).lower()


def search(query: str, language: str = "fr", request=None, limit: int = 40) -> list[SearchHit]:
    """Search every public source in ``language``; returns at most ``limit`` hits."""
    query = normalise_query((query or "")[:MAX_QUERY_LENGTH])
    if not query:
        return []
    locale = Locale.objects.filter(language_code=language).first()
    backend = get_search_backend()
    stemmed = search_stems.installed()
    sources = [Page.objects.live().public().filter(depth__gt=1)]
    sources += collect("hub_search_sources")
    hits: list[SearchHit] = []
    seen: set[tuple[str, int]] = set()
    for source in sources:
        queryset = _queryset(source)
        if queryset is None:
            continue
        queryset = _in_language(queryset, locale)
        if stemmed:
            results = backend.search(search_stems.stemmed_query(query, language), queryset)
        else:
            results = backend.search(query, queryset, operator="and")
        for obj in results[:PER_SOURCE]:
            key = ("page" if isinstance(obj, Page) else obj._meta.label, obj.pk)
            if key in seen:
                continue
            seen.add(key)
            with translation.override(language):  # titles and links in that language
                hit = _hit(obj, request)
            if hit is not None:
                hits.append(hit)
            if len(hits) >= limit:
                return hits
    return hits


# --- Elasticsearch documents contributed by modules (``hub_search_documents``) ----------

logger = logging.getLogger(__name__)


@dataclass
class SearchDocumentSource:
    """One index a module keeps: what ``hub_search_documents`` returns.

    ``document`` is an ``elasticsearch.dsl.Document`` class; ``queryset()`` returns the
    rows to index (with what ``to_document`` reads already selected, so a bulk run does
    not query per row); ``to_document(row)`` builds the document with ``meta.id`` set.
    """

    document: type
    model: type[Model]
    queryset: Callable[[], QuerySet]
    to_document: Callable[[Any], Any]


def elasticsearch_enabled() -> bool:
    return bool(getattr(settings, "ELASTICSEARCH_URL", ""))


@functools.cache
def _client(url: str, timeout: float):
    from elasticsearch import Elasticsearch

    return Elasticsearch(url, request_timeout=timeout, retry_on_timeout=False, max_retries=1)


def elasticsearch_client():
    """The process's client for ``ELASTICSEARCH_URL`` (one connection pool per process),
    or ``None`` when no Elasticsearch is configured."""
    if not elasticsearch_enabled():
        return None
    return _client(settings.ELASTICSEARCH_URL,
                   float(getattr(settings, "ELASTICSEARCH_TIMEOUT", 5)))


def document_sources() -> list[SearchDocumentSource]:
    """The documents enabled modules keep indexed; none when Elasticsearch is off."""
    if not elasticsearch_enabled():
        return []
    return [source for source in collect("hub_search_documents")
            if isinstance(source, SearchDocumentSource)]


def create_index(source: SearchDocumentSource, *, client=None, recreate: bool = False) -> None:
    """Create the source's index with its mappings and analysis (kept when it exists,
    unless ``recreate``)."""
    client = client or elasticsearch_client()
    index = source.document._index
    if recreate and index.exists(using=client):
        index.delete(using=client)
    if not index.exists(using=client):
        source.document.init(using=client)


def index_all(source: SearchDocumentSource, *, client=None, chunk_size: int = 500) -> int:
    """Bulk-index every row of ``source``; returns how many documents were sent."""
    from elasticsearch.helpers import bulk

    client = client or elasticsearch_client()
    actions = (source.to_document(row).to_dict(include_meta=True)
               for row in source.queryset().iterator(chunk_size=chunk_size))
    sent, _errors = bulk(client, actions, chunk_size=chunk_size, refresh="wait_for")
    return sent


def _sync_row(source: SearchDocumentSource, pk) -> None:
    """Index the row ``pk`` as it is now in the database, or remove it when it is gone.
    A failing Elasticsearch is logged: the write that triggered this already committed,
    and ``manage.py search_index`` catches the index up."""
    try:
        client = elasticsearch_client()
        row = source.queryset().filter(pk=pk).first()
        if row is None:
            client.delete(index=source.document._index._name, id=str(pk), ignore_status=404)
        else:
            source.to_document(row).save(using=client)
    except Exception:
        logger.exception("Elasticsearch: could not update %s %s", source.model._meta.label, pk)


def connect_document_signals() -> None:
    """Keep every contributed index current: after a save or delete commits, the row is
    re-indexed or removed.  Called at start-up when Elasticsearch is configured."""
    from django.db import transaction
    from django.db.models.signals import post_delete, post_save

    for source in document_sources():
        def changed(sender, instance, _source=source, **kwargs):
            pk = instance.pk  # read now: Django clears it once a delete is done
            transaction.on_commit(lambda: _sync_row(_source, pk))

        post_save.connect(changed, sender=source.model, weak=False,
                          dispatch_uid=f"hub.search.save.{source.model._meta.label}")
        post_delete.connect(changed, sender=source.model, weak=False,
                            dispatch_uid=f"hub.search.delete.{source.model._meta.label}")
