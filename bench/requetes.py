"""Read-path benchmark of `requetes` with 200,000 service requests stored.

Measured through Django's test client (in-process, no network), on SQLite and on
PostgreSQL, with the queries of one request counted:

* Open311 ``GET /open311/v2/requests.json``: the default window and with filters
  (target: median ≤ 25 ms, p99 ≤ 50 ms for the default window);
* the department queue in the admin, signed in as an agent of one department
  (target: p95 ≤ 100 ms);
* the management dashboard, as that agent and as an administrator (target: p95 ≤ 300 ms):
  its usual periods (90 days, 12 months) are served from the figures the
  ``requetes.dashboard`` job computes every ten minutes, which this bench runs once
  (timed) before measuring, as the scheduler would; the same 365 days computed on the
  spot (``fresh=1``, the page's "compute now") are shown beside them, without a target;
* the open-data CSV export of a year, read to the end (no target: shown for scale).

"Queries" must not grow with the rows shown: each page is also measured with a filter
that shows a handful of rows, and both counts are printed.

Throwaway databases: SQLite in a temporary directory, and PostgreSQL database
``bench_requetes`` on 127.0.0.1:5432 when it is reachable (dropped and created again).
Each database is measured in its own process.  Run: ``python bench/requetes.py``
(both), ``--only sqlite|postgresql``, ``--rows N``, ``--keep`` (leave PostgreSQL's
``bench_requetes`` in place afterwards, to read query plans); ``make bench`` runs it after
the hub's own figures.

Each row that has a target prints it beside the figures with ``PASS`` or ``MISS``.  Each
child also prints one machine-readable line, ``BENCH_ROWS`` followed by a JSON list of
``{"bench", "database", "row", "figure", "figures", "target", "pass"}``; the parent
prints every database's rows again after the tables, as a summary and as one combined
``BENCH_ROWS`` line.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import random
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
POSTGRES_ADMIN_URL = os.environ.get("BENCH_REQUETES_POSTGRES_ADMIN",
                                    "postgres://postgres@127.0.0.1:5432/postgres")
POSTGRES_DB = "bench_requetes"
ROWS = 200_000
YEARS = 2  # the rows are spread over the last two years
# {target name: (as printed, {statistic: the most milliseconds it may take})}
TARGETS = {"open311-default": ("median ≤ 25 ms, p99 ≤ 50 ms", {"median": 25.0, "p99": 50.0}),
           "queue": ("p95 ≤ 100 ms", {"p95": 100.0}),
           "search": ("p95 ≤ 100 ms", {"p95": 100.0}),
           "dashboard": ("p95 ≤ 300 ms", {"p95": 300.0})}
ROWS_MARK = "BENCH_ROWS "


# --- the parent: one child process per database ----------------------------------------

def postgres_reachable() -> bool:
    try:
        with socket.create_connection(("127.0.0.1", 5432), timeout=1):
            pass
        import psycopg

        with psycopg.connect(POSTGRES_ADMIN_URL.replace("postgres://", "postgresql://"),
                             connect_timeout=3):
            return True
    except Exception as error:  # any failure means "skip PostgreSQL"
        print(f"PostgreSQL not reachable at 127.0.0.1:5432 ({error}): skipped")
        return False


def _postgres(statement: str) -> None:
    import psycopg

    with psycopg.connect(POSTGRES_ADMIN_URL.replace("postgres://", "postgresql://"),
                         autocommit=True) as conn:
        conn.execute(statement)


def _run_child(env: dict, rows: int, found: list[dict]) -> None:
    """One child, its output passed through line by line; its ``BENCH_ROWS`` line is
    kept in ``found`` rather than printed."""
    with subprocess.Popen(  # noqa: S603 - this very file, with our own arguments
            [sys.executable, __file__, "--child", "--rows", str(rows)],
            env=env, cwd=ROOT, stdout=subprocess.PIPE, text=True, bufsize=1) as process:
        for line in process.stdout:
            if line.startswith(ROWS_MARK):
                found.extend(json.loads(line[len(ROWS_MARK):]))
            else:
                print(line, end="", flush=True)


def print_summary(found: list[dict]) -> None:
    """The rows with a target, every database together, then as one JSON line."""
    if not found:
        return
    print(f"\n== requetes: targets ==\n{'database':<11} {'page':<66} {'figure':<30} "
          f"{'target':<28} result")
    for row in found:
        print(f"{row['database']:<11} {row['row']:<66} {row['figure']:<30} "
              f"{row['target']:<28} {'PASS' if row['pass'] else 'MISS'}")
    print(ROWS_MARK + json.dumps(found, ensure_ascii=False))


def run_all(only: str | None = None, rows: int = ROWS, keep: bool = False) -> None:
    """Measure on SQLite, then on PostgreSQL when it is reachable."""
    base = {**os.environ, "DJANGO_SETTINGS_MODULE": "hub.settings",
            "API_THROTTLE_ANON": "1000000/min", "API_THROTTLE_USER": "1000000/min",
            "OPEN311_THROTTLE": "1000000/min", "HUB_PUBLIC_CACHE_SECONDS": "0"}
    found: list[dict] = []
    if only in (None, "sqlite"):
        with tempfile.TemporaryDirectory(prefix="ec-bench-requetes-") as var_dir:
            env = {**base, "VAR_DIR": var_dir,
                   "DATABASE_URL": f"sqlite:///{var_dir}/bench.sqlite3"}
            _run_child(env, rows, found)
    if only in (None, "postgresql") and postgres_reachable():
        _postgres(f"DROP DATABASE IF EXISTS {POSTGRES_DB} WITH (FORCE)")
        _postgres(f"CREATE DATABASE {POSTGRES_DB}")
        try:
            with tempfile.TemporaryDirectory(prefix="ec-bench-requetes-") as var_dir:
                url = POSTGRES_ADMIN_URL.rsplit("/", 1)[0] + f"/{POSTGRES_DB}"
                env = {**base, "VAR_DIR": var_dir, "DATABASE_URL": url}
                _run_child(env, rows, found)
        finally:
            if not keep:
                _postgres(f"DROP DATABASE IF EXISTS {POSTGRES_DB} WITH (FORCE)")
    print_summary(found)


# --- the child: build, fill, measure -------------------------------------------------

def _setup_django():
    sys.path.insert(0, str(ROOT))
    import logging

    import django

    django.setup()
    # Thousands of measured requests would print as many access lines between the
    # rows of the table (the line is still written: only its level is filtered).
    logging.getLogger("hub.access").setLevel(logging.WARNING)


def _insert(connection, model, columns: list[str], rows: list[tuple]) -> None:
    """Multi-row INSERTs (as many rows a statement as the parameter limit allows)."""
    quote = connection.ops.quote_name
    per_statement = max(1, min(1000, 30000 // len(columns)))
    # Table and column names come from the models, values go as parameters.
    head = (f"INSERT INTO {quote(model._meta.db_table)} "  # noqa: S608
            f"({', '.join(quote(c) for c in columns)}) VALUES ")
    one = "(" + ", ".join(["%s"] * len(columns)) + ")"
    with connection.cursor() as cursor:
        for index in range(0, len(rows), per_statement):
            chunk = rows[index:index + per_statement]
            params = [value for row in chunk for value in row]
            cursor.execute(head + ", ".join([one] * len(chunk)), params)


def _defaults(connection, model, varying: set[str]) -> dict[str, object]:
    """Every other column's default, already adapted for the database."""
    constants = {}
    for field in model._meta.concrete_fields:
        if field.column in varying or field.primary_key:
            continue
        if field.has_default():
            value = field.get_default()
        elif field.null:
            value = None
        else:
            value = ""
        constants[field.column] = field.get_db_prep_save(value, connection)
    return constants


