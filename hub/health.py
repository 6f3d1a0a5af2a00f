"""Health checks: what the load balancer probes (``/health/``) and what the city's IT
reads when something is slow (``/health/detail/``, staff only).

``/health/`` is cheap (one ``SELECT 1`` per database, one cache round trip, one Redis
``PING`` when Redis is the task broker) and answers ``ok`` (200) or ``unavailable``
(503): take the instance out of rotation when the database, the cache or the broker
cannot be reached.  The cache fails open for pages (``hub/settings.py``), so only this
probe says Redis is down.

The detail adds what does not make an instance unfit but wants a person: the task
backlog and the age of its oldest ready task, the scheduler's heartbeat (its latest
``PeriodicRun``) and the free disk space.  Those are ``warn``; a critical check that
fails is ``fail`` and makes the detail 503 too.

Thresholds (seconds, megabytes): ``HUB_HEALTH_QUEUE_MAX_AGE`` (600),
``HUB_HEALTH_SCHEDULER_MAX_AGE`` (180: the scheduler claims a run every minute),
``HUB_HEALTH_MIN_FREE_MB`` (500).
"""

from __future__ import annotations

import logging
import os
import shutil
import uuid
from dataclasses import asdict, dataclass, field
from datetime import UTC
from typing import Any

from django.conf import settings
from django.core.cache import caches
from django.db import connections
from django.utils import timezone

logger = logging.getLogger(__name__)

OK, WARN, FAIL = "ok", "warn", "fail"
_PROBE_KEY = f"hub:health:{os.getpid()}"


@dataclass
class Check:
    name: str
    status: str
    detail: dict[str, Any] = field(default_factory=dict)
    critical: bool = True

    @property
    def failed(self) -> bool:
        return self.status == FAIL


def _error(exc: BaseException) -> str:
    # The class and the first line only: never a connection string or a password.
    return f"{type(exc).__name__}: {str(exc).splitlines()[0][:200] if str(exc) else ''}"


def check_databases() -> list[Check]:
    """``SELECT 1`` on every configured database."""
    results = []
    for alias in connections:
        try:
            with connections[alias].cursor() as cursor:
                cursor.execute("SELECT 1")
                cursor.fetchone()
        except Exception as exc:
            logger.error("Health: database %s unreachable: %s", alias, _error(exc))
            results.append(Check(f"database:{alias}", FAIL, {"error": _error(exc)}))
        else:
            results.append(Check(f"database:{alias}", OK))
    return results


def check_cache() -> Check:
    """A write then a read of a key of this process: a Redis cache that fails open turns
    both into no-ops, so a stopped Redis shows here as a value not read back."""
    value = uuid.uuid4().hex
    try:
        cache = caches["default"]
        cache.set(_PROBE_KEY, value, timeout=30)
        read = cache.get(_PROBE_KEY)
    except Exception as exc:
        return Check("cache", FAIL, {"error": _error(exc)})
    if read != value:
        logger.error("Health: the cache did not keep a value (Redis down?)")
        return Check("cache", FAIL, {"error": "a value written was not read back"})
    return Check("cache", OK)


def _task_backend():
    from django_tasks import DEFAULT_TASK_BACKEND_ALIAS, task_backends

    return task_backends[DEFAULT_TASK_BACKEND_ALIAS]


def _backend_kind(backend) -> str:
    name = type(backend).__module__
    if name.startswith("django_tasks_rq"):
        return "rq"
    if name.startswith("django_tasks_db"):
        return "database"
    return "inline"


def check_broker() -> Check | None:
    """Redis ``PING`` when RQ is the task backend (None otherwise: the database backend's
    broker is the database, already checked)."""
    backend = _task_backend()
    if _backend_kind(backend) != "rq":
        return None
    import django_rq

    try:
        for queue in backend.queues:
            django_rq.get_connection(queue).ping()
    except Exception as exc:
        logger.error("Health: task broker unreachable: %s", _error(exc))
        return Check("task_broker", FAIL, {"error": _error(exc)})
    return Check("task_broker", OK)


