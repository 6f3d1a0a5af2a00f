"""The scheduler (``manage.py hub scheduler``, hub/scheduler.py): jobs declared through
``hub_periodic_tasks`` and the hub's own, each enqueued once per due minute however many
schedulers run, once on catch-up, never when not due; runs pruned.

Enqueued tasks are counted as rows of the database task backend (``DBTaskResult``); the
several-schedulers test runs real scheduler processes on a copy of the test database
(a file on SQLite, a database on PostgreSQL), released together on each minute."""

import json
import select
import subprocess
import sys
from collections import Counter
from datetime import UTC, datetime, timedelta

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.core.management import call_command
from django.test import override_settings
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from hub.models import PeriodicRun
from hub.plugins import hookimpl
from hub.plugins.manager import get_plugin_manager
from hub.scheduler import PeriodicTask, Scheduler, periodic_tasks
from hub.tasks import clear_expired_sessions, publish_scheduled
from tests.process_database import database_copy, process_env

DB_TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend", "QUEUES": ["default"]}}
EVERY_MINUTE = {"hub.publish_scheduled", "alertes.dispatch"}
EVERY_TEN_MINUTES = {"requetes.dashboard"}  # at minutes 0, 10, 20…


def at(*args) -> datetime:
    """A moment in the site's time zone (cron schedules are read there)."""
    return timezone.make_aware(datetime(*args))


def enqueued_paths() -> Counter:
    return Counter(DBTaskResult.objects.values_list("task_path", flat=True))


@pytest.fixture
def db_tasks():
    """Enqueued tasks stay rows (the database backend) instead of running at once."""
    with override_settings(TASKS=DB_TASKS):
        yield


def test_the_hub_and_enabled_modules_declare_their_jobs():
    jobs = {job.name: job for job in periodic_tasks()}
    assert jobs["hub.publish_scheduled"].schedule == "* * * * *"
    assert jobs["hub.publish_scheduled"].task is publish_scheduled
    assert jobs["alertes.dispatch"].task.module_path == "modules.alertes.tasks.dispatch"
    assert {"hub.clear_expired_sessions", "hub.prune_task_results"} <= set(jobs)
    with override_settings(HUB_DISABLED_MODULES=["alertes"]):
        assert "alertes.dispatch" not in {job.name for job in periodic_tasks()}


@pytest.mark.parametrize("schedule", ["* * * *", "61 * * * *", "* * * * * *", "@daily",
                                      "tous les jours", "0 0 L * *", "0 0 15W * *",
                                      "0 0 * * 1#2", "0 0 ? * *"])
def test_a_schedule_that_is_not_five_cron_fields_is_refused(schedule):
    with pytest.raises(ImproperlyConfigured, match="five fields"):
        PeriodicTask(name="test.bad", task=publish_scheduled, schedule=schedule)


def test_a_job_must_be_a_task_with_a_unique_name():
    with pytest.raises(ImproperlyConfigured, match="not a django-tasks task"):
        PeriodicTask(name="test.plain", task=print, schedule="* * * * *")

    class Duplicate:
        @hookimpl
        def hub_periodic_tasks(self):
            return [PeriodicTask(name="hub.publish_scheduled", task=publish_scheduled,
                                 schedule="0 * * * *")]

    pm = get_plugin_manager()
    plugin = Duplicate()
    pm.register(plugin, name="test-duplicate-job")
    try:
        with pytest.raises(ImproperlyConfigured, match="Two periodic tasks"):
            periodic_tasks()
    finally:
        pm.unregister(plugin)


def test_latest_due_in_the_site_time_zone():
    nightly = PeriodicTask(name="test.nightly", task=clear_expired_sessions,
                           schedule="17 3 * * *")
    # 03:17 in Valleyfield is 08:17 UTC in winter.
    assert nightly.latest_due(at(2026, 12, 3, 4, 0), at(2026, 12, 4, 10, 0)) == at(
        2026, 12, 4, 3, 17)
    assert nightly.latest_due(at(2026, 12, 4, 3, 17), at(2026, 12, 4, 10, 0)) is None
    assert at(2026, 12, 4, 3, 17).astimezone(UTC).hour == 8


def job(schedule: str) -> PeriodicTask:
    return PeriodicTask(name=f"test.{schedule}", task=publish_scheduled, schedule=schedule)


