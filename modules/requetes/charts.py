"""The dashboard's charts, drawn on the server as SVG (no script, nothing for the CSP to
allow): the open backlog over time, the time to resolve by category and the share
resolved on time by department.

Each chart is laid out here from figures ``stats.compute`` already has (no query of its
own) and drawn by ``requetes/dashboard/_chart.html``: an ``<svg role="img">`` named by
its ``<title>`` and described by its ``<desc>`` (what it shows, the lowest and highest
values), with the same figures in a table beside it.  Values are written on the chart
itself, next to each bar and point, so nothing is told by colour alone; the marks are
dark enough for 3:1 against the white background (WCAG 1.4.11) and the text for 4.5:1.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from django.utils import formats
from django.utils.translation import gettext as _

from hub.text import human_duration

WIDTH = 640
ROW = 46  # a horizontal bar's row: its label above, the bar below
LABEL_SPACE = 150  # room right of the longest bar for its value
LINE_HEIGHT = 260
LEFT, RIGHT, TOP, BOTTOM = 56, 24, 28, 48  # the line chart's margins


@dataclass
class Bar:
    label: str
    value: float | None
    text: str  # the value as written on the chart and in the table
    y: float = 0
    width: float = 0


@dataclass
class Point:
    label: str
    value: int
    text: str
    axis: str = ""  # the short label under the axis
    x: float = 0
    y: float = 0
    show_label: bool = True


@dataclass
class Chart:
    slug: str  # ids: "{slug}-title", "{slug}-desc"
    kind: str  # "bars" or "line"
    title: str
    description: str
    label_header: str
    value_header: str
    width: int = WIDTH
    height: int = 0
    bars: list[Bar] = field(default_factory=list)
    points: list[Point] = field(default_factory=list)
    ticks: list[tuple[float, str]] = field(default_factory=list)  # (y, label)
    empty_text: str = ""

    @property
    def rows(self):
        """(label, value text) for the data table."""
        return [(item.label, item.text) for item in (self.bars or self.points)]

    @property
    def polyline(self) -> str:
        return " ".join(f"{p.x:.1f},{p.y:.1f}" for p in self.points)

    @property
    def plot_left(self) -> int:
        return LEFT

    @property
    def plot_right(self) -> int:
        return self.width - RIGHT

    @property
    def plot_bottom(self) -> int:
        return self.height - BOTTOM

    @property
    def bar_max(self) -> int:
        return self.width - LABEL_SPACE


def _nice_ceiling(value: float) -> float:
    """The smallest 1, 2, 5 × 10ⁿ at least ``value`` (the top of the value axis)."""
    if value <= 0:
        return 1
    power = 10 ** math.floor(math.log10(value))
    for step in (1, 2, 5, 10):
        if step * power >= value:
            return step * power
    return 10 * power  # pragma: no cover (the loop always returns)


def _bars(chart: Chart, items: list[tuple[str, float | None, str]], scale_max: float) -> Chart:
    usable = chart.bar_max
    scale_max = scale_max or 1
    for index, (label, value, text) in enumerate(items):
        width = 0 if value is None else max(value / scale_max * usable, 2 if value else 0)
        chart.bars.append(Bar(label=label, value=value, text=text,
                              y=index * ROW, width=round(width, 1)))
    chart.height = max(len(chart.bars), 1) * ROW + 8
    return chart


def _extremes(items, key, text) -> tuple[str, str] | None:
    known = [item for item in items if key(item) is not None]
    if not known:
        return None
    low = min(known, key=key)
    high = max(known, key=key)
    return text(low), text(high)


def resolve_by_category(by_category) -> Chart:
    """Median time to resolve, per category, for the requests closed in the period."""
    items = [(category.name, figures.resolve_median,
              human_duration(figures.resolve_median) if figures.resolve_median is not None
              else _("nothing closed"))
             for category, figures in by_category]
    chart = Chart(slug="chart-resolve", kind="bars",
                  title=_("Time to resolve by category (median)"),
                  description="", label_header=_("Category"),
                  value_header=_("Median time to resolve"),
                  empty_text=_("No request in this period."))
    extremes = _extremes(items, key=lambda item: item[1],
                         text=lambda item: f"{item[0]} ({item[2]})")
    if extremes is None:
        chart.description = _("No request was closed in this period.")
    else:
        chart.description = _(
            "Horizontal bars, one per category, as long as the median time from creation "
            "to closure of the requests closed in the period. Fastest: %(low)s; slowest: "
            "%(high)s.") % {"low": extremes[0], "high": extremes[1]}
    return _bars(chart, items, max([item[1] or 0 for item in items] or [0]))


def on_time_by_department(by_department) -> Chart:
    """Share of the requests closed in the period that were fixed by their expected date,
    per department."""
    items = []
    for department, figures in by_department:
        share = figures.within_level_share
        if share is None:
            items.append((department.name, None, _("nothing closed")))
        else:
            percent = share * 100
            items.append((department.name, percent, _("%(percent)s %% (%(within)s of %(closed)s)")
                          % {"percent": formats.number_format(percent, decimal_pos=0),
                             "within": figures.fixed_within_level,
                             "closed": figures.closed}))
    chart = Chart(slug="chart-on-time", kind="bars",
                  title=_("Resolved on time by department"),
                  description="", label_header=_("Department"),
                  value_header=_("Fixed within the service level"),
                  empty_text=_("No request in this period."))
    extremes = _extremes(items, key=lambda item: item[1],
                         text=lambda item: f"{item[0]} ({item[2]})")
    if extremes is None:
        chart.description = _("No request was closed in this period.")
    else:
        chart.description = _(
            "Horizontal bars, one per department, on a scale from 0 to 100 %%: the share of "
            "the requests closed in the period that were fixed on or before their expected "
            "date. Lowest: %(low)s; highest: %(high)s.") % {"low": extremes[0],
                                                            "high": extremes[1]}
    return _bars(chart, items, 100)


def backlog_over_time(weeks) -> Chart:
    """The open backlog at the end of each week of the period."""
    chart = Chart(slug="chart-backlog", kind="line",
                  title=_("Open backlog over time"),
                  description="", label_header=_("End of week"),
                  value_header=_("Open requests"), height=LINE_HEIGHT)
    top = _nice_ceiling(max([week.backlog for week in weeks] or [0]))
    plot_width = chart.plot_right - chart.plot_left
    plot_height = chart.plot_bottom - TOP
    count = len(weeks)
    # At most about eight week labels under the axis; every value is in the table.
    label_step = max(1, math.ceil(count / 8))
    for index, week in enumerate(weeks):
        x = chart.plot_left + (plot_width * (index + 0.5) / count if count else 0)
        y = chart.plot_bottom - week.backlog / top * plot_height
        chart.points.append(Point(
            label=f"{week.label} ({formats.date_format(week.last, 'SHORT_DATE_FORMAT')})",
            value=week.backlog, text=str(week.backlog),
            axis=formats.date_format(week.last, "j M"), x=round(x, 1), y=round(y, 1),
            show_label=(index % label_step == 0 or index == count - 1)))
    for fraction in (0, 0.25, 0.5, 0.75, 1):
        value = top * fraction
        if value != int(value):
            continue
        chart.ticks.append((round(chart.plot_bottom - fraction * plot_height, 1),
                            str(int(value))))
    if weeks:
        first, last = weeks[0], weeks[-1]
        peak = max(weeks, key=lambda week: week.backlog)
        chart.description = _(
            "A line with a point for each week: the requests still open at the end of "
            "the week. %(first)s at the end of %(first_week)s, %(last)s at the end of "
            "%(last_week)s; highest: %(peak)s (%(peak_week)s).") % {
            "first": first.backlog, "first_week": first.label, "last": last.backlog,
            "last_week": last.label, "peak": peak.backlog, "peak_week": peak.label}
    return chart


def dashboard_charts(result) -> list[Chart]:
    return [backlog_over_time(result.weeks), resolve_by_category(result.by_category),
            on_time_by_department(result.by_department)]
