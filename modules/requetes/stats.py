"""Management figures on service requests, computed by the database.

The city built the platform to process requests better; these figures are how managers
see whether it does.  Everything is aggregated in SQL: one grouped query per cohort for
the counts (received and closed by department × category × week, the backlog at the
end), and one query per duration cohort for the medians and 90th percentiles of the
whole city, each department and each category (the durations computed by the database
and sent grouped by department × category; see ``durations``); both cohorts are read
from covering indexes.  The cost depends on the period, not on how many rows a table
shows.

Definitions (the dashboard and its CSV say the same):

- *received*: created during the period;
- *closed*: closed during the period, broken down by closure reason.  Only ``fixed``
  counts as fixed: a request closed as a duplicate, as not the city's responsibility or
  as "will not be fixed" is closed, never fixed;
- *open backlog*: created before the end of the period and still open at its end;
- *overdue*: in the backlog with an expected date before the last day of the period;
- *time to acknowledge*: ``acknowledged_at - created_at`` for requests received during
  the period (``acknowledged_at`` is the first move out of "new", copied from the history);
- *time to resolve*: ``closed_at - created_at`` for requests closed during the period;
- *resolved within the service level*: closed during the period with the reason
  ``fixed`` on or before the expected date (local date), out of all the requests closed
  during the period — closing a request for another reason never improves the share;
- medians and 90th percentiles are continuous percentiles (PostgreSQL's
  ``percentile_cont``; the same interpolation in Python on other databases).
"""

from __future__ import annotations

import datetime
from collections import defaultdict
from dataclasses import dataclass, field

from django.contrib.postgres.aggregates import ArrayAgg
from django.core.exceptions import PermissionDenied
from django.db import connection
from django.db.models import (
    Count,
    DateField,
    F,
    Func,
    IntegerField,
    Q,
)
from django.db.models.functions import TruncDate
from django.utils import timezone

from hub.models import Department

from . import services
from .durations import SecondsBetween, _apply_durations, _durations, percentiles_of_runs
from .durations import percentile as percentile  # the dashboard tests read stats.percentile
from .models import Category, ServiceRequest

Reason = ServiceRequest.ClosureReason

DEFAULT_DAYS = 90
MAX_DAYS = 731  # two years of weekly columns is as wide as a figures query gets
REASONS = tuple(Reason.values)


# --- who sees which figures --------------------------------------------------------------

def dashboard_scope(user) -> frozenset[int] | None:
    """The departments whose figures ``user`` may see: ``None`` for every department
    (administrators: the city's management), the ids of their own departments for
    department agents.  Anyone else (citizens, editors, intake-only agents, who handle
    no department's requests) gets ``PermissionDenied``."""
    if services.is_administrator(user):
        return None
    if services.is_department_agent(user):
        return frozenset(user.departments.values_list("pk", flat=True))
    raise PermissionDenied


# --- the period ----------------------------------------------------------------------

@dataclass(frozen=True)
class Period:
    """Whole local days, both ends included."""

    start: datetime.date
    end: datetime.date

    @classmethod
    def default(cls, today: datetime.date | None = None) -> Period:
        today = today or timezone.localdate(timezone=timezone.get_default_timezone())
        return cls(today - datetime.timedelta(days=DEFAULT_DAYS - 1), today)

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1

    def bounds(self) -> tuple[datetime.datetime, datetime.datetime]:
        """[start, end) as aware datetimes: local midnight to the midnight after the end."""
        return _midnight(self.start), _midnight(self.end + datetime.timedelta(days=1))

    def weeks(self) -> list[Week]:
        """The ISO weeks the period touches, each clipped to the period."""
        result = []
        monday = self.start - datetime.timedelta(days=self.start.weekday())
        while monday <= self.end:
            first = max(monday, self.start)
            last = min(monday + datetime.timedelta(days=6), self.end)
            year, number, _weekday = monday.isocalendar()
            result.append(Week(year=year, number=number, first=first, last=last,
                               partial=(last - first).days < 6))
            monday += datetime.timedelta(days=7)
        return result


def _midnight(day: datetime.date) -> datetime.datetime:
    """Midnight in the city's time zone (the figures are the city's, whoever asks)."""
    return timezone.make_aware(datetime.datetime.combine(day, datetime.time()),
                               timezone.get_default_timezone())


