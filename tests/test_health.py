"""``/health/`` (the load balancer's probe) and ``/health/detail/`` (staff): they answer
503 when the database, the Redis cache or the Redis task broker cannot be reached —
tested with a real redis-server stopped, closed ports and an unreachable database."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connections
from django.test import override_settings
from django.utils import timezone

from hub.models import PeriodicRun
from hub.settings import redis_cache
from hub.tasks import record_heartbeat
from tests.test_resilience import RQ_TASKS, closed_port, redis_server  # noqa: F401

DB_TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend", "QUEUES": ["default"]}}


@pytest.fixture
def unreachable_database(db):
    """A second database alias like ``default`` but unreachable: PostgreSQL on a closed
    port, or an SQLite file in a folder that does not exist."""
    settings_dict = dict(connections["default"].settings_dict)
    if settings_dict["ENGINE"].endswith("postgresql"):
        settings_dict.update(HOST="127.0.0.1", PORT=str(closed_port()),
                             OPTIONS={**settings_dict.get("OPTIONS", {}),
                                      "connect_timeout": 2})
    else:
        settings_dict.update(NAME="/nonexistent-health-test/db.sqlite3")
    connections.settings["unreachable"] = settings_dict
    yield "unreachable"
    connections["unreachable"].close()
    del connections["unreachable"]
    del connections.settings["unreachable"]


def test_probe_says_ok_cheaply(client, db):
    response = client.get("/health/")
    assert response.status_code == 200
    assert response.content == b"ok\n"
    assert "no-cache" in response["Cache-Control"]
    assert not response.cookies  # no session, no CSRF cookie for a probe
    assert client.post("/health/").status_code == 405


def test_probe_fails_when_redis_stops(client, db, redis_server):  # noqa: F811
    with override_settings(CACHES={"default": redis_cache(redis_server.url, 0.5)}):
        assert client.get("/health/").status_code == 200
        redis_server.stop()
        response = client.get("/health/")
        assert response.status_code == 503 and response.content == b"unavailable\n"
        redis_server.start()
        assert client.get("/health/").status_code == 200


def test_probe_fails_when_the_task_broker_is_unreachable(client, db):
    url = f"redis://127.0.0.1:{closed_port()}/0"
    with override_settings(TASKS=RQ_TASKS, RQ_QUEUES={"default": {"URL": url}}):
        assert client.get("/health/").status_code == 503


def test_probe_fails_when_a_database_is_unreachable(client, unreachable_database):
    assert client.get("/health/").status_code == 503


def test_detail_is_for_staff_only(client, citizen, administrator):
    response = client.get("/health/detail/")
    assert response.status_code == 302 and "next=" in response["Location"]
    client.force_login(citizen)
    assert client.get("/health/detail/").status_code == 403
    client.force_login(administrator)
    response = client.get("/health/detail/")
    assert response.status_code == 200
    checks = response.json()["checks"]
    assert set(checks) == {"database:default", "cache", "task_queue", "scheduler", "disk"}
    assert checks["database:default"]["status"] == "ok"
    assert checks["scheduler"]["status"] == "warn"  # the scheduler never ran here
    assert checks["disk"]["detail"]["free_mb"] > 0


def test_detail_reports_backlog_and_scheduler_heartbeat(client, administrator):
    client.force_login(administrator)
    now = timezone.now()
    PeriodicRun.objects.create(name="hub.publish_scheduled", due=now,
                               claimed_at=now - timedelta(seconds=30))
    with override_settings(TASKS=DB_TASKS):
        from django_tasks_db.models import DBTaskResult

        record_heartbeat.enqueue("backlog")
        record_heartbeat.enqueue("backlog")
        DBTaskResult.objects.update(enqueued_at=now - timedelta(minutes=20))
        body = client.get("/health/detail/").json()
    queue = body["checks"]["task_queue"]
    assert queue["status"] == "warn"  # nobody took a task for 20 minutes
    assert queue["detail"]["backlog"] == 2
    assert queue["detail"]["oldest_age_seconds"] >= 20 * 60
    assert body["checks"]["scheduler"]["status"] == "ok"
    assert body["status"] == "warn"
    PeriodicRun.objects.update(claimed_at=now - timedelta(minutes=10))
    assert client.get("/health/detail/").json()["checks"]["scheduler"]["status"] == "warn"


def test_detail_fails_with_redis_or_the_database_down(client, administrator,
                                                      unreachable_database):
    client.force_login(administrator)
    url = f"redis://127.0.0.1:{closed_port()}/0"
    with override_settings(CACHES={"default": redis_cache(url, 0.5)}):
        # The session lives in the database: the staff member stays signed in.
        response = client.get("/health/detail/")
    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "fail"
    assert body["checks"]["cache"]["status"] == "fail"
    assert body["checks"]["database:unreachable"]["status"] == "fail"
    assert body["checks"]["database:default"]["status"] == "ok"
    assert "password" not in response.content.decode().lower()