def check_queue() -> Check:
    """Ready tasks waiting and the age of the oldest (``warn`` past
    ``HUB_HEALTH_QUEUE_MAX_AGE``: no worker is taking them)."""
    backend = _task_backend()
    kind = _backend_kind(backend)
    now = timezone.now()
    oldest = None
    try:
        if kind == "database":
            from django_tasks_db.models import DBTaskResult

            ready = DBTaskResult.objects.ready().filter(backend_name=backend.alias)
            backlog = ready.count()
            first = ready.order_by("enqueued_at").values_list("enqueued_at", flat=True)[:1]
            oldest = first[0] if first else None
        elif kind == "rq":
            import django_rq

            backlog = 0
            for name in backend.queues:
                queue = django_rq.get_queue(name)
                backlog += queue.count
                jobs = queue.get_jobs(0, 1)
                if jobs and jobs[0].enqueued_at:
                    stamp = jobs[0].enqueued_at
                    if timezone.is_naive(stamp):
                        stamp = stamp.replace(tzinfo=UTC)
                    oldest = stamp if oldest is None else min(oldest, stamp)
        else:
            return Check("task_queue", OK, {"backend": kind, "backlog": 0}, critical=False)
    except Exception as exc:
        return Check("task_queue", FAIL, {"backend": kind, "error": _error(exc)},
                     critical=False)
    age = round((now - oldest).total_seconds()) if oldest else 0
    limit = int(getattr(settings, "HUB_HEALTH_QUEUE_MAX_AGE", 600))
    return Check("task_queue", WARN if age > limit else OK,
                 {"backend": kind, "backlog": backlog, "oldest_age_seconds": age,
                  "max_age_seconds": limit}, critical=False)


def check_scheduler() -> Check:
    """The latest run the scheduler (``manage.py hub scheduler``) claimed."""
    from hub.models import PeriodicRun

    limit = int(getattr(settings, "HUB_HEALTH_SCHEDULER_MAX_AGE", 180))
    try:
        last = (PeriodicRun.objects.order_by("-claimed_at")
                .values_list("claimed_at", flat=True).first())
    except Exception as exc:
        return Check("scheduler", FAIL, {"error": _error(exc)}, critical=False)
    if last is None:
        return Check("scheduler", WARN, {"last_run": None, "max_age_seconds": limit},
                     critical=False)
    age = round((timezone.now() - last).total_seconds())
    return Check("scheduler", WARN if age > limit else OK,
                 {"last_run": last.isoformat(), "age_seconds": age,
                  "max_age_seconds": limit}, critical=False)


def check_disk() -> Check:
    """Free space where uploads (photos) are written."""
    path = str(getattr(settings, "MEDIA_ROOT", "") or settings.BASE_DIR)
    while path and not os.path.exists(path):
        path = os.path.dirname(path)
    minimum = int(getattr(settings, "HUB_HEALTH_MIN_FREE_MB", 500))
    try:
        usage = shutil.disk_usage(path or "/")
    except OSError as exc:
        return Check("disk", FAIL, {"error": _error(exc)}, critical=False)
    free_mb = usage.free // (1024 * 1024)
    return Check("disk", WARN if free_mb < minimum else OK,
                 {"free_mb": free_mb, "total_mb": usage.total // (1024 * 1024),
                  "min_free_mb": minimum}, critical=False)


def essential() -> list[Check]:
    """The load balancer's checks: databases, cache, broker."""
    checks = [*check_databases(), check_cache()]
    broker = check_broker()
    if broker is not None:
        checks.append(broker)
    return checks


def detailed() -> list[Check]:
    checks = essential()
    database_up = not any(c.failed for c in checks if c.name.startswith("database:default"))
    checks += [check_queue(), check_disk()]
    if database_up:
        checks.append(check_scheduler())
    else:
        checks.append(Check("scheduler", FAIL, {"error": "database unreachable"},
                            critical=False))
    return checks


def healthy(checks: list[Check]) -> bool:
    """No critical check failed."""
    return not any(c.failed and c.critical for c in checks)


def as_dict(checks: list[Check]) -> dict[str, Any]:
    worst = FAIL if not healthy(checks) else (
        WARN if any(c.status != OK for c in checks) else OK)
    return {"status": worst, "checked_at": timezone.now().isoformat(),
            "checks": {c.name: {k: v for k, v in asdict(c).items() if k != "name"}
                       for c in checks}}