def fill(rows: int) -> dict:
    """``rows`` requests over the last two years with their histories, in bulk."""
    from django.core.management.color import no_style
    from django.db import connection, transaction
    from django.utils import timezone

    from modules.requetes import demo, services
    from modules.requetes.models import Category, RequestEvent, ServiceRequest

    rng = random.Random(200_000)  # reproducible data, not secrets
    categories = list(Category.objects.select_related("department"))
    now = timezone.now()
    ops = connection.ops
    dt = ops.adapt_datetimefield_value
    varying_requests = ["id", "reference", "category_id", "department_id", "description",
                        "description_public", "latitude", "longitude", "address", "channel",
                        "caller_name", "caller_phone", "contact_channel", "due_date",
                        "status", "closure_reason", "closure_note", "created_at",
                        "updated_at", "closed_at", "acknowledged_at"]
    request_constants = _defaults(connection, ServiceRequest, set(varying_requests))
    request_columns = varying_requests + list(request_constants)
    request_tail = tuple(request_constants.values())
    varying_events = ["id", "request_id", "kind", "from_status", "to_status",
                      "public_message", "by_staff", "created_at"]
    event_constants = _defaults(connection, RequestEvent, set(varying_events))
    event_columns = varying_events + list(event_constants)
    event_tail = tuple(event_constants.values())
    start_id = (ServiceRequest.objects.order_by("-pk").values_list("pk", flat=True).first()
                or 0) + 1
    event_id = (RequestEvent.objects.order_by("-pk").values_list("pk", flat=True).first()
                or 0) + 1
    due_cache: dict[tuple, datetime.date] = {}
    numbers: dict[int, int] = {}
    request_rows, event_rows = [], []
    span = YEARS * 365 * 86400
    reasons = (["fixed"] * 82 + ["not_city_responsibility"] * 9 + ["wont_fix"] * 6
               + ["duplicate"] * 3)
    for index in range(rows):
        pk = start_id + index
        category = rng.choice(categories)
        created = now - datetime.timedelta(seconds=rng.randint(600, span))
        year = timezone.localdate(created).year
        numbers[year] = numbers.get(year, 0) + 1
        reference = f"{year}-{500000 + numbers[year]:06d}"
        key = (category.pk, timezone.localdate(created))
        if key not in due_cache:
            due_cache[key] = services.due_date_for(category, created)
        acknowledged = created + datetime.timedelta(hours=rng.expovariate(1 / 12))
        closing = created + datetime.timedelta(
            days=category.service_level_days * rng.uniform(0.1, 2.5))
        events = [("created", "", "new", created)]
        if acknowledged > now:
            status, acknowledged, closed, reason = "new", None, None, ""
        else:
            events.append(("status", "new", "acknowledged", acknowledged))
            if closing <= now and rng.random() < 0.97:
                status, closed, reason = "closed", closing, rng.choice(reasons)
                events.append(("status", "acknowledged", "closed", closed))
            else:
                status, closed, reason = rng.choice(["acknowledged", "assigned",
                                                     "in_progress"]), None, ""
        number = rng.randint(1, 3000)
        request_rows.append((
            pk, reference, category.pk, category.department_id,
            rng.choice(demo.DESCRIPTIONS.get(category.service_code, ["Problème signalé."])),
            rng.random() < 0.5, round(45.235 + rng.random() * 0.045, 6),
            round(-74.165 + rng.random() * 0.075, 6), f"{number} {rng.choice(demo.STREETS)}",
            "web", rng.choice(demo.CALLERS), f"450 555-{number:04d}", "phone",
            ops.adapt_datefield_value(due_cache[key]), status, reason,
            "Hydro-Québec" if reason == "not_city_responsibility" else "",
            dt(created), dt(closed or acknowledged or created), dt(closed),
            dt(acknowledged), *request_tail))
        for kind, old, new, moment in events:
            event_rows.append((event_id, pk, kind, old, new, "", True, dt(moment),
                               *event_tail))
            event_id += 1
    with transaction.atomic():
        _insert(connection, ServiceRequest, request_columns, request_rows)
        _insert(connection, RequestEvent, event_columns, event_rows)
        with connection.cursor() as cursor:
            for statement in ops.sequence_reset_sql(no_style(),
                                                    [ServiceRequest, RequestEvent]):
                cursor.execute(statement)
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            # What autovacuum does on a live database (since PostgreSQL 13 it also
            # vacuums after many inserts): statistics, and the visibility map without
            # which no index-only scan skips the table.
            cursor.execute("VACUUM ANALYZE")
    return {"requests": len(request_rows), "events": len(event_rows)}


