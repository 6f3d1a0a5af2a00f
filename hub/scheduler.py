"""Recurring work: ``manage.py hub scheduler`` enqueues each declared job on time.

Modules declare their jobs through the ``hub_periodic_tasks()`` hook, the hub declares its
own in ``hub.tasks.HUB_PERIODIC_TASKS``; each is a :class:`PeriodicTask` (a django-tasks
task without arguments and a five-field cron expression, matched against the wall clock
of ``settings.TIME_ZONE``).
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
import re
import socket
import threading
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from croniter import CroniterError, croniter
from django.core.exceptions import ImproperlyConfigured
from django.db import IntegrityError, close_old_connections, transaction
from django.db.models import Max
from django.utils import timezone
from django_tasks.base import Task

logger = logging.getLogger(__name__)

MINUTE = timedelta(minutes=1)
KEEP = timedelta(days=7)  # how long claimed runs are kept (each job's latest always is)
ENQUEUED, CLAIMED_ELSEWHERE, FAILED = "enqueued", "claimed elsewhere", "failed"


@dataclass(frozen=True)
class PeriodicTask:
    """A recurring job: ``task`` (a django-tasks task taking no arguments) is enqueued at
    each minute ``schedule`` (five cron fields: minute hour day-of-month month day-of-week;
    numbers, names, ranges, steps and lists, as in crontab(5)) matches the wall clock of
    the site's time zone.  ``name`` is unique across the hub and modules, by convention
    ``"<module>.<job>"``; it is the key of the runs already claimed.

    croniter parses the expression; the matching is done here, minute by minute in UTC,
    because the wall clock is what DST bends: when clocks go back, an every-minute job
    still runs every real minute and a job at a fixed hour (``30 1 * * *``) runs once,
    not twice; when they go forward, a job whose time does not exist that night
    (``30 2 * * *``) runs at the first minute after the gap, as cron does."""

    name: str
    task: Task
    schedule: str
    fields: tuple = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if not self.name or len(self.name) > 100:
            raise ImproperlyConfigured(f"Periodic task name {self.name!r}: 1 to 100 characters.")
        if not isinstance(self.task, Task):
            raise ImproperlyConfigured(
                f"Periodic task {self.name}: {self.task!r} is not a django-tasks task "
                "(decorate the function with @task()).")
        object.__setattr__(self, "fields", self._parse())

    def _parse(self) -> tuple:
        """Per field, the set of values allowed (``None``: any)."""
        invalid = ImproperlyConfigured(
            f"Periodic task {self.name}: {self.schedule!r} is not a cron expression of five "
            "fields (minute hour day-of-month month day-of-week; numbers, names, ranges, "
            "steps and lists).")
        if len(self.schedule.split()) != 5 or re.search(r"[#?]|\d[LlWw]", self.schedule):
            raise invalid
        try:
            expanded, nth_weekdays = croniter.expand(self.schedule)
        except (CroniterError, ValueError) as exc:
            raise invalid from exc
        if nth_weekdays or any(value != "*" and not isinstance(value, int)
                               for values in expanded for value in values):
            raise invalid  # "L" (last day) and the like: not supported
        return tuple(None if values == ["*"] else frozenset(values) for values in expanded)

    def matches(self, wall: datetime) -> bool:
        """Whether the schedule matches this wall-clock minute (cron's rule: when both
        the day of the month and the day of the week are restricted, either will do)."""
        minute, hour, day, month, weekday = self.fields
        if ((minute is not None and wall.minute not in minute)
                or (hour is not None and wall.hour not in hour)
                or (month is not None and wall.month not in month)):
            return False
        day_ok = day is None or wall.day in day
        weekday_ok = weekday is None or wall.isoweekday() % 7 in weekday  # 0: Sunday
        if day is not None and weekday is not None:
            return day_ok or weekday_ok
        return day_ok and weekday_ok

    def due_at(self, moment: datetime) -> bool:
        """Whether the job is due at this minute (an aware datetime, seconds ignored)."""
        zone = timezone.get_current_timezone()
        moment = moment.astimezone(UTC).replace(second=0, microsecond=0)
        wall = moment.astimezone(zone)
        fixed_hour = self.fields[1] is not None
        if wall.fold and fixed_hour:
            return False  # the repeated hour when clocks go back: a fixed hour runs once
        if self.matches(wall):
            return True
        if not fixed_hour:
            return False  # an hourly job has nothing to make up for an hour that never was
        before = (moment - MINUTE).astimezone(zone)
        skipped = before.replace(tzinfo=None, fold=0) + MINUTE
        end = wall.replace(tzinfo=None, fold=0)
        while skipped < end:  # clocks went forward: the wall times skipped are due now
            if self.matches(skipped):
                return True
            skipped += MINUTE
        return False

    def latest_due(self, after: datetime, until: datetime) -> datetime | None:
        """The latest minute in ``(after, until]`` at which the job is due, or ``None``."""
        moment = until.astimezone(UTC).replace(second=0, microsecond=0)
        while moment > after:
            if self.due_at(moment):
                return moment
            moment -= MINUTE
        return None


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
        logger.info("Enqueued %s (due %s) as task %s", job.name,
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
