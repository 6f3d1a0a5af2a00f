"""Domain operations of `alertes` (being split into one file per job)."""

from .outbox import *  # noqa: F403
from .outbox import _enqueue_ids, _insert_outbox, _quiet_until, _schedule_retry  # noqa: F401
