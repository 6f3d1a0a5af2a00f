"""The management dashboard: exact figures on a hand-built dataset, who sees what, the
CSV export, bad filters, and a query count that does not grow with the rows."""

import csv
import datetime
import io

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone, translation

from modules.requetes import dashboard_views, stats
from modules.requetes import roles as requetes_roles
from modules.requetes.models import ServiceRequest
from tests.conftest import make_user

URL = "/admin/requetes/tableau-de-bord/"
EXPORT = "/admin/requetes/tableau-de-bord/export.csv"
PERIOD = {"start": "2026-02-02", "end": "2026-02-15"}  # ISO weeks 6 and 7 of 2026
HOUR = 3600.0
DAY = 86400.0


def local(day, hour=10, minute=0):
    return timezone.make_aware(datetime.datetime(2026, *day, hour, minute))


def add(category, number, created, *, ack=None, closed=None, reason="", due=None):
    return ServiceRequest.objects.create(
        reference=f"2026-{number:06d}", category=category, department=category.department,
        description="Lampadaire éteint", latitude=45.2556, longitude=-74.132,
        created_at=created, acknowledged_at=created + datetime.timedelta(hours=ack)
        if ack is not None else None,
        closed_at=closed, status="closed" if closed else ("acknowledged" if ack else "new"),
        closure_reason=reason, due_date=datetime.date(2026, *due) if due else None)


@pytest.fixture
def dataset(lighting, animals):
    """Department A (lighting) and B (animals); the expected figures are worked out in
    the comments and asserted below."""
    add(lighting, 1, local((2, 2)), ack=2, closed=local((2, 3)), reason="fixed",
        due=(2, 9))  # fixed in time, 1 day
    add(lighting, 2, local((2, 3)), ack=4, closed=local((2, 13)), reason="fixed",
        due=(2, 10))  # fixed late, 10 days
    add(lighting, 3, local((2, 4)), ack=6, closed=local((2, 5)), reason="duplicate",
        due=(2, 11))  # closed in time but a duplicate: never "fixed"
    add(lighting, 4, local((2, 5)), ack=8, due=(2, 12))  # open, overdue at the end
    add(lighting, 5, local((2, 10)), due=(2, 20))  # open, never acknowledged
    add(lighting, 6, local((1, 20)), ack=1, closed=local((2, 9)),
        reason="not_city_responsibility", due=(1, 27))  # received before, closed in
    add(lighting, 7, local((1, 10)), ack=1, closed=local((1, 15)), reason="fixed",
        due=(1, 17))  # entirely before the period
    add(lighting, 8, local((2, 20)), due=(2, 27))  # after the period
    add(lighting, 9, local((1, 25)), due=(1, 30))  # old, open, overdue
    add(lighting, 10, local((2, 12)), ack=10, closed=local((2, 20)), reason="wont_fix",
        due=(2, 19))  # closed after the end: in the backlog at the end
    add(animals, 11, local((2, 6)), ack=1, closed=local((2, 6), 16), reason="fixed",
        due=(2, 10))  # 6 hours
    add(animals, 12, local((2, 9)), ack=3, closed=local((2, 11), 23, 30), reason="fixed",
        due=(2, 11))  # 23:30 local on the due date is 04:30 UTC the next day: in time


def period():
    return stats.Period(datetime.date(2026, 2, 2), datetime.date(2026, 2, 15))


