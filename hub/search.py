"""Hub-wide search: the site's pages plus what each module makes searchable.

Modules contribute querysets through ``hub_search_sources``; the hub runs Wagtail's search
backend on each (the database backend by default: SQLite FTS5 here, PostgreSQL full-text
in production with an accent-folding French configuration, see migration
``hub.0005_search_unaccent``; Elasticsearch/OpenSearch when ``ELASTICSEARCH_URL`` is set).
Accents and case never matter: "déneigement", "DENEIGEMENT" and "deneigement" match.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from django.db.models import Model, QuerySet
from wagtail.models import Locale, Page
from wagtail.search.backends import get_search_backend

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
        summary = str(getattr(obj, "search_summary", "") or getattr(obj, "description", "")
                      or "")
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
    sources = [Page.objects.live().public().filter(depth__gt=1)]
    sources += collect("hub_search_sources")
    hits: list[SearchHit] = []
    seen: set[tuple[str, int]] = set()
    for source in sources:
        queryset = _queryset(source)
        if queryset is None:
            continue
        queryset = _in_language(queryset, locale)
        for obj in backend.search(query, queryset, operator="and")[:PER_SOURCE]:
            key = ("page" if isinstance(obj, Page) else obj._meta.label, obj.pk)
            if key in seen:
                continue
            seen.add(key)
            hit = _hit(obj, request)
            if hit is not None:
                hits.append(hit)
            if len(hits) >= limit:
                return hits
    return hits
