"""Signed tokens of `alertes`: one-click unsubscribe links and email verification links.

Both are ``django.core.signing`` tokens (HMAC with ``SECRET_KEY``, salted per use); a
forged token fails the signature check, an old one fails the age check.
"""

from __future__ import annotations

from django.conf import settings
from django.core import signing
from django.urls import reverse
from django.utils import translation

UNSUBSCRIBE_SALT = "alertes.unsubscribe"
VERIFY_SALT = "alertes.verify-email"
UNSUBSCRIBE_MAX_AGE = 60 * 60 * 24 * 365  # a year: old emails keep working for a year
VERIFY_MAX_AGE = 60 * 60 * 24 * 3


class BadToken(Exception):
    """The token is forged, malformed or expired."""


def unsubscribe_token(subscriber_id: int) -> str:
    return signing.dumps({"s": subscriber_id}, salt=UNSUBSCRIBE_SALT, compress=True)


def read_unsubscribe_token(token: str, max_age: int = UNSUBSCRIBE_MAX_AGE) -> int:
    try:
        return int(signing.loads(token, salt=UNSUBSCRIBE_SALT, max_age=max_age)["s"])
    except (signing.BadSignature, KeyError, TypeError, ValueError) as exc:
        raise BadToken(str(exc)) from exc


def verify_token(address_id: int, value: str) -> str:
    return signing.dumps({"a": address_id, "v": value}, salt=VERIFY_SALT, compress=True)


def read_verify_token(token: str, max_age: int = VERIFY_MAX_AGE) -> tuple[int, str]:
    try:
        data = signing.loads(token, salt=VERIFY_SALT, max_age=max_age)
        return int(data["a"]), str(data["v"])
    except (signing.BadSignature, KeyError, TypeError, ValueError) as exc:
        raise BadToken(str(exc)) from exc


def absolute(name: str, language: str = "fr", **kwargs) -> str:
    with translation.override(language):
        return settings.BASE_URL.rstrip("/") + reverse(name, kwargs=kwargs or None)


def unsubscribe_url(subscriber_id: int, language: str = "fr") -> str:
    return absolute("alertes:unsubscribe", language, token=unsubscribe_token(subscriber_id))
