"""Performance measurements of the hub's hot paths; prints numbers, asserts nothing.

Run with ``make bench`` (SQLite by default; set DATABASE_URL for PostgreSQL).  It builds
a throwaway database under var/bench/, loads the demo data, then times anonymous and
signed-in requests through Django's test client (no network), and counts queries.
"""

from __future__ import annotations

import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "hub.settings")
os.environ.setdefault("API_THROTTLE_ANON", "1000000/min")  # measure, don't throttle
os.environ.setdefault("API_THROTTLE_USER", "1000000/min")
if "DATABASE_URL" not in os.environ:
    os.environ["VAR_DIR"] = tempfile.mkdtemp(prefix="ec-bench-")

import django  # noqa: E402

django.setup()

from django.core.management import call_command  # noqa: E402
from django.db import connection, reset_queries  # noqa: E402
from django.test import Client, override_settings  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402

PATHS = [
    ("home page (fr), anonymous", "/fr/", False),
    ("home page (en), anonymous", "/en/", False),
    ("/api/v1/modules/, anonymous", "/api/v1/modules/", False),
    ("/api/v2/pages/?locale=en, anonymous", "/api/v2/pages/?locale=en", False),
    ("Mon Espace, signed in", "/fr/mon-espace/", True),
    ("/api/v1/me/, signed in", "/api/v1/me/", True),
]


def measure(client: Client, path: str, rounds: int = 200) -> tuple[float, float, int]:
    client.get(path)  # warm up caches and templates
    reset_queries()  # request_started resets the log; start from empty
    with CaptureQueriesContext(connection) as queries:
        response = client.get(path)
    assert response.status_code == 200, (path, response.status_code)
    timings = []
    for _ in range(rounds):
        start = time.perf_counter()
        client.get(path)
        timings.append((time.perf_counter() - start) * 1000)
    timings.sort()
    return statistics.median(timings), timings[int(len(timings) * 0.95)], len(queries)


def main() -> None:
    call_command("migrate", verbosity=0)
    call_command("hub", "demo", verbosity=0)
    from hub.models import User

    user = User.objects.get(email="admin@example.com")
    anonymous = Client(HTTP_HOST="127.0.0.1")
    signed_in = Client(HTTP_HOST="127.0.0.1")
    signed_in.force_login(user)
    print(f"database: {connection.vendor}; 200 requests each, in-process (no network)")
    print(f"{'path':<40} {'median ms':>10} {'p95 ms':>8} {'queries':>8} {'req/s':>8}")
    for label, path, auth in PATHS:
        median, p95, queries = measure(signed_in if auth else anonymous, path)
        print(f"{label:<40} {median:>10.2f} {p95:>8.2f} {queries:>8} {1000 / median:>8.0f}")
    # The surge path: anonymous public pages served by hub.cache (as in production).
    with override_settings(HUB_PUBLIC_CACHE_SECONDS=60):
        for label, path in [("home page (fr), anonymous, cached", "/fr/"),
                            ("/api/v1/modules/, anonymous, cached", "/api/v1/modules/")]:
            median, p95, queries = measure(anonymous, path)
            print(f"{label:<40} {median:>10.2f} {p95:>8.2f} {queries:>8} "
                  f"{1000 / median:>8.0f}")
    from bench import alertes  # the alert fan-out: its own processes and databases

    alertes.main([])
    from bench import surge  # gunicorn + wrk, 2,000 news pages, SQLite and PostgreSQL

    surge.main([])
    from bench import requetes  # 200,000 service requests: its own processes and databases

    requetes.run_all()


if __name__ == "__main__":
    main()
