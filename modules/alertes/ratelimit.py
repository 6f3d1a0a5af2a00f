"""Per-provider sending rates: every worker paces its sends to what the provider accepts.

Providers cap throughput per sender or per account (Twilio: 1 SMS/s per long code, 3/s
per toll-free number, 100/s per short code, 1 call/s per account by default).  Going
faster only earns 429s and queueing at the provider, so the worker waits instead.

The limiter hands out *slots*: time is cut into slots of ``1/rate`` seconds, and a send
reserves the first free slot at or after now with the cache's atomic ``add`` (``SET NX``
on Redis), then sleeps until that slot starts.  So there is never more than one send
per slot (``rate`` per second on the clock); two sends may be closer than ``1/rate``
across a slot boundary, which the provider's own queue absorbs.  With Redis as the
cache, every worker on every machine shares the same slots; with the per-process memory
cache each process paces itself only.  A worker never waits more than ``max_wait``
seconds: past that it reserves nothing and says how long to wait, and the row goes back
to the outbox for later instead of sitting in ``sending`` (where it could be taken for a
crashed worker).

Rates are per second, configurable with ``ALERTES_RATE_LIMITS`` (merged over
``DEFAULT_RATES``; ``None`` means unlimited).  The clock and the sleep are injected, so
the tests are exact without waiting.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable

from django.conf import settings
from django.core.cache import caches

# What a channel's ``throttle(delivery)`` answers: declared with the channel contract
# in hookspecs.py, where a plugin's channel can import it.
from .hookspecs import Throttle

__all__ = ["Busy", "RateLimiter", "Throttle", "limiter", "rate", "throttle_for"]

DEFAULT_RATES: dict[str, float | None] = {
    "sms_long_code": 1,          # Twilio: one message a second per 10-digit number
    "sms_toll_free": 3,
    "sms_short_code": 100,
    "sms_messaging_service": 1,  # raise to the pool's size (numbers × their rate)
    "voice": 1,                  # Twilio's default calls per second per account
    "email": None,
    "push": None,
}
MAX_WAIT = 30.0  # seconds a worker may sleep for one slot
KEY_PREFIX = "alertes:rate:"


def rate(kind: str) -> float | None:
    """Messages per second allowed for a provider kind (``None``: unlimited)."""
    configured = getattr(settings, "ALERTES_RATE_LIMITS", None) or {}
    value = configured.get(kind, DEFAULT_RATES.get(kind))
    if value is None:
        return None
    value = float(value)
    return value if value > 0 else None


def throttle_for(channel, delivery) -> Throttle:
    """The channel's own answer (``channel.throttle(delivery)``) or, for a channel that
    has none, one bucket per channel code at ``rate(code)``."""
    own = getattr(channel, "throttle", None)
    if callable(own):
        return own(delivery)
    return Throttle(key=str(channel.code), rate=rate(str(channel.code)))


class RateLimiter:
    def __init__(self, *, cache_alias: str = "default",
                 clock: Callable[[], float] = time.time,
                 sleep: Callable[[float], None] = time.sleep):
        self.cache_alias = cache_alias
        self.clock = clock
        self.sleep = sleep

    @property
    def cache(self):
        return caches[self.cache_alias]

    def reserve(self, key: str, per_second: float | None, *,
                max_wait: float = MAX_WAIT) -> float:
        """Reserve the next free slot of ``key``; return the seconds until it starts
        (0 when free now), or ``-seconds`` — negative — when the first free slot is
        further than ``max_wait`` away (nothing is reserved then)."""
        if not per_second:
            return 0.0
        now = self.clock()
        width = 1.0 / per_second
        slot = math.floor(now / width)
        furthest = slot + max(1, math.ceil(max_wait / width))
        while slot <= furthest:
            start = max(now, slot * width)
            wait = start - now
            timeout = max(1, math.ceil(wait + width + 60))
            if self.cache.add(f"{KEY_PREFIX}{key}:{slot}", 1, timeout=timeout):
                return wait
            slot += 1
        return -max(slot * width - now, width)

    def acquire(self, key: str, per_second: float | None, *,
                max_wait: float = MAX_WAIT) -> float:
        """Wait for a slot of ``key`` and return the seconds waited; raise :class:`Busy`
        when none is free within ``max_wait`` (the caller tries again later)."""
        wait = self.reserve(key, per_second, max_wait=max_wait)
        if wait < 0:
            raise Busy(-wait)
        if wait > 0:
            self.sleep(wait)
        return wait


class Busy(Exception):
    """No slot within the allowed wait; ``retry_in`` seconds until one may be free."""

    def __init__(self, retry_in: float):
        super().__init__(f"provider rate reached: retry in {retry_in:.0f} s")
        self.retry_in = retry_in


limiter = RateLimiter()