@pytest.mark.django_db
def test_figures_are_exact(dataset, departments):
    result = stats.compute(period())
    total = result.total
    assert (total.received, total.closed, total.backlog, total.overdue) == (8, 6, 4, 2)
    assert total.by_reason == {"fixed": 4, "not_city_responsibility": 1, "wont_fix": 0,
                               "duplicate": 1}
    assert total.fixed == 4
    assert total.fixed_within_level == 3
    assert total.within_level_share == pytest.approx(0.5)
    # acknowledge: 1, 2, 3, 4, 6, 8, 10 hours; resolve: 6 h, 1 d, 1 d, 61.5 h, 10 d, 20 d
    assert total.acknowledge_median == 4 * HOUR
    assert total.acknowledge_p90 == pytest.approx(8.8 * HOUR)
    assert total.resolve_median == pytest.approx(42.75 * HOUR)
    assert total.resolve_p90 == pytest.approx(360 * HOUR)

    by_department = {d.slug: f for d, f in result.by_department}
    a, b = by_department["travaux-publics"], by_department["environnement"]
    assert (a.received, a.closed, a.backlog, a.overdue, a.fixed_within_level) == (6, 4, 4, 2, 1)
    assert a.by_reason == {"fixed": 2, "not_city_responsibility": 1, "wont_fix": 0,
                           "duplicate": 1}
    assert a.within_level_share == pytest.approx(0.25)
    assert a.acknowledge_median == 6 * HOUR
    assert a.acknowledge_p90 == pytest.approx(9.2 * HOUR)
    assert a.resolve_median == pytest.approx(5.5 * DAY)
    assert a.resolve_p90 == pytest.approx(17 * DAY)
    assert (b.received, b.closed, b.backlog, b.overdue, b.fixed_within_level) == (2, 2, 0, 0, 2)
    assert b.acknowledge_median == 2 * HOUR
    assert b.acknowledge_p90 == pytest.approx(2.8 * HOUR)
    assert b.resolve_median == pytest.approx(33.75 * HOUR)
    assert b.resolve_p90 == pytest.approx(55.95 * HOUR)

    by_category = {c.service_code: f for c, f in result.by_category}
    assert by_category["eclairage"].received == 6
    assert by_category["animaux"].closed == 2
    assert [(w.label, w.received, w.closed, w.partial) for w in result.weeks] == [
        ("2026-W06", 5, 3, False), ("2026-W07", 3, 3, False)]


@pytest.mark.django_db
def test_period_filters_department_and_category(dataset, departments, animals):
    only_b = stats.compute(period(), department=departments[1])
    assert [d.slug for d, _f in only_b.by_department] == ["environnement"]
    assert only_b.total.received == 2
    assert stats.compute(period(), category=animals).total.closed == 2
    # A scope limits everything, including the totals.
    scoped = stats.compute(period(), scope=frozenset([departments[0].pk]))
    assert scoped.total.received == 6
    # A partial first week is clipped to the period and said so.
    partial = stats.compute(stats.Period(datetime.date(2026, 2, 4),
                                         datetime.date(2026, 2, 10)))
    assert [(w.label, w.first.day, w.last.day, w.partial) for w in partial.weeks] == [
        ("2026-W06", 4, 8, True), ("2026-W07", 9, 10, True)]
    assert partial.weeks[0].received == 3  # 3 (lighting), 4 (lighting), 11 (animals)


@pytest.mark.django_db
def test_an_empty_period_has_no_medians(lighting):
    total = stats.compute(period()).total
    assert total.received == 0
    assert total.acknowledge_median is None and total.within_level_share is None


def test_percentile_interpolates_like_percentile_cont():
    assert stats.percentile([], 0.5) is None
    assert stats.percentile([5.0], 0.9) == 5.0
    assert stats.percentile([1.0, 2.0, 3.0, 4.0], 0.5) == 2.5
    assert stats.percentile([1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0, 9.0, 10.0],
                            0.9) == pytest.approx(9.1)


@pytest.mark.django_db
def test_administrator_sees_every_department(client, administrator, dataset):
    client.force_login(administrator)
    response = client.get(URL, PERIOD)
    assert response.status_code == 200
    result = response.context["result"]
    assert {d.slug for d, _f in result.by_department} == {"travaux-publics", "environnement"}
    body = response.content.decode()
    assert "Environnement" in body and "Travaux publics" in body
    assert 'for="id_start"' in body and 'id="id_start"' in body


