"""The management dashboard in the Wagtail admin and its CSV export.

Figures come from ``stats`` (through ``snapshots``: the usual periods are computed ahead
every ten minutes, and the page says as of when); this file only checks who asks,
validates the filters and lays the figures out.  Administrators see every department;
department agents see their own departments only (asking for another department is a
403, not an empty table, so nobody mistakes "not allowed" for "no requests"); anyone
else is refused.
"""

from __future__ import annotations

import csv
import datetime

from django import forms
from django.core.exceptions import PermissionDenied
from django.http import HttpResponse
from django.shortcuts import render
from django.utils import formats
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from hub.models import Department

from . import charts, snapshots, stats
from .models import Category


class DashboardFilterForm(forms.Form):
    start = forms.DateField(
        label=gettext_lazy("From"), required=False,
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        help_text=gettext_lazy("First day, included. Default: 90 days ago."))
    end = forms.DateField(
        label=gettext_lazy("To"), required=False,
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        help_text=gettext_lazy("Last day, included. Default: today."))
    department = forms.ModelChoiceField(
        Department.objects.all(), required=False, label=gettext_lazy("Department"),
        empty_label=gettext_lazy("All my departments"))
    category = forms.ModelChoiceField(
        Category.objects.all(), required=False, to_field_name="service_code",
        label=gettext_lazy("Category"), empty_label=gettext_lazy("All categories"))

    def __init__(self, data, *, scope):
        super().__init__(data)
        self.scope = scope
        # Every department and category is a valid value (another department's answers
        # 403 in the view), but the lists offer only what the user may see.
        departments = Department.objects.all()
        categories = Category.objects.order_by("name_fr")
        if scope is not None:
            departments = departments.filter(pk__in=scope)
            categories = categories.filter(department_id__in=scope)
        else:
            self.fields["department"].empty_label = _("All departments")
        self.fields["department"].widget.choices = [
            ("", self.fields["department"].empty_label),
            *((d.pk, d.name) for d in departments)]
        self.fields["category"].widget.choices = [
            ("", self.fields["category"].empty_label),
            *((c.service_code, c.name) for c in categories)]

    def clean(self):
        data = super().clean()
        if self.errors:
            return data
        default = stats.Period.default()
        start = data.get("start") or (
            data["end"] - datetime.timedelta(days=stats.DEFAULT_DAYS - 1)
            if data.get("end") else default.start)
        end = data.get("end") or default.end
        if start > end:
            raise forms.ValidationError(_("The first day must come before the last day."))
        if (end - start).days + 1 > stats.MAX_DAYS:
            raise forms.ValidationError(
                _("Choose a period of at most %(days)s days.") % {"days": stats.MAX_DAYS})
        data["period"] = stats.Period(start, end)
        return data

    def check_scope(self) -> None:
        """PermissionDenied when the filters name a department the user may not see."""
        if self.scope is None:
            return
        department = self.cleaned_data.get("department")
        category = self.cleaned_data.get("category")
        if department is not None and department.pk not in self.scope:
            raise PermissionDenied
        if category is not None and category.department_id not in self.scope:
            raise PermissionDenied


def _forbidden(request):
    return render(request, "requetes/dashboard/forbidden.html", {
        "page_title": _("Service request figures"), "header_icon": "lock"}, status=403)


def _figures_for(request):
    """(form, dashboard or None, error response or None)."""
    try:
        scope = stats.dashboard_scope(request.user)
    except PermissionDenied:
        return None, None, _forbidden(request)
    form = DashboardFilterForm(request.GET, scope=scope)
    if not form.is_valid():
        return form, None, None
    try:
        form.check_scope()
    except PermissionDenied:
        return form, None, _forbidden(request)
    data = form.cleaned_data
    return form, snapshots.dashboard(
        data["period"], scope=scope, department=data["department"],
        category=data["category"], fresh=request.GET.get("fresh") == "1"), None


def _presets(request) -> list[tuple[str, str]]:
    """(label, query string) of the periods computed ahead, with the other filters."""
    labels = {stats.DEFAULT_DAYS: _("Last %(days)s days") % {"days": stats.DEFAULT_DAYS},
              365: _("Last 12 months")}
    keep = request.GET.copy()
    for name in ("start", "end", "fresh"):
        keep.pop(name, None)
    links = []
    for days, period in zip(snapshots.PRESET_DAYS, snapshots.preset_periods(), strict=True):
        query = keep.copy()
        query["start"], query["end"] = period.start.isoformat(), period.end.isoformat()
        links.append((labels.get(days) or _("Last %(days)s days") % {"days": days},
                      query.urlencode()))
    return links


def _hours(seconds):
    return None if seconds is None else round(seconds / 3600, 1)


def _days(seconds):
    return None if seconds is None else round(seconds / 86400, 1)


