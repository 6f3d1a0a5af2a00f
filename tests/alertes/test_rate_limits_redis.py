"""The rate limiters on the real Redis (``REDIS_TEST_URL``, as in production where every
worker and every web process shares it): the providers' pacing (``ratelimit.py``, slots
taken with ``SET NX``) and the API's DRF throttles.  Fails under CI without Redis."""

from __future__ import annotations

import math
import threading
import uuid

import pytest
import redis
from django.core.cache import caches
from django.test import override_settings
from rest_framework.throttling import SimpleRateThrottle

from hub.settings import redis_cache
from modules.alertes import ratelimit
from tests.redis_support import require_redis


class FrozenClock:
    def __init__(self, start: float = 2_000_000.5):
        self.now = start

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.now += seconds


@pytest.fixture
def shared_redis():
    """The default cache and a ``shared`` alias on the test Redis, under a key prefix of
    this test only (other tests and helpers use the same database)."""
    url = require_redis()
    prefix = f"ec-test-{uuid.uuid4().hex[:12]}"
    config = {**redis_cache(url, 1.0), "KEY_PREFIX": prefix}
    with override_settings(CACHES={"default": config, "shared": config}):
        raw = redis.Redis.from_url(url)
        yield raw, prefix
        for key in raw.scan_iter(f"{prefix}:*"):
            raw.delete(key)
        raw.close()


def test_workers_on_many_threads_never_share_a_slot_on_redis(shared_redis):
    """Eight workers (threads, each its own limiter and Redis connection) reserve 25
    sends each at 100/s at the same instant: 200 distinct slots, 100 per second."""
    clock = FrozenClock()
    waits: list[float] = []
    lock = threading.Lock()
    start = threading.Barrier(8)

    def worker():
        limiter = ratelimit.RateLimiter(cache_alias="shared", clock=clock, sleep=clock.sleep)
        start.wait()
        mine = [limiter.reserve("twilio:AC1:sms:55555", 100) for _ in range(25)]
        with lock:
            waits.extend(mine)

    threads = [threading.Thread(target=worker) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert len(waits) == 200 and all(wait >= 0 for wait in waits)
    slots = {round((clock.now + wait) * 100) for wait in waits}
    assert len(slots) == 200  # no slot handed out twice
    per_second: dict[int, int] = {}
    for wait in waits:
        second = math.floor(clock.now + wait)
        per_second[second] = per_second.get(second, 0) + 1
    assert max(per_second.values()) <= 100


def test_a_slot_is_a_redis_key_that_expires(shared_redis):
    raw, prefix = shared_redis
    clock = FrozenClock()
    limiter = ratelimit.RateLimiter(cache_alias="shared", clock=clock, sleep=clock.sleep)
    assert limiter.reserve("twilio:AC1:calls", 1) == 0
    assert limiter.reserve("twilio:AC1:calls", 1) == pytest.approx(0.5)  # the next second
    keys = list(raw.scan_iter(f"{prefix}:*alertes:rate:twilio:AC1:calls:*"))
    assert len(keys) == 2
    assert all(0 < raw.ttl(key) <= 62 for key in keys)


def test_a_second_process_sees_the_slots_taken(shared_redis):
    """A limiter with a fresh connection (another worker machine) finds the slots the
    first took: the state is in Redis, not in a process."""
    clock = FrozenClock()
    first = ratelimit.RateLimiter(cache_alias="shared", clock=clock, sleep=clock.sleep)
    for _ in range(3):
        first.reserve("twilio:AC1:sms:+14505550000", 1)
    caches["shared"].close()
    second = ratelimit.RateLimiter(cache_alias="default", clock=clock, sleep=clock.sleep)
    assert second.reserve("twilio:AC1:sms:+14505550000", 1) == pytest.approx(2.5)


@pytest.mark.django_db
def test_the_api_throttle_counts_on_redis(client, shared_redis, monkeypatch):
    """DRF's anonymous throttle (``API_THROTTLE_ANON``) keeps its history in Redis: the
    fourth call within the minute at 3/min is refused with 429 and Retry-After."""
    raw, prefix = shared_redis
    monkeypatch.setattr(SimpleRateThrottle, "THROTTLE_RATES", {"anon": "3/min",
                                                              "user": "600/min"})
    for _ in range(3):
        assert client.get("/api/v1/modules/").status_code == 200
    refused = client.get("/api/v1/modules/")
    assert refused.status_code == 429
    assert int(refused["Retry-After"]) > 0
    assert list(raw.scan_iter(f"{prefix}:*throttle_anon_*"))