@dataclass
class Week:
    year: int
    number: int
    first: datetime.date
    last: datetime.date
    partial: bool
    received: int = 0
    closed: int = 0
    # Open at the end of the week's last day (see ``_weekly_backlog``).
    backlog: int = 0

    @property
    def label(self) -> str:
        return f"{self.year}-W{self.number:02d}"


# --- the figures ---------------------------------------------------------------------

@dataclass
class Figures:
    received: int = 0
    closed: int = 0
    by_reason: dict[str, int] = field(default_factory=lambda: dict.fromkeys(REASONS, 0))
    backlog: int = 0
    overdue: int = 0
    fixed_within_level: int = 0
    # Seconds; None when nothing was acknowledged / closed.
    acknowledge_median: float | None = None
    acknowledge_p90: float | None = None
    resolve_median: float | None = None
    resolve_p90: float | None = None
    # {week label: (received, closed)}: only on the (department, category) rows.
    week_counts: dict[str, tuple[int, int]] = field(default_factory=dict, repr=False)

    @property
    def fixed(self) -> int:
        return self.by_reason[Reason.FIXED]

    @property
    def within_level_share(self) -> float | None:
        """Share (0–1) of the requests closed in the period that were fixed in time."""
        return self.fixed_within_level / self.closed if self.closed else None

    def add_counts(self, other: Figures) -> None:
        self.received += other.received
        self.closed += other.closed
        self.backlog += other.backlog
        self.overdue += other.overdue
        self.fixed_within_level += other.fixed_within_level
        for reason in REASONS:
            self.by_reason[reason] += other.by_reason[reason]

    def reason_rows(self) -> list[tuple[str, str, int]]:
        return [(value, label, self.by_reason[value]) for value, label in Reason.choices]


@dataclass
class Dashboard:
    period: Period
    department: Department | None
    category: Category | None
    total: Figures
    by_department: list[tuple[Department, Figures]]
    by_category: list[tuple[Category, Figures]]
    weeks: list[Week]
    # When the figures were read from the database, and whether that was for this page
    # (``live``) or by the periodic snapshot (``snapshots``): the page says which.
    as_of: datetime.datetime | None = None
    live: bool = True

    @property
    def busiest_week(self) -> int:
        return max([1, *(max(w.received, w.closed) for w in self.weeks)])


# --- computing -----------------------------------------------------------------------

def base_queryset(scope: frozenset[int] | None, department: Department | None = None,
                  category: Category | None = None):
    qs = ServiceRequest.objects.order_by()
    if scope is not None:
        qs = qs.filter(department_id__in=scope)
    if department is not None:
        qs = qs.filter(department=department)
    if category is not None:
        qs = qs.filter(category=category)
    return qs


@dataclass
class Gathered:
    """What the database gives for a period, before the dashboard is laid out: the
    counts by (department, category) pair and the duration percentiles of the whole
    selection, of each department and of each category (``durations._durations``'s
    shape).  ``compute`` lays it out at once; a snapshot (``snapshots``) keeps the
    city's for the usual periods, and a view within it is laid out from its pairs."""

    pairs: dict[tuple[int, int], Figures]
    durations: dict[str, dict]


def gather(period: Period, qs) -> Gathered:
    """The counts and durations of ``qs``'s requests for ``period`` (see ``_counts``)."""
    start, end = period.bounds()
    weeks = period.weeks()
    if connection.vendor == "postgresql":
        # The durations come with the counts (one pass over each cohort).
        runs: dict[str, dict] | None = {"acknowledge": defaultdict(list),
                                        "resolve": defaultdict(list)}
    else:
        runs = None
    pairs = _counts(qs, period, start, end, weeks, runs)
    if runs is not None:
        durations = {name: percentiles_of_runs(found) for name, found in runs.items()}
    else:
        durations = _durations(qs, start, end)
    return Gathered(pairs=pairs, durations=durations)


def compute(period: Period, *, scope: frozenset[int] | None = None,
            department: Department | None = None,
            category: Category | None = None) -> Dashboard:
    """Every figure of the dashboard for ``period``, limited to ``scope`` (see
    :func:`dashboard_scope`) and to one department or category when given, read from
    the database now.  The caller checks that ``department`` and ``category`` are
    within ``scope``."""
    gathered = gather(period, base_queryset(scope, department, category))
    return assemble(period, gathered, department=department, category=category,
                    as_of=timezone.now(), live=True)