@pytest.mark.django_db
def test_agent_sees_only_their_department(client, agent_a, dataset, departments):
    client.force_login(agent_a)
    response = client.get(URL, PERIOD)
    assert response.status_code == 200
    result = response.context["result"]
    assert [d.slug for d, _f in result.by_department] == ["travaux-publics"]
    assert [c.service_code for c, _f in result.by_category] == ["eclairage"]
    assert result.total.received == 6
    body = response.content.decode()
    assert "Environnement" not in body and "Animaux" not in body
    # Another department's figures: refused, not an empty table.
    assert client.get(URL, {**PERIOD, "department": departments[1].pk}).status_code == 403
    assert client.get(URL, {**PERIOD, "category": "animaux"}).status_code == 403
    assert client.get(EXPORT, {**PERIOD, "department": departments[1].pk}).status_code == 403
    own = client.get(URL, {**PERIOD, "department": departments[0].pk})
    assert own.status_code == 200 and own.context["result"].total.received == 6


@pytest.mark.django_db
def test_others_are_refused(client, citizen, editor, dataset, db):
    assert client.get(URL).status_code == 302  # anonymous: to the sign-in page
    client.force_login(citizen)
    response = client.get(URL)
    assert response.status_code == 302 and "/compte/login/" in response["Location"]
    client.force_login(editor)
    assert client.get(URL).status_code == 403
    assert client.get(EXPORT).status_code == 403
    intake = make_user("saisie.seule@example.com", is_staff=True,
                       groups=[requetes_roles.INTAKE_AGENTS])
    client.force_login(intake)
    assert client.get(URL).status_code == 403


@pytest.mark.django_db
@pytest.mark.parametrize("params", [
    {"start": "pas-une-date"},
    {"start": "2026-02-31"},
    {"end": "2026-13-01"},
    {"start": "2026-02-15", "end": "2026-02-02"},
    {"start": "2020-01-01", "end": "2026-01-01"},
    {"department": "999999"},
    {"department": "1 OR 1=1"},
    {"category": "'; DROP TABLE requetes_servicerequest; --"},
    {"start": "2026-02-02' OR '1'='1"},
])
def test_bad_filters_are_a_clear_error(client, administrator, dataset, params):
    client.force_login(administrator)
    response = client.get(URL, params)
    assert response.status_code == 400
    assert response.context["result"] is None
    assert response.context["form"].errors
    assert 'role="alert"' in response.content.decode()
    export = client.get(EXPORT, params)
    assert export.status_code == 400
    assert export.content.decode().strip()
    assert ServiceRequest.objects.count() == 12


@pytest.mark.django_db
def test_csv_export_has_the_same_figures(client, agent_a, dataset):
    client.force_login(agent_a)
    response = client.get(EXPORT, PERIOD)
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    assert "attachment" in response["Content-Disposition"]
    text = response.content.decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(text), delimiter=";"))
    header = rows[0]
    assert len(header) == 18
    with translation.override("fr"):
        assert header[4:] == [label for _key, label in dashboard_views.columns()]
    levels = [row[0] for row in rows[1:]]
    assert len(levels) == 3  # the total, department A, its one category
    total = rows[1]
    assert total[4:12] == ["6", "4", "2", "1", "0", "1", "4", "2"]
    assert total[12] == "6,0"  # acknowledge median in hours, French decimal comma
    assert total[17] == "25,0"  # fixed within the service level, % of closed
    assert all("Environnement" not in row for row in rows)
    assert rows[3][2] == "eclairage"

    weeks = client.get(EXPORT, {**PERIOD, "table": "weeks"})
    week_rows = list(csv.reader(io.StringIO(weeks.content.decode("utf-8-sig")),
                                delimiter=";"))
    assert week_rows[1:] == [["2026-W06", "2026-02-02", "2026-02-08", "4", "2"],
                             ["2026-W07", "2026-02-09", "2026-02-15", "2", "2"]]
    assert client.get(EXPORT, {"table": "nope"}).status_code == 400


