"""The dashboard's usual periods computed ahead (``snapshots``): every view laid out from
a snapshot has exactly the live figures, a view it cannot hold exactly is computed
live, an old snapshot is never shown, the page says "as of" and can compute now, and
the scheduler's job → the worker → the snapshot → the page works end to end."""

import dataclasses
import datetime

import pytest
from django.core.management import call_command
from django.db import connection
from django.test import override_settings
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from hub.scheduler import Scheduler, periodic_tasks
from modules.requetes import snapshots, stats
from modules.requetes.models import DashboardSnapshot, ServiceRequest
from modules.requetes.tasks import refresh_dashboard
from tests.requetes.test_dashboard import EXPORT, PERIOD, URL, add, dataset, local, period

__all__ = ["dataset"]  # the fixture, shared with test_dashboard

DB_TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend", "QUEUES": ["default"]}}


def flat(result: stats.Dashboard) -> dict:
    """Every figure a dashboard shows, comparable with ``==``."""
    def figures(f):
        values = dataclasses.asdict(f)
        values.pop("week_counts")
        return values

    return {
        "total": figures(result.total),
        "departments": [(d.pk, figures(f)) for d, f in result.by_department],
        "categories": [(c.pk, figures(f)) for c, f in result.by_category],
        "weeks": [(w.label, w.received, w.closed, w.backlog) for w in result.weeks],
    }


def views(departments, lighting, animals):
    a, b = departments[0], departments[1]
    return {
        "the city": {"scope": None},
        "one department": {"scope": None, "department": a},
        "the other department": {"scope": None, "department": b},
        "one category": {"scope": None, "category": lighting},
        "an agent of one department": {"scope": frozenset([a.pk])},
        "an agent of both": {"scope": frozenset([a.pk, b.pk])},
        "a category outside the department (empty)": {"scope": None, "department": a,
                                                       "category": animals},
    }


@pytest.mark.django_db
def test_every_view_from_the_snapshot_has_the_live_figures(dataset, departments, lighting,
                                                            animals):
    snapshot = snapshots.store(period())
    for name, view in views(departments, lighting, animals).items():
        kept = snapshots.dashboard(period(), **view)
        assert not kept.live, name
        assert kept.as_of == snapshot.computed_at, name
        assert flat(kept) == flat(stats.compute(period(), **view)), name
    city = snapshots.dashboard(period(), scope=None)
    assert city.total.received == 8 and city.total.resolve_p90 == pytest.approx(
        360 * 3600)  # the figures test_dashboard works out by hand


@pytest.mark.django_db
def test_a_view_that_would_split_a_group_is_computed_live(dataset, departments, lighting):
    """A lighting request handled by the other department: the lighting category spans
    both departments, so department A's view (a part of the category's durations) cannot
    come from the snapshot's percentiles."""
    moved = add(lighting, 20, local((2, 6)), ack=30, closed=local((2, 14)), reason="fixed")
    ServiceRequest.objects.filter(pk=moved.pk).update(department=departments[1])
    snapshots.store(period())
    for view in ({"scope": None, "department": departments[0]},
                 {"scope": frozenset([departments[0].pk])},
                 {"scope": None, "department": departments[1]},
                 # the category's view shows department B's row with part of its pairs
                 {"scope": None, "category": lighting}):
        result = snapshots.dashboard(period(), **view)
        assert result.live
        assert flat(result) == flat(stats.compute(period(), **view))
    # The whole city still comes from it.
    assert not snapshots.dashboard(period(), scope=None).live


@pytest.mark.django_db
def test_an_old_snapshot_or_another_period_is_not_used(dataset):
    snapshot = snapshots.store(period())
    assert not snapshots.dashboard(period(), scope=None).live
    other = stats.Period(period().start, period().end + datetime.timedelta(days=1))
    assert snapshots.dashboard(other, scope=None).live
    DashboardSnapshot.objects.filter(pk=snapshot.pk).update(
        computed_at=timezone.now() - snapshots.MAX_AGE - datetime.timedelta(seconds=1))
    assert snapshots.dashboard(period(), scope=None).live
    assert not snapshots.dashboard(
        period(), scope=None, now=timezone.now() - datetime.timedelta(minutes=5)).live
    snapshots.store(period())  # a run replaces the period's row
    assert DashboardSnapshot.objects.count() == 1
    assert not snapshots.dashboard(period(), scope=None).live
    assert snapshots.dashboard(period(), scope=None, fresh=True).live