def assemble(period: Period, gathered: Gathered, *, department: Department | None = None,
             category: Category | None = None, as_of: datetime.datetime,
             live: bool) -> Dashboard:
    """The dashboard laid out from ``gathered`` (totals, rows by department and by
    category, weekly trend); two queries for the departments' and categories' names."""
    pairs, durations = gathered.pairs, gathered.durations
    weeks = period.weeks()
    department_ids = {dep for dep, _cat in pairs}
    category_ids = {cat for _dep, cat in pairs}
    departments = {d.pk: d for d in Department.objects.filter(pk__in=department_ids)}
    categories = {c.pk: c for c in Category.objects.filter(pk__in=category_ids)
                  .select_related("department")}

    total = Figures()
    per_department: dict[int, Figures] = defaultdict(Figures)
    per_category: dict[int, Figures] = defaultdict(Figures)
    for (dep, cat), figures in pairs.items():
        total.add_counts(figures)
        per_department[dep].add_counts(figures)
        per_category[cat].add_counts(figures)
    _apply_durations(durations, total, per_department, per_category)

    by_department = sorted(((departments[pk], f) for pk, f in per_department.items()),
                           key=lambda item: item[0].name.lower())
    by_category = sorted(((categories[pk], f) for pk, f in per_category.items()),
                         key=lambda item: (item[0].department_id, item[0].name.lower()))
    for week in weeks:
        week.received = sum(f.week_counts[week.label][0] for f in pairs.values())
        week.closed = sum(f.week_counts[week.label][1] for f in pairs.values())
    _weekly_backlog(weeks, total.backlog)
    return Dashboard(period=period, department=department, category=category, total=total,
                     by_department=by_department, by_category=by_category, weeks=weeks,
                     as_of=as_of, live=live)


def _weekly_backlog(weeks: list[Week], backlog_at_end: int) -> None:
    """The open backlog at the end of each week, without another query: walking back
    from the backlog at the end of the period, each later week's received are taken off
    and its closed put back (a request open at the end of week *k* and closed later was
    closed in a later week; one received after week *k* was not yet open)."""
    backlog = backlog_at_end
    for week in reversed(weeks):
        week.backlog = backlog
        backlog = backlog - week.received + week.closed


class LocalDate(Func):
    """The city's local calendar date of a datetime column.  On SQLite, the native
    ``date(x, 'localtime')`` (Django sets the process time zone to ``TIME_ZONE``, and
    SQLite applies its daylight-saving rules) instead of Django's per-row Python
    function, which costs seconds over a year of closures."""

    output_field = DateField()

    def as_sqlite(self, compiler, connection, **extra):
        sql, params = compiler.compile(self.source_expressions[0])
        return f"date({sql}, 'localtime')", params

    def as_sql(self, compiler, connection, **extra):
        return compiler.compile(TruncDate(self.source_expressions[0],
                                          tzinfo=timezone.get_default_timezone()))


def _by_pair(qs, *extra: str):
    """Grouped by (department, category) and the ``extra`` annotations, through
    ``+column`` expressions: with the plain columns SQLite walks the whole department
    index to avoid one sort, a random read per row instead of one pass over the table
    (~40 % slower with 200,000 rows)."""
    return qs.annotate(
        dep=Func(F("department_id"), template="+%(expressions)s", output_field=IntegerField()),
        cat=Func(F("category_id"), template="+%(expressions)s", output_field=IntegerField()),
    ).values("dep", "cat", *extra)


def _week_of_day(period: Period, weeks: list[Week]) -> dict[datetime.date, str]:
    """{each local day of the period: the label of its week}"""
    result = {}
    for week in weeks:
        day = week.first
        while day <= week.last:
            result[day] = week.label
            day += datetime.timedelta(days=1)
    return result


class WeekIndex(Func):
    """The index of the period's week a datetime falls in (PostgreSQL's
    ``width_bucket`` over the weeks' first instants: a binary search per row, where the
    local date of each row needs a time-zone conversion)."""

    output_field = IntegerField()

    def __init__(self, expression, boundaries: list[datetime.datetime]):
        super().__init__(expression)
        self.boundaries = boundaries

    def as_postgresql(self, compiler, connection, **extra):
        sql, params = compiler.compile(self.source_expressions[0])
        return f"width_bucket({sql}, %s::timestamptz[])", (*params, self.boundaries)