@pytest.mark.django_db
def test_page_shows_honest_closure_reasons_and_trend(client, administrator, dataset):
    client.force_login(administrator)
    body = client.get(URL, PERIOD).content.decode()
    assert "2026-W06" in body and "<svg" in body
    assert 'aria-hidden="true"' in body
    for label in ("Duplicate", "Doublon"):
        if label in body:
            break
    else:
        pytest.fail("the duplicate closure reason is not shown")


def _bulk(category, start_number, count):
    for index in range(count):
        created = local((2, 2 + index % 10), 8 + index % 8)
        add(category, start_number + index, created, ack=1 + index % 5,
            closed=created + datetime.timedelta(days=1 + index % 4) if index % 2 else None,
            reason="fixed" if index % 2 else "", due=(2, 20))


@pytest.mark.django_db
def test_query_count_does_not_grow_with_rows(client, administrator, lighting, animals):
    client.force_login(administrator)
    _bulk(lighting, 1, 10)
    client.get(URL, PERIOD)  # warm caches (content types, site settings…)
    with CaptureQueriesContext(connection) as few:
        assert client.get(URL, PERIOD).status_code == 200
    _bulk(lighting, 100, 25)
    _bulk(animals, 200, 25)
    with CaptureQueriesContext(connection) as many:
        response = client.get(URL, PERIOD)
    assert response.context["result"].total.received == 60
    # One more department and category on the page cost nothing either.
    assert len(many) == len(few)
    with CaptureQueriesContext(connection) as exported:
        client.get(EXPORT, PERIOD)
    with CaptureQueriesContext(connection) as computed:
        stats.compute(period())
    # three counts, the two duration cohorts (read with the counts on PostgreSQL, one
    # query each elsewhere), and the names of the departments and of the categories
    assert len(computed) == (5 if connection.vendor == "postgresql" else 7)
    assert len(exported) < len(many)


# --- the charts (issue 13): backlog over time, time to resolve, on time ------------------

def _backlog_at(moment):
    """The oracle: requests created before ``moment`` and not closed before it, counted
    one by one in Python."""
    return sum(1 for r in ServiceRequest.objects.all()
               if r.created_at < moment and (r.closed_at is None or r.closed_at >= moment))


@pytest.mark.django_db
def test_weekly_backlog_matches_a_count_at_each_week_end(dataset):
    """Five weeks (2026-W03 to W07): the backlog at the end of each week, worked out from
    the period's end without a query per week, equals a direct count at that instant."""
    result = stats.compute(stats.Period(datetime.date(2026, 1, 12), datetime.date(2026, 2, 15)))
    got = [(w.label, w.backlog) for w in result.weeks]
    expected = [(w.label, _backlog_at(stats._midnight(w.last + datetime.timedelta(days=1))))
                for w in result.weeks]
    assert got == expected
    # W03 ends with 7 (closed 01-15) closed and nothing else created; W04: 6 (01-20),
    # 9 (01-25); W06 ends with 2, 4, 6, 9 open; W07: 2 closed, 5, 10, 12 received…
    assert got == [("2026-W03", 0), ("2026-W04", 2), ("2026-W05", 2), ("2026-W06", 4),
                   ("2026-W07", 4)]
    assert result.weeks[-1].backlog == result.total.backlog


def test_human_durations():
    with translation.override("fr"):
        assert dashboard_views.charts.human_duration(21.864933) == "21 s"
        assert dashboard_views.charts.human_duration(5 * 60) == "5 min"
        assert dashboard_views.charts.human_duration(3 * HOUR + 20 * 60) == "3 h 20 min"
        assert dashboard_views.charts.human_duration(3 * DAY + 4 * HOUR) == "3 j 4 h"
        assert dashboard_views.charts.human_duration(2 * DAY) == "2 j"
    with translation.override("en"):
        assert dashboard_views.charts.human_duration(3 * DAY + 4 * HOUR) == "3 d 4 h"
    assert dashboard_views.charts.human_duration(None) == ""


