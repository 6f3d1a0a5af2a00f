"""Recurring work: ``manage.py hub scheduler`` enqueues each declared job on time.

Modules declare their jobs through the ``hub_periodic_tasks()`` hook, the hub declares its
own in ``hub.tasks.HUB_PERIODIC_TASKS``; each is a :class:`PeriodicTask` (a django-tasks
task without arguments and a five-field cron expression, matched against the wall clock
of ``settings.TIME_ZONE``; defined in ``hub.periodic``, re-exported here for modules).
The scheduler only *enqueues*: the task workers (``db_worker`` or ``rqworker``) run the
jobs, so a slow job never delays the clock and jobs run on as many workers as there are.

Why a unique row per (job, due minute), and not only a lock.  Before enqueuing, a
scheduler INSERTs a :class:`hub.models.PeriodicRun` row for that job and minute; the
table's UNIQUE constraint lets exactly one insert succeed, so however many schedulers run
(one per machine, for availability) each run is enqueued once: the loser gets an
``IntegrityError`` and skips.  It works the same on PostgreSQL and SQLite, holds across
machines and restarts, needs no lock held while a process may die (an advisory lock or a
Redis lock with a timeout can be lost or expire mid-tick, and then two schedulers would
both run), and leaves a record of what was enqueued, when and by whom.  On the database
task backend the row and the task row are written in one transaction: both or neither.

Catch-up: after downtime each job runs **once** for the latest due time it missed, not
once per missed minute (a sweep that runs every minute has nothing to gain from being
run 300 times in a row; a nightly job missed at 03:00 still runs when the scheduler comes
back).  A job never run before starts at its next due time.  Rows older than :data:`KEEP`
(7 days, also how far back a catch-up looks) are pruned, except each job's latest, which
is how a restarted scheduler knows what it missed.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
from datetime import UTC, datetime, timedelta

from django.core.exceptions import ImproperlyConfigured
from django.db import IntegrityError, close_old_connections, transaction
from django.db.models import Max
from django.utils import timezone

from hub.periodic import MINUTE, PeriodicTask

logger = logging.getLogger(__name__)

KEEP = timedelta(days=7)  # how long claimed runs are kept (each job's latest always is)
ENQUEUED, CLAIMED_ELSEWHERE, FAILED = "enqueued", "claimed elsewhere", "failed"


def periodic_tasks() -> list[PeriodicTask]:
    """The hub's own jobs and those of the enabled modules (``hub_periodic_tasks``)."""
    from hub.plugins.manager import collect
    from hub.tasks import HUB_PERIODIC_TASKS

    jobs = [*HUB_PERIODIC_TASKS, *collect("hub_periodic_tasks")]
    seen: set[str] = set()
    for job in jobs:
        if not isinstance(job, PeriodicTask):
            raise ImproperlyConfigured(
                f"hub_periodic_tasks returned {job!r}: expected hub.scheduler.PeriodicTask.")
        if job.name in seen:
            raise ImproperlyConfigured(f"Two periodic tasks are named {job.name!r}.")
        seen.add(job.name)
    return jobs


def _minute(moment: datetime) -> datetime:
    return moment.replace(second=0, microsecond=0)


class Scheduler:
    """Enqueues due jobs, one :meth:`tick` per minute (:meth:`run` loops until stopped).

    ``checked[name]`` is the last minute already considered for a job: a tick looks at
    the minutes since then, so a tick that comes late (a stalled machine, a restart) still
    sees what was due meanwhile, and runs it once.
    """

    def __init__(self, jobs: list[PeriodicTask] | None = None, *, identity: str = "",
                 keep: timedelta | None = None):
        self.jobs = periodic_tasks() if jobs is None else jobs
        self.identity = identity or f"{socket.gethostname()}:{os.getpid()}"[:200]
        self.keep = KEEP if keep is None else keep
        self.checked: dict[str, datetime] = {}

    def _start_from(self, minute: datetime) -> None:
        """Where each job resumes: just after its latest claimed run (within the kept
        window), or the current minute for a job never run."""
        from hub.models import PeriodicRun

        new = [job.name for job in self.jobs if job.name not in self.checked]
        if not new:
            return
        last = dict(PeriodicRun.objects.filter(name__in=new).order_by()
                    .values_list("name").annotate(last=Max("due")))
        for name in new:
            previous = last.get(name)
            self.checked[name] = (max(previous, minute - self.keep) if previous
                                  else minute - MINUTE)

    def tick(self, now: datetime | None = None) -> list[tuple[str, datetime]]:
        """Enqueue every job due since the last tick, at most once each.  Returns the
        (name, due) this scheduler enqueued (not those another scheduler claimed)."""
        minute = _minute((now or timezone.now()).astimezone(UTC))
        self._start_from(minute)
        enqueued = []
        for job in self.jobs:
            due = job.latest_due(self.checked[job.name], minute)
            if due is not None:
                outcome = self._claim_and_enqueue(job, due)
                if outcome == FAILED:
                    continue  # not marked as checked: the next tick tries again
                if outcome == ENQUEUED:
                    enqueued.append((job.name, due))
            self.checked[job.name] = minute
        self.prune(minute)
        return enqueued

    def _claim_and_enqueue(self, job: PeriodicTask, due: datetime) -> str:
        """Claim (job, due) and enqueue the task in one transaction: ``ENQUEUED`` here,
        ``CLAIMED_ELSEWHERE`` by another scheduler, or ``FAILED`` (nothing written)."""
        from hub.models import PeriodicRun

        try:
            with transaction.atomic():
                try:
                    with transaction.atomic():
                        run = PeriodicRun.objects.create(
                            name=job.name, due=due, claimed_at=timezone.now(),
                            claimed_by=self.identity)
                except IntegrityError:
                    logger.debug("%s due %s: claimed by another scheduler", job.name, due)
                    return CLAIMED_ELSEWHERE
                result = job.task.enqueue()
                run.task_result_id = str(result.id)[:64]
                run.save(update_fields=["task_result_id"])
        except Exception:
            logger.exception("%s due %s: could not be enqueued; retried at the next tick",
                             job.name, due)
            return FAILED
        from hub.logs import routine_level

        logger.log(routine_level(), "Enqueued %s (due %s) as task %s", job.name,
                   timezone.localtime(due).strftime("%Y-%m-%d %H:%M"), run.task_result_id)
        return ENQUEUED

    def prune(self, minute: datetime) -> int:
        """Delete runs older than the kept window, except each job's latest."""
        from hub.models import PeriodicRun

        old = PeriodicRun.objects.filter(due__lt=minute - self.keep)
        for name, last in (PeriodicRun.objects.order_by().values_list("name")
                           .annotate(last=Max("due"))):
            old = old.exclude(name=name, due=last)
        deleted, _ = old.delete()
        return deleted

    def run(self, stop: threading.Event) -> None:
        """Tick now, then at the start of every minute until ``stop`` is set.  A failing
        tick (database unreachable) is logged and the next minute tries again."""
        logger.info("Scheduler %s: %s", self.identity, ", ".join(
            f"{job.name} [{job.schedule}]" for job in self.jobs) or "no job")
        while not stop.is_set():
            close_old_connections()
            try:
                self.tick()
            except Exception:
                logger.exception("Scheduler tick failed; trying again next minute")
            finally:
                close_old_connections()
            now = timezone.now()
            # Wake just after the next minute starts (a little margin for clock jitter).
            stop.wait((_minute(now) + MINUTE - now).total_seconds() + 0.2)
        logger.info("Scheduler %s stopped", self.identity)
