"""The signed-in path: requests per second, 95th-percentile latency and queries of what a
resident opens once signed in — Mon Espace (a session) and the app's routes (an OAuth2
bearer token): ``/api/v1/me/``, their requests (``/api/v1/requests/``) and their
subscription (``/api/v1/alert-subscription/``) — beside a static file of the same run.

For SQLite (a temporary file) and PostgreSQL (database ``bench_signed_in``, when a server
answers on ``BENCH_POSTGRES_URL``), each in its own child process: migrate, ``hub demo``,
the demo resident (``resident@example.com``: requests, subscription, favourites) signed
in with a real session row and a django-oauth-toolkit access token, the queries of each
route counted in-process; then gunicorn as production runs it (``gunicorn.conf.py``: 2
threaded workers, DEBUG=0, collected static files, ``HUB_FRAGMENT_CACHE_SECONDS``'s
default) on 127.0.0.1, loaded with ``wrk`` (or Python keep-alive threads without it).
The helpers (environment, gunicorn, the load generators) are ``bench/surge.py``'s.

    .venv/bin/python bench/signed_in.py [--duration 10] [--connections 16]
                                        [--only sqlite|postgresql]

Targets: ≥ 150 requests/s on each route, ≤ 8 queries for Mon Espace.  Prints PASS or
MISS beside each, and one ``BENCH_ROWS`` JSON line per database; asserts nothing.
"""

# ruff: noqa: S603 -- the bench starts gunicorn, wrk and itself with fixed arguments

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench import surge  # noqa: E402

DATABASE = "bench_signed_in"
RESIDENT = "resident@example.com"
RPS_TARGET = 150
QUERY_TARGETS = {"Mon Espace": 8}
STATIC_FILE = "theme/css/site.css"
# label -> (path, credentials: "session" or "token")
ROUTES = {
    "Mon Espace": ("/fr/mon-espace/", "session"),
    "/api/v1/me/": ("/api/v1/me/", "token"),
    "my requests": ("/api/v1/requests/", "token"),
    "my subscription": ("/api/v1/alert-subscription/", "token"),
}


# --- the database: built in a child process ---------------------------------------------

