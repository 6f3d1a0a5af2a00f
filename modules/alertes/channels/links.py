"""Absolute links in messages (alert pages, unsubscribe, provider callbacks), reversed
once per URL name and language: ``reverse`` under a language override costs more than
the rest of building an SMS."""

from __future__ import annotations

from django.conf import settings

from .. import tokens

_URL_TEMPLATES: dict[tuple, str] = {}
_INT_PLACEHOLDER = 918273645546372819
_STR_PLACEHOLDER = "zq0PLACEHOLDER0qz"


def url(name: str, language: str = "fr", **kwargs) -> str:
    """``tokens.absolute(name, language, **kwargs)``, reversed once per name, language
    and keyword names (the values are put in place of placeholders)."""
    key = (settings.BASE_URL, name, language, tuple(sorted(
        (k, isinstance(v, int)) for k, v in kwargs.items())))
    template = _URL_TEMPLATES.get(key)
    if template is None:
        placeholders = {k: (_INT_PLACEHOLDER + i if isinstance(v, int)
                            else f"{_STR_PLACEHOLDER}{i}")
                        for i, (k, v) in enumerate(sorted(kwargs.items()))}
        template = tokens.absolute(name, language, **placeholders)
        if len(_URL_TEMPLATES) > 1000:
            _URL_TEMPLATES.clear()
        _URL_TEMPLATES[key] = template
    for i, (_k, v) in enumerate(sorted(kwargs.items())):
        placeholder = str(_INT_PLACEHOLDER + i if isinstance(v, int)
                          else f"{_STR_PLACEHOLDER}{i}")
        template = template.replace(placeholder, str(v), 1)
    return template


def unsubscribe_url(subscriber_id: int, language: str = "fr") -> str:
    """``tokens.unsubscribe_url`` with the path reversed once per language."""
    return url("alertes:unsubscribe", language, token=tokens.unsubscribe_token(subscriber_id))