def _chart(body: str, slug: str) -> tuple[str, str]:
    """(the chart's svg, its data table) in the page."""
    section = body.split(f'aria-labelledby="{slug}-heading"', 1)[1].split("</section>", 1)[0]
    svg = section.split("<svg", 1)[1].split("</svg>", 1)[0]
    table = section.split("<table", 1)[1].split("</table>", 1)[0]
    assert 'role="img"' in svg
    assert f'aria-labelledby="{slug}-title {slug}-desc"' in svg
    assert f'<title id="{slug}-title">' in svg and f'<desc id="{slug}-desc">' in svg
    return svg, table


def _rows(table: str) -> list[tuple[str, str]]:
    import re

    return re.findall(r'<tr><th scope="row">(.*?)</th><td>(.*?)</td></tr>', table)


@pytest.mark.django_db
def test_charts_show_the_figures_of_real_requests(client, administrator, dataset):
    client.force_login(administrator)
    with translation.override("fr"):
        response = client.get(URL, {**PERIOD, "start": "2026-01-12"}, HTTP_ACCEPT_LANGUAGE="fr")
    body = response.content.decode()
    assert response.status_code == 200

    svg, table = _chart(body, "chart-backlog")
    assert [value for _label, value in _rows(table)] == ["0", "2", "2", "4", "4"]
    assert _rows(table)[0][0].startswith("2026-W03")
    assert svg.count("<circle") == 5 and "<polyline" in svg
    assert "4" in svg.split("<desc", 1)[1].split("</desc>", 1)[0]

    # Resolve: lighting 1 d, 10 d, 1 d, 20 d (request 6), 5 closed from 01-12 → median of
    # 1, 1, 5 (request 7: 01-10 → 01-15), 10, 20 days = 5 days; animals 6 h and 61.5 h.
    svg, table = _chart(body, "chart-resolve")
    rows = dict(_rows(table))
    assert rows == {"Éclairage de rue": "5 j", "Animaux": "1 j 10 h"}
    assert "5 j" in svg and "1 j 10 h" in svg and "Éclairage de rue" in svg
    widths = [float(w) for w in
              __import__("re").findall(r'class="rq-chart__bar"[^>]*width="([\d.]+)"', svg)]
    assert len(widths) == 2 and max(widths) == pytest.approx(640 - 150)

    svg, table = _chart(body, "chart-on-time")
    rows = dict(_rows(table))
    # Travaux publics: requests 1 (in time) and 7 (in time) fixed, 2 late, 3 duplicate,
    # 6 not the city's: 2 of 5; Environnement: 2 of 2.
    assert rows == {"Environnement": "100\u00a0% (2 sur 2)",
                    "Travaux publics": "40\u00a0% (2 sur 5)"}
    assert "100\u00a0% (2 sur 2)" in svg and "40\u00a0% (2 sur 5)" in svg


@pytest.mark.django_db
def test_charts_follow_the_department_scope(client, agent_a, dataset):
    client.force_login(agent_a)
    body = client.get(URL, PERIOD).content.decode()
    for slug in ("chart-resolve", "chart-on-time"):
        svg, table = _chart(body, slug)
        assert "Environnement" not in svg + table and "Animaux" not in svg + table
    _svg, table = _chart(body, "chart-on-time")
    assert [label for label, _value in _rows(table)] == ["Travaux publics"]


@pytest.mark.django_db
def test_charts_cost_no_query(dataset):
    result = stats.compute(period())
    with CaptureQueriesContext(connection) as queries:
        charts = dashboard_views.charts.dashboard_charts(result)
    assert len(queries) == 0
    assert [c.slug for c in charts] == ["chart-backlog", "chart-resolve", "chart-on-time"]
