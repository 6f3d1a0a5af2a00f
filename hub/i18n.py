"""The visitor's language and bilingual fields, in one place.

The site is French first, English second (``settings.LANGUAGES``).  Models that are not
translated pages keep both languages side by side (``name_fr``/``name_en``): one row
for both, edited together in the admin.  :func:`localized` is the one rule for reading
them — the active language's value when it is filled in, the French one otherwise — so
a topic, a category or an alert reads the same everywhere.

Pure: no model is imported at module level (:func:`current_locale` imports Wagtail's
``Locale`` when called), so models may use this module without an import circle.
"""

from __future__ import annotations

from django.conf import settings
from django.utils.translation import get_language

DEFAULT_LANGUAGE = "fr"


def languages() -> tuple[str, ...]:
    """The site's language codes (two letters), French first."""
    return tuple(code[:2] for code, _name in settings.LANGUAGES)


def current_language() -> str:
    """The active language as two letters (``"fr"``, ``"en"``); French when no language
    is active (a task, a management command) or when it is not one of the site's."""
    code = (get_language() or DEFAULT_LANGUAGE)[:2].lower()
    return code if code in languages() else DEFAULT_LANGUAGE


def pick(french, english, language: str | None = None):
    """The one rule on a pair of values: ``english`` for an English reader (default:
    the active language) when it is filled in, ``french`` otherwise.  For what is not
    an object with ``_fr``/``_en`` attributes: ``.values()`` rows, a payload's fields."""
    code = (language or current_language())[:2].lower()
    if code == "en" and english:
        return english
    return french


def localized(obj, field: str, language: str | None = None) -> str:
    """``obj.<field>_<language>`` (default: the active language), falling back to
    ``obj.<field>_fr`` when that value is empty or the language is not the site's;
    ``obj`` may also be a mapping (a ``.values()`` row) with those keys.

    ``localized(topic, "name")`` is ``topic.name_en`` for an English visitor when the
    English name is filled in, ``topic.name_fr`` otherwise."""
    code = (language or current_language())[:2].lower()
    read = obj.get if isinstance(obj, dict) else (lambda key, default: getattr(obj, key, default))
    value = ""
    if code != DEFAULT_LANGUAGE and code in languages():
        value = read(f"{field}_{code}", "") or ""
    return value or read(f"{field}_{DEFAULT_LANGUAGE}", "") or ""


def current_locale():
    """Wagtail's ``Locale`` of the active language (``None`` when the site has none):
    what translated pages and snippets of the visitor's language are filtered on."""
    from wagtail.models import Locale

    return Locale.objects.filter(language_code=current_language()).first()
