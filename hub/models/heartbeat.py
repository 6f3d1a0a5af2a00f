"""When a task worker last ran a task: read by health checks and the admin."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class WorkerHeartbeat(models.Model):
    source = models.CharField(_("source"), max_length=64)
    ran_at = models.DateTimeField(_("ran at"), db_index=True)

    class Meta:
        verbose_name = _("worker heartbeat")
        verbose_name_plural = _("worker heartbeats")
        ordering = ["-ran_at"]

    def __str__(self) -> str:
        return f"{self.source} @ {self.ran_at:%Y-%m-%d %H:%M:%S}"
