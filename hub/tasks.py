"""Hub background tasks.

``record_heartbeat`` is the smallest real task: it writes a row the worker's health can
be read from, and proves that the configured backend (database or RQ) runs tasks.

``HUB_PERIODIC_TASKS`` are the hub's own recurring jobs, enqueued by ``manage.py hub
scheduler`` (``hub/scheduler.py``) beside the modules' ``hub_periodic_tasks``.
"""

import io
from datetime import timedelta

from django.core.management import call_command
from django.utils import timezone
from django_tasks import task

from hub.periodic import PeriodicTask


@task()
def record_heartbeat(source: str) -> int:
    """Store that a worker ran a task for ``source``; returns the heartbeat id."""
    from hub.models.heartbeat import WorkerHeartbeat

    beat = WorkerHeartbeat.objects.create(source=source[:64], ran_at=timezone.now())
    return beat.pk


@task()
def send_notice_email(log_id: int) -> str:
    """Send the hub's fallback email for one logged notice (``hub.notice_delivery``): the
    task carries only the row's id, the row holds the rest."""
    from hub.notice_delivery import send_logged

    return send_logged(log_id)


@task()
def publish_scheduled() -> str:
    """Publish the pages and snippets whose go-live time has passed and unpublish those
    whose expiry has passed: Wagtail does this only when its ``publish_scheduled`` command
    runs, so without this job a page scheduled in the editor never goes live."""
    output = io.StringIO()
    call_command("publish_scheduled", stdout=output)
    return output.getvalue()[-2000:]


@task()
def clear_expired_sessions() -> None:
    """Delete expired sessions: Django's database sessions are never purged otherwise
    (``manage.py clearsessions``)."""
    call_command("clearsessions")


@task()
def prune_task_results(min_age_days: int = 14) -> int:
    """Delete finished task results older than ``min_age_days`` from the database task
    backend (every task leaves a row; alert deliveries alone write thousands a day).
    Nothing to do on the RQ backend, where Redis expires its results itself."""
    from django_tasks import DEFAULT_TASK_BACKEND_ALIAS, task_backends
    from django_tasks_db.backend import DatabaseBackend
    from django_tasks_db.models import DBTaskResult

    backend = task_backends[DEFAULT_TASK_BACKEND_ALIAS]
    if not isinstance(backend, DatabaseBackend):
        return 0
    before = timezone.now() - timedelta(days=min_age_days)
    deleted, _ = (DBTaskResult.objects.finished()
                  .filter(backend_name=backend.alias, finished_at__lte=before).delete())
    return deleted


HUB_PERIODIC_TASKS = [
    PeriodicTask(name="hub.publish_scheduled", task=publish_scheduled, schedule="* * * * *"),
    PeriodicTask(name="hub.clear_expired_sessions", task=clear_expired_sessions,
                 schedule="17 3 * * *"),
    PeriodicTask(name="hub.prune_task_results", task=prune_task_results, schedule="27 3 * * *"),
]
