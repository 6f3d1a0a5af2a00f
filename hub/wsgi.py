"""WSGI entry point (gunicorn hub.wsgi)."""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "hub.settings")
application = get_wsgi_application()

# Each gunicorn worker imports this module after the fork: the loaded hub is settled
# for the garbage collector once, before the first request (hub/runtime.py).
from hub.runtime import settle_garbage_collector  # noqa: E402

settle_garbage_collector()