def measure(client, path: str, *, budget: float = 20.0, rounds: int = 200,
            stream: bool = False) -> dict | str:
    from django.db import connection, reset_queries
    from django.test.utils import CaptureQueriesContext

    def get():
        response = client.get(path)
        if stream and response.streaming:
            for _chunk in response.streaming_content:
                pass
        return response

    first = get()  # warm up caches and templates
    if first.status_code != 200:
        return f"HTTP {first.status_code}"
    reset_queries()
    with CaptureQueriesContext(connection) as queries:
        get()
    timings = []
    deadline = time.perf_counter() + budget
    while len(timings) < rounds and (len(timings) < 10 or time.perf_counter() < deadline):
        start = time.perf_counter()
        get()
        timings.append((time.perf_counter() - start) * 1000)
    timings.sort()

    def pick(fraction):
        return timings[min(len(timings) - 1, int(len(timings) * fraction))]

    return {"median": statistics.median(timings), "p95": pick(0.95), "p99": pick(0.99),
            "queries": len(queries), "rounds": len(timings)}


def child(rows: int) -> None:
    _setup_django()
    from django.contrib.auth.models import Group
    from django.core.management import call_command
    from django.db import connection
    from django.test import Client
    from django.urls import Resolver404, resolve

    from hub.models import Department, User
    from modules.requetes import roles, snapshots

    started = time.perf_counter()
    call_command("migrate", verbosity=0)
    call_command("hub", "demo", verbosity=0)
    counts = fill(rows)
    print(f"\n== requetes, {connection.vendor}: {counts['requests']:,} requests + the demo's "
          f"300, {counts['events']:,} history events, built in "
          f"{time.perf_counter() - started:.0f} s ==")

    department = Department.objects.get(slug="travaux-publics")
    agent = User.objects.create_user(email="bench.agent@example.com", password="x-bench-42",  # noqa: S106
                                     is_staff=True)
    agent.groups.add(Group.objects.get(name=roles.DEPARTMENT_AGENTS))
    department.agents.add(agent)
    admin = User.objects.get(email="admin@example.com")
    anonymous = Client(HTTP_HOST="127.0.0.1")
    as_agent = Client(HTTP_HOST="127.0.0.1")
    as_agent.force_login(agent)
    as_admin = Client(HTTP_HOST="127.0.0.1")
    as_admin.force_login(admin)

    open311 = None
    try:
        if resolve("/open311/v2/requests.json").url_name == "requests":
            open311 = "/open311/v2/requests.json"
    except Resolver404:
        pass
    year_ago = (datetime.date.today() - datetime.timedelta(days=364)).isoformat()
    lines = []
    if open311 is None:
        print("Open311 GET requests.json: the URL does not resolve yet (module not wired): "
              "skipped")
    else:
        lines += [
            ("Open311 requests.json, default window", "open311-default", anonymous,
             open311, {}),
            ("Open311 requests.json, filtered", None, anonymous,
             f"{open311}?service_code=voirie&status=open", {}),
            ("  few rows (one request id)", None, anonymous,
             f"{open311}?service_request_id=2026-500001", {}),
        ]
    took = time.perf_counter()
    snapshots.refresh()
    print(f"Dashboard's usual periods computed ahead (the requetes.dashboard job): "
          f"{(time.perf_counter() - took) * 1000:.0f} ms")
    lines += [
        ("Department queue, agent (50 rows)", "queue", as_agent, "/admin/requetes/", {}),
        ("  few rows (a search)", "search", as_agent, "/admin/requetes/?q=2026-500001", {}),
        ("  all statuses, overdue first", "queue", as_agent,
         "/admin/requetes/?status=all&sort=due", {}),
        ("Dashboard, agent, 90 days", "dashboard", as_agent,
         "/admin/requetes/tableau-de-bord/", {"budget": 30.0, "rounds": 100}),
        ("Dashboard, administrator, 90 days", "dashboard", as_admin,
         "/admin/requetes/tableau-de-bord/", {"budget": 30.0, "rounds": 100}),
        ("  one category (few rows)", None, as_admin,
         "/admin/requetes/tableau-de-bord/?category=animaux", {"budget": 20.0,
                                                                "rounds": 100}),
        ("Dashboard, administrator, 365 days", "dashboard", as_admin,
         f"/admin/requetes/tableau-de-bord/?start={year_ago}", {"budget": 30.0,
                                                                "rounds": 60}),
        ("  computed on the spot (fresh=1)", None, as_admin,
         f"/admin/requetes/tableau-de-bord/?start={year_ago}&fresh=1", {"budget": 20.0,
                                                                        "rounds": 40}),
        ("Open data CSV, 365 days, read to the end", None, anonymous,
         "/fr/requetes/donnees-ouvertes.csv", {"budget": 20.0, "rounds": 5,
                                               "stream": True}),
    ]
    print(f"{'page':<44} {'median':>8} {'p95':>8} {'p99':>8} {'queries':>8} {'runs':>5}  "
          f"{'target':<28} result")
    found = []
    heading = ""
    for label, target, client, path, options in lines:
        # An indented row is a variant of the row above: named after it in the summary.
        name = f"{heading}: {label.strip()}" if label.startswith(" ") else label
        heading = heading if label.startswith(" ") else label
        result = measure(client, path, **options)
        if isinstance(result, str):
            print(f"{label:<44} {result}")
            if target:
                found.append(_verdict(connection.vendor, name, target, None))
            continue
        verdict = _verdict(connection.vendor, name, target, result) if target else None
        if verdict:
            found.append(verdict)
        print(f"{label:<44} {result['median']:>8.1f} {result['p95']:>8.1f} "
              f"{result['p99']:>8.1f} {result['queries']:>8} {result['rounds']:>5}  "
              + (f"{verdict['target']:<28} {'PASS' if verdict['pass'] else 'MISS'}"
                 if verdict else ""))
    print("(milliseconds; queries = SQL queries of one request, session and auth included)")
    print(ROWS_MARK + json.dumps(found, ensure_ascii=False), flush=True)


def _verdict(database: str, label: str, target: str, result: dict | None) -> dict:
    """A row with a target, for the summary: its figures against the target's limits
    (a page that did not answer misses)."""
    text, limits = TARGETS[target]
    figures = {stat: (round(result[stat], 1) if result else None) for stat in limits}
    return {"bench": "requetes", "database": database, "row": label,
            "figure": ", ".join(f"{stat} {value} ms" if value is not None else f"{stat} —"
                                for stat, value in figures.items()),
            "figures": figures, "queries": result["queries"] if result else None,
            "target": text,
            "pass": bool(result) and all(result[stat] <= limit
                                         for stat, limit in limits.items())}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--only", choices=["sqlite", "postgresql"])
    parser.add_argument("--rows", type=int, default=ROWS)
    parser.add_argument("--keep", action="store_true",
                        help="keep the PostgreSQL database afterwards (to read plans)")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.rows)
    else:
        run_all(args.only, args.rows, args.keep)


if __name__ == "__main__":
    main()
