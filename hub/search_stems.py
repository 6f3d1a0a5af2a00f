"""French and English word forms in the site search, the same on SQLite and PostgreSQL.

Wagtail's database backend matches whole words: SQLite's FTS5 never stems, and
PostgreSQL stems with one configuration for every language (``hub_french_unaccent``,
French).  So the hub stems on both sides itself, with the Snowball stemmers
(``snowballstemmer``):

- at indexing time every indexed model gets one more search field, :class:`StemsField`,
  whose text is the French and the English stems of the words of its other search fields
  (accents and case folded first): "Patinoires extérieures" is also indexed as
  "patinoir exterieur", "Outdoor rinks" as "outdoor rink";
- at query time each word matches either itself or its stem in the visitor's language
  (:func:`stemmed_query`): "patinoire" looks for "patinoire" or "patinoir", "rink" for
  "rink".

Installed on every indexed model at start-up (:func:`install`), so a module's models are
covered without doing anything; only with the database backend (Elasticsearch analyses
text with its own language analysers).  Existing rows get their stems at the next save
or ``manage.py update_index``.
"""

from __future__ import annotations

import functools
import re
import unicodedata

from django.utils.html import strip_tags
from wagtail.search import index

LANGUAGES = {"fr": "french", "en": "english"}
WORD = re.compile(r"\w+", re.UNICODE)


def fold(text: str) -> str:
    """Lower case without accents: "Déneigement" → "deneigement"."""
    decomposed = unicodedata.normalize("NFKD", str(text).lower())
    return "".join(c for c in decomposed if not unicodedata.combining(c))


@functools.cache
def _stemmer(language: str):
    import snowballstemmer

    return snowballstemmer.stemmer(LANGUAGES[language])


def stem(word: str, language: str) -> str:
    """The folded word's stem in ``language`` ("fr" or "en"; others: French)."""
    language = language[:2].lower() if language else "fr"
    return _stem_folded(fold(word), language if language in LANGUAGES else "fr")


@functools.lru_cache(maxsize=50_000)
def _stem_folded(word: str, language: str) -> str:
    """Snowball is pure Python and a page repeats its words (and every save of a page
    re-indexes it): each folded word is stemmed once per process."""
    return _stemmer(language).stemWord(word)


def stems_of(text: str) -> str:
    """Every distinct French and English stem of ``text``'s words, space-separated, in
    their first order."""
    seen: dict[str, None] = {}
    for word in dict.fromkeys(WORD.findall(fold(strip_tags(text)))):
        for language in LANGUAGES:
            seen.setdefault(_stem_folded(word, language), None)
    return " ".join(seen)


def _text(value) -> str:
    if value is None:
        return ""
    if isinstance(value, (list, tuple)):
        return " ".join(_text(item) for item in value)
    return str(value)


class StemsField(index.SearchField):
    """The stems of the model's other search fields (see the module docstring).  Named
    after ``pk``, which every model has, so that Wagtail's check of search field names
    passes; its value never reads ``pk``."""

    def __init__(self):
        super().__init__("pk")

    def get_value(self, obj):
        texts = []
        for field in type(obj).get_search_fields():
            if isinstance(field, index.SearchField) and not isinstance(field, StemsField):
                texts.append(_text(field.get_value(obj)))
        return stems_of(" ".join(texts))

    def __repr__(self):
        return "<StemsField>"


_installed = False


def installed() -> bool:
    return _installed


def database_backend() -> bool:
    from django.conf import settings

    backends = getattr(settings, "WAGTAILSEARCH_BACKENDS", {})
    backend = backends.get("default", {}).get("BACKEND", "wagtail.search.backends.database")
    return ".database" in backend


def install() -> None:
    """Add :class:`StemsField` to every indexed model that has a search field (once),
    when the search backend is the database's."""
    global _installed
    if not database_backend():
        return
    _installed = True
    for model in index.get_indexed_models():
        fields = model.search_fields
        if any(isinstance(f, StemsField) for f in fields):
            continue
        if any(isinstance(f, index.SearchField) for f in fields):
            # A new list per model: subclasses often share their parent's.
            model.search_fields = [*fields, StemsField()]


def stemmed_query(query: str, language: str):
    """Wagtail's query for ``query`` (already normalised words): every word, in its own
    form or as its stem in ``language``."""
    from wagtail.search.query import And, Or, PlainText

    parts = []
    for word in query.split():
        stemmed = stem(word, language)
        if stemmed and stemmed != word:
            parts.append(Or([PlainText(word), PlainText(stemmed)]))
        else:
            parts.append(PlainText(word))
    return parts[0] if len(parts) == 1 else And(parts)
