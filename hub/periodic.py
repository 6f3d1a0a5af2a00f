"""A recurring job and its cron rule (:class:`PeriodicTask`), apart from the scheduler
that runs them (``hub.scheduler``, which re-exports it): ``hub.tasks`` declares the hub's
own jobs with it, and the scheduler reads ``hub.tasks``, so neither imports the other
back.  Pure: no database import."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from croniter import CroniterError, croniter
from django.core.exceptions import ImproperlyConfigured
from django.utils import timezone
from django_tasks.base import Task

MINUTE = timedelta(minutes=1)


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
