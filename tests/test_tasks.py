"""Background tasks run through django-tasks on both configured backends:
the database backend (``manage.py db_worker``) and RQ on the real Redis."""

import pytest
from django.conf import settings
from django.core.management import call_command
from django.test import override_settings

from hub.models import WorkerHeartbeat
from hub.tasks import record_heartbeat
from tests.redis_support import require_redis

DB_TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend", "QUEUES": ["default"]}}
RQ_TASKS = {"default": {"BACKEND": "django_tasks_rq.RQBackend", "QUEUES": ["default"]}}


def test_settings_choose_the_db_backend_without_redis(monkeypatch):
    """hub/settings.py: no REDIS_URL → DB backend; REDIS_URL → RQ backend and Redis cache."""
    import subprocess
    import sys

    code = ("import hub.settings as s; print(s.TASKS['default']['BACKEND']);"
            "print(s.CACHES['default']['BACKEND'])")
    env = {"PATH": "/usr/bin:/bin", "DJANGO_SETTINGS_MODULE": "hub.settings"}
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True,
                         text=True, check=True, cwd=settings.BASE_DIR).stdout.split()
    assert out == ["django_tasks_db.DatabaseBackend",
                   "django.core.cache.backends.locmem.LocMemCache"]
    env["REDIS_URL"] = "redis://127.0.0.1:6379/0"
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True,
                         text=True, check=True, cwd=settings.BASE_DIR).stdout.split()
    assert out == ["django_tasks_rq.RQBackend", "django_redis.cache.RedisCache"]


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_db_backend_runs_the_task_through_db_worker():
    # django-tasks resets its backends when TASKS changes (setting_changed).
    with override_settings(TASKS=DB_TASKS):
        result = record_heartbeat.enqueue("db-backend")
        assert not WorkerHeartbeat.objects.exists()  # queued, not run yet
        call_command("db_worker", "--batch", "--no-startup-delay", "--no-reload")
        result.refresh()
        assert result.status.name == "SUCCESSFUL"
        beat = WorkerHeartbeat.objects.get()
        assert beat.source == "db-backend" and result.return_value == beat.pk


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_rq_backend_runs_the_task_on_redis():
    require_redis()  # fails under CI (CI=1), skips on a machine without Redis
    import django_rq
    from rq import SimpleWorker

    with override_settings(TASKS=RQ_TASKS):
        queue = django_rq.get_queue("default")
        queue.empty()
        result = record_heartbeat.enqueue("rq-backend")
        assert queue.count == 1
        worker = django_rq.get_worker("default", worker_class=SimpleWorker,
                                      job_class="django_tasks_rq.Job")
        worker.work(burst=True)
        result.refresh()
        assert result.status.name == "SUCCESSFUL"
        assert WorkerHeartbeat.objects.get().source == "rq-backend"
