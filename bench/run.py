"""Performance measurements of the hub's hot paths; prints numbers, asserts nothing.

Run with ``make bench`` (both databases; ``make bench BENCH_ARGS="--only postgresql"``
for one).  First the hub's own pages through Django's test client on a throwaway SQLite
database with the demo data (no network; query counts, no targets), then each bench of
this folder in its own process (the alert fan-out, the surge of public pages, the
signed-in path, the service requests' read paths), and last a table of every figure
that has a target, with PASS or MISS.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import statistics
import subprocess
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


# The benches with targets, each run as its own process (its own databases and servers);
# ``--only`` is translated to each one's own option.  A bench prints its human table,
# then one ``BENCH_ROWS [...]`` line per database with its rows and their verdicts.
BENCHES = [
    ("alertes", lambda only: ["--only", only] if only else []),
    ("surge", lambda only: ["--databases", only] if only else []),
    ("signed_in", lambda only: ["--only", only] if only else []),
    ("requetes", lambda only: ["--only", only] if only else []),
]


def in_process() -> None:
    """The hub's own pages through the test client: query counts and milliseconds, no
    target (the targets are measured over HTTP by the benches below)."""
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


def run_bench(name: str, arguments: list[str]) -> list[dict]:
    """Run ``bench/<name>.py``, echo what it prints as it prints it, and keep its rows."""
    rows: list[dict] = []
    command = [sys.executable, str(ROOT / "bench" / f"{name}.py"), *arguments]
    with subprocess.Popen(command, cwd=ROOT, stdout=subprocess.PIPE,  # noqa: S603
                          text=True, bufsize=1) as process:
        for line in process.stdout:
            if line.startswith("BENCH_ROWS "):
                rows += json.loads(line[len("BENCH_ROWS "):])
            else:
                print(line, end="", flush=True)
    if process.returncode:
        rows.append({"bench": name, "database": "-", "row": "the bench itself",
                     "figure": f"exit status {process.returncode}", "target": "runs",
                     "pass": False})
    return rows


def summary(rows: list[dict]) -> str:
    """Every row with a target, its figure and PASS/MISS, as a Markdown table (pasted
    into README's "Performance" section with the date and the load average)."""
    load = ", ".join(f"{x:.2f}" for x in os.getloadavg())
    stamp = datetime.datetime.now().astimezone().strftime("%Y-%m-%d %H:%M %Z")
    lines = [f"Measured {stamp} on {os.cpu_count()} cores; load average after the run: "
             f"{load}.", "",
             "| bench | database | what | figure | target | verdict |",
             "|---|---|---|---|---|---|"]
    for row in rows:
        verdict = "PASS" if row["pass"] else "MISS"
        lines.append(f"| {row['bench']} | {row['database']} | {row['row']} | "
                     f"{row['figure']} | {row['target']} | {verdict} |")
    missed = sum(not row["pass"] for row in rows)
    lines += ["", f"{len(rows) - missed} PASS, {missed} MISS"]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--only", choices=["sqlite", "postgresql"],
                        help="one database (default: both)")
    parser.add_argument("--skip", default="", help="benches to leave out, comma-separated")
    parser.add_argument("--no-in-process", action="store_true",
                        help="leave out the in-process figures (no targets)")
    args = parser.parse_args(argv)
    if not args.no_in_process:
        in_process()
    rows: list[dict] = []
    skipped = set(filter(None, args.skip.split(",")))
    for name, options in BENCHES:
        if name not in skipped:
            rows += run_bench(name, options(args.only))
    print("\n== Targets (issue 14)\n" + summary(rows), flush=True)


if __name__ == "__main__":
    main()