def _buckets(column: str, period: Period, weeks: list[Week]):
    """(an expression grouping ``column`` within the period, a function from its value
    to the week's label): the week's index on PostgreSQL, the local day elsewhere."""
    labels = [week.label for week in weeks]
    if connection.vendor == "postgresql":
        boundaries = [_midnight(week.first) for week in weeks[1:]]
        return WeekIndex(column, boundaries), labels.__getitem__
    return LocalDate(column), _week_of_day(period, weeks).__getitem__


def _counts(qs, period: Period, start, end, weeks: list[Week],
            runs: dict[str, dict] | None = None) -> dict[tuple, Figures]:
    """Three grouped queries, one per cohort so that each reads only its rows (the
    received on the created_at index, the closed on the closed_at index, both covering
    on PostgreSQL; the backlog at the end on the status index when the period ends
    today).  The received and the closed are grouped by week (by local day on SQLite)
    and added up here: a few thousand rows at most for a year, where a conditional
    count per week cost the database 53 conditions per row.  Rows are counted by
    ``created_at`` (never NULL), not by id: the id is not in the covering indexes, and
    naming it sends PostgreSQL to the table.

With ``runs`` (PostgreSQL), the received and the closed queries also bring their rows'
durations as arrays (``array_agg``; the time to acknowledge, the time to resolve), added
to ``runs["acknowledge"]`` and ``runs["resolve"]`` by (department, category): the
duration cohorts are then read in the same pass as the counts, not in a query each
(the cohorts are the same rows: received in the period and acknowledged, closed in the
period)."""
    result: dict[tuple, Figures] = defaultdict(Figures)
    labels = [week.label for week in weeks]

    def figures_for(row) -> Figures:
        figures = result[(row["dep"], row["cat"])]
        if not figures.week_counts:
            figures.week_counts = dict.fromkeys(labels, (0, 0))
        return figures

    received_durations, closed_durations = {}, {}
    if runs is not None:
        received_durations = {"durations": ArrayAgg(
            SecondsBetween(F("acknowledged_at"), F("created_at")),
            filter=Q(acknowledged_at__isnull=False))}
        closed_durations = {"durations": ArrayAgg(
            SecondsBetween(F("closed_at"), F("created_at")))}

    bucket, label_of = _buckets("created_at", period, weeks)
    received = (_by_pair(qs.filter(created_at__gte=start, created_at__lt=end)
                         .annotate(bucket=bucket), "bucket")
                .annotate(n=Count("created_at"), **received_durations))
    for row in received:
        figures = figures_for(row)
        figures.received += row["n"]
        if runs is not None and row["durations"]:
            runs["acknowledge"][(row["dep"], row["cat"])] += row["durations"]
        label = label_of(row["bucket"])
        done_received, done_closed = figures.week_counts[label]
        figures.week_counts[label] = (done_received + row["n"], done_closed)

    reasons = {f"reason{i}": Count("created_at", filter=Q(closure_reason=reason))
               for i, reason in enumerate(REASONS)}
    bucket, label_of = _buckets("closed_at", period, weeks)
    closed = (_by_pair(qs.filter(closed_at__gte=start, closed_at__lt=end)
                       .annotate(bucket=bucket).alias(closed_day=LocalDate("closed_at")),
                       "bucket")
              .annotate(n=Count("created_at"), within=Count("created_at", filter=Q(
                  closure_reason=Reason.FIXED) & Q(closed_day__lte=F("due_date"))),
                  **reasons, **closed_durations))
    for row in closed:
        figures = figures_for(row)
        figures.closed += row["n"]
        if runs is not None and row["durations"]:
            runs["resolve"][(row["dep"], row["cat"])] += row["durations"]
        figures.fixed_within_level += row["within"]
        for i, reason in enumerate(REASONS):
            figures.by_reason[reason] += row[f"reason{i}"]
        label = label_of(row["bucket"])
        done_received, done_closed = figures.week_counts[label]
        figures.week_counts[label] = (done_received, done_closed + row["n"])

    if end > timezone.now():
        # Nothing can have been closed after the end yet: open now is open at the end.
        open_at_end = Q(status__in=ServiceRequest.OPEN_STATUSES)
    else:
        open_at_end = Q(closed_at__isnull=True) | Q(closed_at__gte=end)
    backlog = (_by_pair(qs.filter(open_at_end, created_at__lt=end))
               .annotate(backlog=Count("created_at"),
                         overdue=Count("created_at", filter=Q(due_date__lt=period.end))))
    for row in backlog:
        figures = figures_for(row)
        figures.backlog = row["backlog"]
        figures.overdue = row["overdue"]
    return dict(result)