def ticks(task: PeriodicTask, start: datetime, minutes: int) -> list[datetime]:
    """The due times a scheduler ticking every minute from ``start`` finds."""
    found, checked = [], start - timedelta(minutes=1)
    for n in range(minutes):
        now = start + timedelta(minutes=n, seconds=2)
        due = task.latest_due(checked, now)
        if due is not None:
            found.append(due)
        checked = now.replace(second=0)
    return found


def test_cron_fields_names_and_the_day_rule():
    weekdays = job("0 9 * * mon-fri")
    assert weekdays.matches(datetime(2026, 12, 4, 9, 0))      # a Friday
    assert not weekdays.matches(datetime(2026, 12, 5, 9, 0))  # a Saturday
    assert not weekdays.matches(datetime(2026, 12, 4, 9, 1))
    # Day of month and day of week both restricted: either will do (cron's rule).
    either = job("0 4 1,15 * sun")
    assert either.matches(datetime(2026, 12, 1, 4, 0))   # the 1st, a Tuesday
    assert either.matches(datetime(2026, 12, 6, 4, 0))   # a Sunday
    assert not either.matches(datetime(2026, 12, 2, 4, 0))
    assert job("*/15 * * 1 *").matches(datetime(2027, 1, 3, 10, 45))
    assert not job("*/15 * * 1 *").matches(datetime(2026, 12, 3, 10, 45))
    assert job("0 0 * * 7").matches(datetime(2026, 12, 6, 0, 0))  # 7 is Sunday too


def test_when_clocks_go_back_every_minute_still_runs_and_a_fixed_hour_runs_once():
    # 2026-11-01: 01:00-01:59 happens twice in Valleyfield (EDT, then EST).
    start = datetime(2026, 11, 1, 4, 50, tzinfo=UTC)
    every_minute = ticks(job("* * * * *"), start, 140)
    assert every_minute == [start + timedelta(minutes=n) for n in range(140)]
    assert [timezone.localtime(d).strftime("%H:%M%z") for d in
            ticks(job("30 1 * * *"), start, 140)] == ["01:30-0400"]
    assert len(ticks(job("30 * * * *"), start, 140)) == 2  # hourly: every real hour


def test_when_clocks_go_forward_a_time_that_does_not_exist_runs_after_the_gap():
    # 2026-03-08: 02:00-02:59 does not exist in Valleyfield (01:59 EST, then 03:00 EDT).
    start = datetime(2026, 3, 8, 5, 50, tzinfo=UTC)
    assert [timezone.localtime(d).strftime("%H:%M%z") for d in
            ticks(job("30 2 * * *"), start, 120)] == ["03:00-0400"]
    assert [timezone.localtime(d).strftime("%H:%M") for d in
            ticks(job("30 * * * *"), start, 120)] == ["01:30", "03:30"]
    assert len(ticks(job("* * * * *"), start, 120)) == 120


def test_each_due_job_is_enqueued_once_and_a_job_not_due_is_not(db, db_tasks):
    first, second = Scheduler(identity="a"), Scheduler(identity="b")
    enqueued = first.tick(now=at(2026, 12, 4, 10, 0, 30))
    # The nightly jobs are not due.
    assert {name for name, _ in enqueued} == EVERY_MINUTE | EVERY_TEN_MINUTES
    assert all(due == at(2026, 12, 4, 10, 0) for _, due in enqueued)
    # A second scheduler, later in the same minute, and the first one again: nothing.
    assert second.tick(now=at(2026, 12, 4, 10, 0, 59)) == []
    assert first.tick(now=at(2026, 12, 4, 10, 0, 45)) == []
    assert enqueued_paths() == {"hub.tasks.publish_scheduled": 1,
                                "modules.alertes.tasks.dispatch": 1,
                                "modules.requetes.tasks.refresh_dashboard": 1}
    run = PeriodicRun.objects.get(name="alertes.dispatch")
    assert run.claimed_by == "a" and run.due == at(2026, 12, 4, 10, 0)
    assert DBTaskResult.objects.get(id=run.task_result_id).task_path.endswith(".dispatch")
    # The next minute, the other scheduler may take it.
    assert {name for name, _ in second.tick(now=at(2026, 12, 4, 10, 1, 2))} == EVERY_MINUTE
    assert sum(enqueued_paths().values()) == 5


