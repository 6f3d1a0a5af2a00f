"""The garbage collector's settings of the long-running processes (hub/runtime.py): the
gunicorn workers (through ``hub.wsgi``) and the task worker, each a real process."""

from __future__ import annotations

import gc
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.test import override_settings

from hub.models import WorkerHeartbeat
from hub.runtime import YOUNG_GENERATION_THRESHOLD
from tests.process_database import database_copy, process_env

ROOT = Path(__file__).resolve().parent.parent
DB_TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend", "QUEUES": ["default"]}}


def _run(code: str, tmp_path) -> str:
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "hub.settings",
           "DATABASE_URL": f"sqlite:///{tmp_path}/runtime.sqlite3", "VAR_DIR": str(tmp_path)}
    return subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, check=True,
                          capture_output=True, text=True, timeout=120).stdout.strip()


def test_a_wsgi_worker_settles_the_collector_once_loaded(tmp_path):
    out = _run("import gc\nimport hub.wsgi\n"
               "print(gc.get_threshold()[0], gc.get_freeze_count() > 1000)", tmp_path)
    assert out == f"{YOUNG_GENERATION_THRESHOLD} True"


def test_a_batch_run_of_the_worker_leaves_its_caller_alone(db):
    """``--batch`` (the tests, a cron drain) returns to its caller: nothing settled."""
    from django.core.management import call_command

    before = gc.get_threshold(), gc.get_freeze_count()
    with override_settings(TASKS=DB_TASKS):
        call_command("db_worker", "--batch", "--no-startup-delay", "--no-reload")
    assert (gc.get_threshold(), gc.get_freeze_count()) == before


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_the_long_running_worker_settles_the_collector(tmp_path):
    """``manage.py db_worker`` as ``make run`` starts it, on a copy of the test database:
    settled before its first claim.  One task is queued and ``--max-tasks 1`` ends the
    process after it; the process prints its collector's state on the way out."""
    from hub.tasks import record_heartbeat

    with database_copy(tmp_path) as url, override_settings(TASKS=DB_TASKS):
        record_heartbeat.enqueue("runtime")  # a row the worker's process will claim
        code = ("import atexit, gc, sys\n"
                "atexit.register(lambda: print('GC', gc.get_threshold()[0],"
                " gc.get_freeze_count() > 1000))\n"
                "sys.argv = ['manage.py', 'db_worker', '--no-startup-delay', '--no-reload',"
                " '--max-tasks', '1']\n"
                "from django.core.management import execute_from_command_line\n"
                "execute_from_command_line(sys.argv)\n")
        out = subprocess.run([sys.executable, "-c", code], cwd=ROOT,
                             env=process_env(url, tmp_path), capture_output=True,
                             text=True, check=True, timeout=60).stdout
        assert WorkerHeartbeat.objects.filter(source="runtime").exists()  # it worked
    assert f"GC {YOUNG_GENERATION_THRESHOLD} True" in out.splitlines()


def test_cycles_are_still_collected_after_settling(tmp_path):
    """Settling moves what is alive to the permanent generation; a cycle made later is
    still found by the collector once enough new objects were made."""
    out = _run(
        "import weakref\nfrom hub.runtime import settle_garbage_collector\n"
        "settle_garbage_collector()\n"
        "class Node: pass\n"
        "a = Node(); a.me = a; ref = weakref.ref(a); del a\n"
        f"junk = [[] for _ in range({YOUNG_GENERATION_THRESHOLD} * 2)]\n"
        "print(ref() is None)", tmp_path)
    assert out == "True"
