"""The management dashboard's figures as computed by the periodic job, so that the
usual periods (the default 90 days, the last 12 months) open without reading a year of
requests on each visit (``snapshots``)."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class DashboardSnapshot(models.Model):
    """The city's figures for one period (whole local days, both ends included), as
    ``stats.gather`` read them at ``computed_at``: counts by (department, category)
    and the duration percentiles of the city, each department and each category.
    Aggregates only: no request, no person."""

    start = models.DateField(_("first day"))
    end = models.DateField(_("last day"))
    computed_at = models.DateTimeField(_("computed at"))
    figures = models.JSONField(_("figures"))

    class Meta:
        verbose_name = _("dashboard snapshot")
        verbose_name_plural = _("dashboard snapshots")
        constraints = [models.UniqueConstraint(fields=["start", "end"],
                                               name="requetes_snapshot_one_per_period")]

    def __str__(self) -> str:
        return f"{self.start} – {self.end} ({self.computed_at:%Y-%m-%d %H:%M})"