def test_missed_minutes_run_once_on_catch_up(db, db_tasks):
    first = Scheduler()
    first.tick(now=at(2026, 12, 3, 3, 17))
    first.tick(now=at(2026, 12, 3, 3, 27))  # yesterday: the nightly jobs ran
    assert PeriodicRun.objects.filter(name__startswith="hub.").count() == 4
    # The scheduler was down from then until 10:05 today: on restart each job runs once,
    # for the latest time it missed (03:17 and 03:27 for the nightly jobs).
    restarted = Scheduler()
    enqueued = dict(restarted.tick(now=at(2026, 12, 4, 10, 5, 3)))
    assert enqueued["hub.clear_expired_sessions"] == at(2026, 12, 4, 3, 17)
    assert enqueued["hub.prune_task_results"] == at(2026, 12, 4, 3, 27)
    assert enqueued["hub.publish_scheduled"] == at(2026, 12, 4, 10, 5)
    assert enqueued["requetes.dashboard"] == at(2026, 12, 4, 10, 0)
    assert Counter(PeriodicRun.objects.values_list("name", flat=True)) == {
        "hub.publish_scheduled": 3, "alertes.dispatch": 3, "requetes.dashboard": 2,
        "hub.clear_expired_sessions": 2, "hub.prune_task_results": 2}
    # A running scheduler whose tick comes five minutes late (a stalled machine): once.
    late = restarted.tick(now=at(2026, 12, 4, 10, 10, 1))
    assert dict(late) == {name: at(2026, 12, 4, 10, 10)
                          for name in EVERY_MINUTE | EVERY_TEN_MINUTES}


def test_a_failed_enqueue_claims_nothing_and_is_retried(db):
    scheduler = Scheduler(jobs=[PeriodicTask(name="hub.publish_scheduled",
                                             task=publish_scheduled, schedule="* * * * *")])
    # The backend refuses the task (its queue is not served): no run is recorded ...
    refusing = {"default": {**DB_TASKS["default"], "QUEUES": ["elsewhere"]}}
    with override_settings(TASKS=refusing):
        assert scheduler.tick(now=at(2026, 12, 4, 10, 0, 1)) == []
    assert not PeriodicRun.objects.exists() and not DBTaskResult.objects.exists()
    # ... and the next tick, the backend back, runs it (once for the minutes missed).
    with override_settings(TASKS=DB_TASKS):
        assert scheduler.tick(now=at(2026, 12, 4, 10, 1, 1)) == [
            ("hub.publish_scheduled", at(2026, 12, 4, 10, 1))]
    assert DBTaskResult.objects.count() == 1


def test_old_runs_are_pruned_but_each_jobs_latest_is_kept(db, db_tasks):
    scheduler = Scheduler(jobs=[
        PeriodicTask(name="test.minutely", task=publish_scheduled, schedule="* * * * *"),
        PeriodicTask(name="test.monthly", task=clear_expired_sessions, schedule="0 4 1 * *"),
    ])
    scheduler.tick(now=at(2026, 11, 1, 4, 0))   # both
    scheduler.tick(now=at(2026, 11, 5, 10, 0))
    assert PeriodicRun.objects.count() == 3
    scheduler.tick(now=at(2026, 11, 30, 10, 0))  # 7 days kept: the 1st and the 5th go ...
    scheduler.tick(now=at(2026, 12, 1, 3, 0))
    assert sorted(PeriodicRun.objects.values_list("name", "due")) == [
        ("test.minutely", at(2026, 11, 30, 10, 0)), ("test.minutely", at(2026, 12, 1, 3, 0)),
        # ... but the monthly job's last run stays: a restart knows it is not due.
        ("test.monthly", at(2026, 11, 1, 4, 0))]
    assert Scheduler(jobs=scheduler.jobs).tick(now=at(2026, 12, 1, 3, 1)) == [
        ("test.minutely", at(2026, 12, 1, 3, 1))]


def test_the_command_ticks_once(db, db_tasks, capsys):
    call_command("hub", "scheduler", "--once")
    out = capsys.readouterr().out
    assert "enqueued hub.publish_scheduled" in out and "enqueued alertes.dispatch" in out
    runs = dict(PeriodicRun.objects.values_list("name", "due"))
    # The tick is the wall clock's minute: the ten-minute job is due only on 0, 10, 20…
    tick = runs["alertes.dispatch"]
    expected = EVERY_MINUTE | (EVERY_TEN_MINUTES if tick.minute % 10 == 0 else set())
    assert set(runs) == expected
    assert set(runs.values()) == {tick}


