"""Hub background tasks.

``record_heartbeat`` is the smallest real task: it writes a row the worker's health can
be read from, and proves that the configured backend (database or RQ) runs tasks.
"""

from django.utils import timezone
from django_tasks import task


@task()
def record_heartbeat(source: str) -> int:
    """Store that a worker ran a task for ``source``; returns the heartbeat id."""
    from hub.models.heartbeat import WorkerHeartbeat

    beat = WorkerHeartbeat.objects.create(source=source[:64], ran_at=timezone.now())
    return beat.pk
