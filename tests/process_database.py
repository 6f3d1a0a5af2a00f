"""A copy of the migrated test database that other processes can open, for tests that run
the real processes (``manage.py db_worker``, ``manage.py hub scheduler``) beside the test.

On SQLite the test database lives in the test process's memory, so it is copied into a
file (SQLite's online backup); on PostgreSQL it is copied into a new database
(``CREATE DATABASE … TEMPLATE``).  While the context is open the test process itself
uses the copy too, so what it creates the processes see, and what they do it reads; the
copy is thrown away afterwards and the test database is left as it was.
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote

from django.conf import settings
from django.db import connections


@contextlib.contextmanager
def database_copy(directory: Path) -> Iterator[str]:
    """Switch the default connection to a copy of the test database; yield its
    ``DATABASE_URL``.  From a test marked ``django_db(transaction=True,
    serialized_rollback=True)``: no transaction is open around it (the copy must see
    committed rows only), and pytest-django leaves the test database as it found it."""
    connection = connections["default"]
    original = connection.settings_dict["NAME"]
    if connection.vendor == "sqlite":
        path = directory / "copy.sqlite3"
        connection.ensure_connection()
        target = sqlite3.connect(path)
        with target:
            connection.connection.backup(target)
        target.close()
        # An in-memory database dies with its last connection: keep it aside, unclosed.
        memory = connection.connection
        connection.connection = None
        connection.settings_dict["NAME"] = str(path)
        try:
            yield f"sqlite:///{path}"
        finally:
            connection.close()
            connection.settings_dict["NAME"] = original
            connection.connection = memory
        return
    copy = f"{original}_copy_{os.getpid()}"
    connection.close()
    with connection._nodb_cursor() as cursor:
        cursor.execute(f'DROP DATABASE IF EXISTS "{copy}"')
        # A template must have no other session: the test database is this test
        # process's own (one per xdist worker), so a session left open by one of its
        # threads (an earlier test's server or pool) is closed first.
        cursor.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                       "WHERE datname = %s AND pid <> pg_backend_pid()", [original])
        cursor.execute(f'CREATE DATABASE "{copy}" TEMPLATE "{original}"')
    connection.settings_dict["NAME"] = copy
    db = connection.settings_dict
    credentials = quote(db["USER"] or "") + (f":{quote(db['PASSWORD'])}" if db["PASSWORD"]
                                             else "")
    try:
        yield f"postgres://{credentials}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{copy}"
    finally:
        connection.close()
        connection.settings_dict["NAME"] = original
        with connection._nodb_cursor() as cursor:
            cursor.execute(f'DROP DATABASE IF EXISTS "{copy}" WITH (FORCE)')


def process_env(database_url: str, var_dir: Path, **extra: str) -> dict[str, str]:
    """The environment of a process started as ``make run`` starts it (``hub.settings``,
    the database task backend), on the copied database."""
    env = {key: value for key, value in os.environ.items()
           if key not in ("REDIS_URL", "DJANGO_SETTINGS_MODULE", "HUB_DISABLED_MODULES")}
    env.update({"DJANGO_SETTINGS_MODULE": "hub.settings", "DATABASE_URL": database_url,
                "VAR_DIR": str(var_dir), "PYTHONUNBUFFERED": "1", **extra})
    return env


def manage(*args: str, env: dict[str, str], log: Path) -> subprocess.Popen:
    """Start ``manage.py <args>`` in its own process group, output to ``log``."""
    handle = log.open("w")
    return subprocess.Popen([sys.executable, "manage.py", *args], cwd=settings.BASE_DIR,
                            env=env, stdout=handle, stderr=subprocess.STDOUT,
                            start_new_session=True)