def test_the_periodic_tasks_do_their_work(db, citizen, client):
    """What the workers run: the sweep, Wagtail's scheduled publishing, sessions and
    task results purged (run here by the test settings' immediate backend)."""
    from django.contrib.sessions.models import Session

    from hub.tasks import prune_task_results
    from modules.alertes.tasks import dispatch

    assert dispatch.enqueue().return_value == {"scheduled": 0, "review": 0, "requeued": 0}
    assert publish_scheduled.enqueue().status.name == "SUCCESSFUL"
    client.force_login(citizen)
    Session.objects.update(expire_date=timezone.now() - timedelta(days=1))
    clear_expired_sessions.enqueue()
    assert not Session.objects.exists()
    with override_settings(TASKS=DB_TASKS):
        old = publish_scheduled.enqueue()
        DBTaskResult.objects.filter(id=old.id).update(
            status="SUCCESSFUL", finished_at=timezone.now() - timedelta(days=15))
        publish_scheduled.enqueue()  # still queued: kept
        assert prune_task_results.call() == 1
    assert list(DBTaskResult.objects.values_list("status", flat=True)) == ["READY"]
    assert prune_task_results.call() == 0  # not the database backend: nothing to do


SCHEDULER = """
import json, sys, django
django.setup()
from datetime import datetime
from hub.scheduler import Scheduler
scheduler = Scheduler(identity=sys.argv[1])
print("ready", flush=True)
for minute in sys.argv[2:]:
    sys.stdin.readline()  # "go": sent to every scheduler at the same moment
    print(json.dumps([name for name, _ in scheduler.tick(now=datetime.fromisoformat(minute))]),
          flush=True)
"""


def read_line(process: subprocess.Popen, timeout: float) -> str:
    ready, _, _ = select.select([process.stdout], [], [], timeout)
    if not ready:
        raise AssertionError(f"no output from the scheduler within {timeout} s")
    return process.stdout.readline().strip()


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_several_scheduler_processes_never_double_a_run(tmp_path):
    """Three schedulers (three processes, as on three machines) tick the same minutes at
    the same moment, on this run's database (SQLite or PostgreSQL): each job is enqueued
    once per due minute, the catch-up after a gap once."""
    from django.conf import settings

    minutes = [at(2026, 12, 4, 10, 0, 0, 200000), at(2026, 12, 4, 10, 1, 0, 100000),
               at(2026, 12, 5, 3, 30, 0, 300000)]
    with database_copy(tmp_path) as url:
        env = process_env(url, tmp_path)
        processes = [subprocess.Popen(
            [sys.executable, "-c", SCHEDULER, f"scheduler-{n}",
             *(m.isoformat() for m in minutes)],
            cwd=settings.BASE_DIR, env=env, text=True, stdin=subprocess.PIPE,
            stdout=subprocess.PIPE) for n in range(3)]
        try:
            assert [read_line(p, 120) for p in processes] == ["ready"] * 3
            per_minute = []
            for _ in minutes:
                for process in processes:  # release all three together
                    process.stdin.write("go\n")
                for process in processes:
                    process.stdin.flush()
                per_minute.append([json.loads(read_line(p, 60)) for p in processes])
        finally:
            for process in processes:
                process.kill()
                process.wait(timeout=10)
        for outputs in per_minute:
            names = [name for output in outputs for name in output]
            assert len(names) == len(set(names)), f"a run was enqueued twice: {outputs}"
        assert {n for o in per_minute[0] for n in o} == EVERY_MINUTE | EVERY_TEN_MINUTES
        assert {n for o in per_minute[1] for n in o} == EVERY_MINUTE
        assert {n for o in per_minute[2] for n in o} == EVERY_MINUTE | EVERY_TEN_MINUTES | {
            "hub.clear_expired_sessions", "hub.prune_task_results", "requetes.retention"}
        runs = list(PeriodicRun.objects.values_list("name", "task_result_id"))
        assert len(runs) == 11
        assert DBTaskResult.objects.count() == 11
        assert {str(pk) for pk in DBTaskResult.objects.values_list("id", flat=True)} == {
            task_id for _, task_id in runs}
        assert enqueued_paths()["hub.tasks.publish_scheduled"] == 3
