"""Redis for the tests: the shared test Redis (``REDIS_TEST_URL``, database 15 of the
machine's Redis) and whether its absence fails or skips.

Under CI (``CI`` set to 1/true/yes: ``.ci/run`` exports ``CI=1``) a missing Redis fails
the test: a green run must have exercised Redis.  On a developer's machine it skips."""

from __future__ import annotations

import os
import socket
from urllib.parse import urlsplit

import pytest
from django.conf import settings


def in_ci() -> bool:
    return os.environ.get("CI", "").strip().lower() in ("1", "true", "yes")


def reachable(url: str) -> bool:
    parts = urlsplit(url)
    try:
        with socket.create_connection((parts.hostname, parts.port or 6379), timeout=1):
            return True
    except OSError:
        return False


def require_redis() -> str:
    """``REDIS_TEST_URL`` when Redis answers there; else fail under CI, skip otherwise."""
    url = settings.REDIS_TEST_URL
    if not reachable(url):
        if in_ci():
            pytest.fail(f"CI must provide Redis at {url}")
        pytest.skip(f"Redis not reachable at {url}")
    return url