def _share(figures):
    share = figures.within_level_share
    return None if share is None else round(share * 100, 1)


def columns() -> list[tuple[str, str]]:
    """(key, header) of every figure column, in the table's and the CSV's order."""
    return [
        ("received", _("Received")),
        ("closed", _("Closed")),
        ("fixed", _("Closed: fixed")),
        ("not_city_responsibility", _("Closed: not the city's responsibility")),
        ("wont_fix", _("Closed: will not be fixed")),
        ("duplicate", _("Closed: duplicate")),
        ("backlog", _("Open backlog at the end")),
        ("overdue", _("Overdue at the end")),
        ("acknowledge_median", _("Time to acknowledge, median (hours)")),
        ("acknowledge_p90", _("Time to acknowledge, 90th percentile (hours)")),
        ("resolve_median", _("Time to resolve, median (days)")),
        ("resolve_p90", _("Time to resolve, 90th percentile (days)")),
        ("within_level", _("Fixed within the service level")),
        ("within_level_share", _("Fixed within the service level (percent of closed)")),
    ]


def values(figures: stats.Figures) -> list:
    return [
        figures.received, figures.closed, *(figures.by_reason[r] for r in stats.REASONS),
        figures.backlog, figures.overdue,
        _hours(figures.acknowledge_median), _hours(figures.acknowledge_p90),
        _days(figures.resolve_median), _days(figures.resolve_p90),
        figures.fixed_within_level, _share(figures),
    ]


def dashboard(request):
    form, result, refused = _figures_for(request)
    if refused is not None:
        return refused
    context = {"page_title": _("Service request figures"), "header_icon": "table",
               "form": form, "result": result, "columns": columns(),
               "presets": _presets(request)}
    if result is not None:
        fresh = request.GET.copy()
        fresh["fresh"] = "1"
        context["fresh_query"] = fresh.urlencode()
        context.update({
            "total_row": values(result.total),
            "department_rows": [(d, values(f)) for d, f in result.by_department],
            "category_rows": [(c, values(f)) for c, f in result.by_category],
            "export_query": request.GET.urlencode(),
            "bar_scale": 200 / result.busiest_week,
            "charts": charts.dashboard_charts(result),
        })
    return render(request, "requetes/dashboard/index.html", context,
                  status=200 if result is not None else 400)


def _cell(value):
    """Numbers in the active language's format (a decimal comma in French, as the
    spreadsheet expects); a text cell that starts like a formula is quoted so that a
    spreadsheet never evaluates it."""
    if value is None:
        return ""
    if isinstance(value, float):
        return formats.number_format(value, decimal_pos=1)
    if isinstance(value, int):
        return str(value)
    text = str(value)
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def export(request):
    """The dashboard's figures (``table=figures``, the default) or its weekly trend
    (``table=weeks``) as CSV, with the same filters."""
    table = request.GET.get("table", "figures")
    if table not in ("figures", "weeks"):
        return HttpResponse(_("Unknown table: choose figures or weeks."), status=400,
                            content_type="text/plain; charset=utf-8")
    form, result, refused = _figures_for(request)
    if refused is not None:
        return refused
    if result is None:
        message = "\n".join(f"{form[name].label if name in form.fields else ''}: {error}"
                            .lstrip(": ")
                            for name, errors in form.errors.items() for error in errors)
        return HttpResponse(message, status=400, content_type="text/plain; charset=utf-8")
    period = result.period
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = (
        f'attachment; filename="requetes-{table}-{period.start}-{period.end}.csv"')
    response["Cache-Control"] = "private, no-store"
    response.write("\ufeff")  # spreadsheets read the file as UTF-8 only with a BOM
    writer = csv.writer(response, delimiter=";" if formats.get_format(
        "DECIMAL_SEPARATOR") == "," else ",")
    if table == "weeks":
        writer.writerow([_("ISO week"), _("First day"), _("Last day"), _("Received"),
                         _("Closed")])
        for week in result.weeks:
            writer.writerow([week.label, week.first.isoformat(), week.last.isoformat(),
                             week.received, week.closed])
        return response
    writer.writerow([_("Level"), _("Department"), _("Category code"), _("Category"),
                     *(label for _key, label in columns())])
    writer.writerow([_cell(v) for v in [_("All"), "", "", "", *values(result.total)]])
    for department, figures in result.by_department:
        writer.writerow([_cell(v) for v in [_("Department"), department.name, "", "",
                                             *values(figures)]])
    departments = {d.pk: d.name for d, _f in result.by_department}
    for category, figures in result.by_category:
        writer.writerow([_cell(v) for v in [
            _("Category"), departments.get(category.department_id, ""),
            category.service_code, category.name, *values(figures)]])
    return response


def may_see_figures(user) -> bool:
    try:
        stats.dashboard_scope(user)
    except PermissionDenied:
        return False
    return True
