"""Test settings: the hub's settings plus the throwaway module, which is discovered
through a real entry point (``tests/_dist/…dist-info/entry_points.txt``) exactly as a
pip-installed module would be — nothing in ``hub/`` names it."""

import os
import sys
from pathlib import Path

_DIST = Path(__file__).resolve().parent / "_dist"
if str(_DIST) not in sys.path:
    sys.path.append(str(_DIST))

os.environ.setdefault("VAR_DIR", str(Path(__file__).resolve().parent.parent / "var" / "test"))

from hub.settings import *  # noqa: E402, F403
from hub.settings import REST_FRAMEWORK  # noqa: E402

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]  # speed only
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
TASKS = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}
REST_FRAMEWORK = {**REST_FRAMEWORK, "DEFAULT_THROTTLE_RATES": {"anon": "10000/min",
                                                                 "user": "10000/min"}}
WHITENOISE_AUTOREFRESH = True
HUB_PUBLIC_CACHE_SECONDS = 0  # tests/test_cache.py switches it on where it is the subject

# The RQ backend is exercised against the real Redis on 127.0.0.1 (tests/test_tasks.py).
REDIS_TEST_URL = os.environ.get("REDIS_TEST_URL", "redis://127.0.0.1:6379/15")
if "django_rq" not in INSTALLED_APPS:  # noqa: F405
    INSTALLED_APPS = [*INSTALLED_APPS, "django_rq"]  # noqa: F405
RQ_QUEUES = {"default": {"URL": REDIS_TEST_URL}}
