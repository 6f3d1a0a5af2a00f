"""The runs the scheduler claimed (``manage.py hub scheduler``, see ``hub/scheduler.py``).

One row per job and due minute.  The unique constraint on (``name``, ``due``) is what
makes several schedulers safe: each inserts the row before enqueuing, and only one
insert can succeed.
"""

from django.db import models
from django.utils.translation import gettext_lazy as _


class PeriodicRun(models.Model):
    name = models.CharField(_("job"), max_length=100)
    due = models.DateTimeField(_("due at"))
    claimed_at = models.DateTimeField(_("claimed at"))
    claimed_by = models.CharField(_("claimed by"), max_length=200, blank=True,
                                  help_text=_("Host and process of the scheduler."))
    task_result_id = models.CharField(_("task result"), max_length=64, blank=True)

    class Meta:
        verbose_name = _("periodic run")
        verbose_name_plural = _("periodic runs")
        ordering = ["-due", "name"]
        constraints = [
            models.UniqueConstraint(fields=["name", "due"], name="hub_periodic_run_once"),
        ]

    def __str__(self) -> str:
        return f"{self.name} @ {self.due:%Y-%m-%d %H:%M}"
