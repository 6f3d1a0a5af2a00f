"""The dashboard's usual periods, computed ahead by a periodic job.

A year of requests takes a few hundred milliseconds to count and sort (``stats``); the
management opens the same few views over and over.  Every ten minutes the job
``requetes.dashboard`` reads the city's figures for the periods the dashboard offers
(the default 90 days and the last 12 months, both ending today) and keeps them
(``DashboardSnapshot``).  A view of one of these periods is laid out from the snapshot
when it is recent and the view's figures can be taken from it *exactly*:

- the totals are a group the snapshot has: the whole city, one department or one
  category;
- every department and every category the view shows is whole in it (none of its
  (department, category) pairs left out by the filter or the user's scope), since a
  percentile cannot be taken from part of a group's durations.

Any other view, an older snapshot or ``fresh`` is computed on the spot, as before.  The
page says which ("as of HH:MM" and a link to recompute), so nobody takes ten-minute-old
figures for live ones.
"""

from __future__ import annotations

import datetime
from collections import defaultdict

from django.db import IntegrityError, transaction
from django.utils import timezone

from . import stats
from .models import DashboardSnapshot

# The periods the dashboard offers (days, ending today) and the job keeps.
PRESET_DAYS = (stats.DEFAULT_DAYS, 365)
SCHEDULE = "*/10 * * * *"
# A snapshot older than this is not shown (the job missed two runs: a stopped worker).
MAX_AGE = datetime.timedelta(minutes=25)


def preset_periods(today: datetime.date | None = None) -> list[stats.Period]:
    today = today or timezone.localdate(timezone=timezone.get_default_timezone())
    return [stats.Period(today - datetime.timedelta(days=days - 1), today)
            for days in PRESET_DAYS]


def refresh(today: datetime.date | None = None) -> list[DashboardSnapshot]:
    """Compute and keep the city's figures for each preset period; snapshots of
    periods that are no longer offered are deleted.  Returns the snapshots written."""
    periods = preset_periods(today)
    written = [store(period) for period in periods]
    DashboardSnapshot.objects.exclude(
        pk__in=[snapshot.pk for snapshot in written]).delete()
    return written


def store(period: stats.Period) -> DashboardSnapshot:
    """The city's figures for ``period`` read now and kept (replacing the period's
    previous snapshot)."""
    computed_at = timezone.now()
    gathered = stats.gather(period, stats.base_queryset(None))
    values = {"computed_at": computed_at, "figures": _dump(gathered)}
    try:
        with transaction.atomic():
            snapshot, _created = DashboardSnapshot.objects.update_or_create(
                start=period.start, end=period.end, defaults=values)
    except IntegrityError:  # another run created it meanwhile: ours is as recent
        snapshot = DashboardSnapshot.objects.get(start=period.start, end=period.end)
        DashboardSnapshot.objects.filter(pk=snapshot.pk).update(**values)
    return snapshot


def dashboard(period: stats.Period, *, scope: frozenset[int] | None,
              department=None, category=None, fresh: bool = False,
              now: datetime.datetime | None = None) -> stats.Dashboard:
    """The dashboard for this view: from the period's snapshot when it is recent and
    holds the view exactly (see the module's docstring), else computed now."""
    if not fresh:
        now = now or timezone.now()
        snapshot = (DashboardSnapshot.objects
                    .filter(start=period.start, end=period.end,
                            computed_at__gte=now - MAX_AGE)
                    .only("computed_at", "figures").first())
        if snapshot is not None:
            gathered = within(_load(snapshot.figures), scope=scope,
                              department=department, category=category)
            if gathered is not None:
                return stats.assemble(period, gathered, department=department,
                                      category=category, as_of=snapshot.computed_at,
                                      live=False)
    return stats.compute(period, scope=scope, department=department, category=category)


def within(city: stats.Gathered, *, scope: frozenset[int] | None, department=None,
           category=None) -> stats.Gathered | None:
    """The part of the city's figures a view shows, or ``None`` when its figures
    cannot be taken from them exactly (its total, or one of its rows, would need the
    percentiles of part of a group)."""
    def shown(pair: tuple[int, int]) -> bool:
        dep, cat = pair
        return ((scope is None or dep in scope)
                and (department is None or dep == department.pk)
                and (category is None or cat == category.pk))

    by_group: dict[tuple, set] = defaultdict(set)
    for pair in city.pairs:
        by_group[("department", pair[0])].add(pair)
        by_group[("category", pair[1])].add(pair)
    selected = {pair for pair in city.pairs if shown(pair)}
    for pair in selected:
        for key in (("department", pair[0]), ("category", pair[1])):
            if not by_group[key] <= selected:
                return None
    if selected == set(city.pairs):
        total_key = "total"
    elif not selected:
        total_key = None
    else:
        total_key = next((key for key, pairs in by_group.items() if pairs == selected), None)
        if total_key is None:
            return None
    keys = {("department", dep) for dep, _cat in selected}
    keys |= {("category", cat) for _dep, cat in selected}
    durations = {}
    for cohort, found in city.durations.items():
        part = {key: found[key] for key in keys if key in found}
        if total_key is not None and total_key in found:
            part["total"] = found[total_key]
        durations[cohort] = part
    return stats.Gathered(pairs={pair: city.pairs[pair] for pair in selected},
                          durations=durations)


# --- kept as JSON ------------------------------------------------------------------

def _dump(gathered: stats.Gathered) -> dict:
    """JSON-ready: Python floats go through JSON unchanged (shortest repr), so the
    figures laid out from a snapshot are those computed."""
    return {
        "pairs": [{"department": dep, "category": cat, "received": f.received,
                   "closed": f.closed, "by_reason": f.by_reason, "backlog": f.backlog,
                   "overdue": f.overdue, "fixed_within_level": f.fixed_within_level,
                   "weeks": f.week_counts}
                  for (dep, cat), f in gathered.pairs.items()],
        "durations": {cohort: [[*(key if isinstance(key, tuple) else (key, None)), *values]
                               for key, values in found.items()]
                      for cohort, found in gathered.durations.items()},
    }


def _load(data: dict) -> stats.Gathered:
    pairs = {}
    for row in data["pairs"]:
        figures = stats.Figures(
            received=row["received"], closed=row["closed"],
            by_reason={reason: row["by_reason"].get(reason, 0) for reason in stats.REASONS},
            backlog=row["backlog"], overdue=row["overdue"],
            fixed_within_level=row["fixed_within_level"],
            week_counts={label: tuple(counts) for label, counts in row["weeks"].items()})
        pairs[(row["department"], row["category"])] = figures
    durations = {}
    for cohort, rows in data["durations"].items():
        durations[cohort] = {(kind if pk is None else (kind, pk)): (median, p90)
                             for kind, pk, median, p90 in rows}
    return stats.Gathered(pairs=pairs, durations=durations)