@pytest.mark.django_db
def test_the_page_says_as_of_when_and_computes_now_on_demand(client, administrator, dataset,
                                                              lighting):
    snapshot = snapshots.store(period())
    add(lighting, 30, local((2, 14)))  # received after the snapshot was taken
    client.force_login(administrator)
    response = client.get(URL, {**PERIOD}, HTTP_ACCEPT_LANGUAGE="fr")
    assert response.status_code == 200
    body = response.content.decode()
    as_of = timezone.localtime(snapshot.computed_at).strftime("%H:%M")
    assert f"Chiffres au {as_of}" in body
    assert response.context["result"].total.received == 8  # as of the snapshot
    assert "fresh=1" in body and "Les calculer maintenant" in body
    fresh = client.get(URL, {**PERIOD, "fresh": "1"}, HTTP_ACCEPT_LANGUAGE="fr")
    assert fresh.context["result"].live and fresh.context["result"].total.received == 9
    assert "Chiffres lus à" in fresh.content.decode()
    # The CSV says what the page says.
    assert "\n" + "Toutes;;;;8;" in client.get(EXPORT, PERIOD, HTTP_ACCEPT_LANGUAGE="fr"
                                          ).content.decode("utf-8-sig").replace("\r", "")
    assert ";;;;9;" in client.get(EXPORT, {**PERIOD, "fresh": "1"},
                                  HTTP_ACCEPT_LANGUAGE="fr").content.decode("utf-8-sig")


@pytest.mark.django_db
def test_the_usual_periods_are_offered_with_the_other_filters(client, administrator,
                                                              departments):
    client.force_login(administrator)
    body = client.get(URL, {"department": departments[0].pk},
                      HTTP_ACCEPT_LANGUAGE="fr").content.decode()
    today = timezone.localdate(timezone=timezone.get_default_timezone())
    for days in snapshots.PRESET_DAYS:
        start = (today - datetime.timedelta(days=days - 1)).isoformat()
        assert (f"department={departments[0].pk}&amp;start={start}&amp;end={today}"
                in body)
    assert "12 derniers mois" in body and "90 derniers jours" in body


@pytest.mark.django_db
def test_a_snapshot_costs_fewer_queries_than_the_live_figures(client, administrator,
                                                               dataset):
    client.force_login(administrator)
    client.get(URL, PERIOD)  # the session's first use writes it
    with CaptureQueriesContext(connection) as live:
        client.get(URL, PERIOD)
    snapshots.store(period())
    with CaptureQueriesContext(connection) as kept:
        response = client.get(URL, PERIOD)
    assert not response.context["result"].live
    # Both look for the snapshot; the live page then makes the three grouped reads (and
    # SQLite its two duration reads), which the snapshot's row replaces.
    assert len(kept) == len(live) - (3 if connection.vendor == "postgresql" else 5)


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_the_scheduler_keeps_the_usual_periods_and_the_page_shows_them(
        client, administrator, make_request):
    """The real path: the scheduler enqueues ``requetes.dashboard`` at its minute, the
    database worker runs it, and the default view opens from its snapshot."""
    job = {job.name: job for job in periodic_tasks()}["requetes.dashboard"]
    assert job.task is refresh_dashboard and job.schedule == snapshots.SCHEDULE
    make_request()
    DashboardSnapshot.objects.create(start=datetime.date(2020, 1, 1),
                                     end=datetime.date(2020, 3, 30),
                                     computed_at=timezone.now(), figures={})
    with override_settings(TASKS=DB_TASKS):
        now = timezone.localtime().replace(minute=40, second=5, microsecond=0)
        enqueued = dict(Scheduler(jobs=[job]).tick(now=now))
        assert enqueued == {"requetes.dashboard": now.replace(second=0)}
        assert DBTaskResult.objects.filter(task_path=refresh_dashboard.module_path).count() == 1
        call_command("db_worker", "--batch", "--no-startup-delay", "--no-reload")
    periods = snapshots.preset_periods()
    assert sorted(DashboardSnapshot.objects.values_list("start", "end")) == sorted(
        (p.start, p.end) for p in periods)  # the 2020 period is gone
    client.force_login(administrator)
    response = client.get(URL)
    result = response.context["result"]
    assert not result.live and result.period == periods[0]
    assert result.total.received == 1
    assert flat(result) == flat(stats.compute(periods[0]))