def prepare() -> None:
    """Child process: migrate, demo, the resident's session and token, query counts;
    prints one JSON line."""
    import datetime
    import secrets

    import django

    django.setup()
    from django.conf import settings
    from django.contrib.staticfiles.storage import staticfiles_storage
    from django.core.management import call_command
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext
    from django.utils import timezone
    from oauth2_provider.models import get_access_token_model, get_application_model

    from hub.models import User

    call_command("migrate", verbosity=0)
    call_command("hub", "demo", verbosity=0)
    resident = User.objects.get(email=RESIDENT)
    # A real session row, as the sign-in form leaves it (force_login goes through
    # django.contrib.auth.login and the session store).
    browser = Client(HTTP_HOST="127.0.0.1")
    browser.force_login(resident)
    session = browser.cookies[settings.SESSION_COOKIE_NAME].value
    application, _created = get_application_model().objects.get_or_create(
        name="Bench: signed-in path", defaults={
            "client_type": "public", "authorization_grant_type": "authorization-code",
            "redirect_uris": "ca.example.bench:/callback", "algorithm": "RS256"})
    token = secrets.token_urlsafe(32)
    get_access_token_model().objects.create(
        user=resident, application=application, token=token,
        scope="openid profile requetes:read alertes:read",
        expires=timezone.now() + datetime.timedelta(hours=2))
    surge.settle(connection)
    app = Client(HTTP_HOST="127.0.0.1", HTTP_AUTHORIZATION=f"Bearer {token}")
    queries, in_process_ms = {}, {}
    for label, (path, credentials) in ROUTES.items():
        client = browser if credentials == "session" else app
        first = client.get(path)
        assert first.status_code == 200, (path, first.status_code)
        with CaptureQueriesContext(connection) as captured:
            client.get(path)
        queries[label] = len(captured)
        timings = []
        for _ in range(30):
            started = time.perf_counter()
            client.get(path)
            timings.append((time.perf_counter() - started) * 1000)
        in_process_ms[label] = round(sorted(timings)[len(timings) // 2], 2)
    print("SIGNED_IN_JSON " + json.dumps({
        "vendor": connection.vendor, "cookie": f"{settings.SESSION_COOKIE_NAME}={session}",
        "token": token, "static": staticfiles_storage.url(STATIC_FILE),
        "queries": queries, "in_process_ms": in_process_ms}))


# --- orchestration ------------------------------------------------------------------------

def run_database(name: str, env: dict, args) -> list[dict]:
    started = time.perf_counter()
    out = subprocess.run([surge.PYTHON, str(Path(__file__).resolve()), "--prepare"],
                         cwd=ROOT, env=env, capture_output=True, text=True)
    if out.returncode:
        print(f"{name}: building the database failed\n{out.stderr[-3000:]}")
        return []
    info = json.loads(next(x for x in out.stdout.splitlines()
                           if x.startswith("SIGNED_IN_JSON ")).split(" ", 1)[1])
    print(f"\n== {name} ({info['vendor']}): database built in "
          f"{time.perf_counter() - started:.0f} s; the demo resident {RESIDENT}")
    credentials = {"session": {"Cookie": info["cookie"]},
                   "token": {"Authorization": f"Bearer {info['token']}"}}
    targets = {label: (path, credentials[kind]) for label, (path, kind) in ROUTES.items()}
    targets["static file"] = (info["static"], {})
    measured = surge.serve_and_measure(env, targets, None, args, "gunicorn-signed-in.log")
    static = measured["static file"]
    print(f"{'route':<17} {'queries':>7} {'ms':>6} {'req/s':>8} {'p95 ms':>8} {'errors':>7} "
          f"{'target':>14}  result")
    rows = []
    for label in ROUTES:
        result, queries = measured[label], info["queries"][label]
        query_target = QUERY_TARGETS.get(label)
        rps_ok = result["rps"] >= RPS_TARGET and not result["errors"]
        queries_ok = query_target is None or queries <= query_target
        target = f"≥{RPS_TARGET}/s" + (f" ≤{query_target}q" if query_target else "")
        verdict = "PASS" if rps_ok and queries_ok else "MISS"
        print(f"{label:<17} {queries:>7} {info['in_process_ms'][label]:>6.1f} "
              f"{result['rps']:>8.0f} {result['p95_ms']:>8.1f} {result['errors']:>7} "
              f"{target:>14}  {verdict}")
        rows.append({"bench": "signed_in", "database": info["vendor"], "row": label,
                     "figure": f"{result['rps']:.0f} req/s, p95 {result['p95_ms']:.1f} ms, "
                               f"{queries} queries",
                     "target": target, "pass": rps_ok and queries_ok})
    print(f"{'static file':<17} {'':>7} {'':>6} {static['rps']:>8.0f} "
          f"{static['p95_ms']:>8.1f} {static['errors']:>7} {'(reference)':>14}")
    print(f"{'':<17} {info['static']}")
    print("BENCH_ROWS " + json.dumps(rows, ensure_ascii=False))
    return rows


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--prepare", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--duration", type=int, default=10, help="seconds per route")
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--databases", default="sqlite,postgresql")
    parser.add_argument("--only", choices=["sqlite", "postgresql"],
                        help="one database (bench/run.py's option; default: both)")
    args = parser.parse_args(argv)
    if args.only:
        args.databases = args.only
    if args.prepare:
        prepare()
        return

    work = Path(tempfile.mkdtemp(prefix="ec-signed-in-"))
    try:
        env = surge.base_env(work)
        env["SECRET_KEY"] = "bench-signed-in-only-" + os.urandom(8).hex()
        collect = subprocess.run([surge.PYTHON, "manage.py", "collectstatic", "--noinput",
                                  "-v", "0"], cwd=ROOT, env=env, capture_output=True,
                                 text=True)
        if collect.returncode:
            print(f"collectstatic failed:\n{collect.stderr[-3000:]}")
            return
        generator = "wrk" if shutil.which("wrk") else "Python threads (client-bound)"
        print(f"Signed-in path: gunicorn (gunicorn.conf.py), 2 workers, 127.0.0.1; load: "
              f"{generator}, {args.connections} connections, {args.duration} s per route; "
              f"cores: {os.cpu_count()}")
        wanted = args.databases.split(",")
        if "sqlite" in wanted:
            run_database("SQLite", {**env, "DATABASE_URL":
                                    f"sqlite:///{work / 'signed-in.sqlite3'}"}, args)
        if "postgresql" in wanted and surge.postgres_available(DATABASE):
            run_database("PostgreSQL", {**env, "DATABASE_URL": surge.POSTGRES_URL + DATABASE},
                         args)
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
