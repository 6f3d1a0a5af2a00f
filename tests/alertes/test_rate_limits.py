"""Per-provider pacing, with an injected clock: exact, and no test waits for real."""

import math

import pytest
from django.core.cache import cache

from modules.alertes import ratelimit, services
from modules.alertes.channels import EmailChannel, TwilioSMSChannel
from modules.alertes.channels.voice import TwilioVoiceChannel
from modules.alertes.channels.webpush import PushChannel
from modules.alertes.models import Alert, Delivery

from .conftest import SID, make_subscriber


class FakeClock:
    """Wall time that only moves when someone sleeps (or the test says so)."""

    def __init__(self, start=1_000_000.25):
        self.now = start
        self.slept: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds


@pytest.fixture
def clock():
    cache.clear()
    yield FakeClock()
    cache.clear()


def limiter(clock):
    return ratelimit.RateLimiter(clock=clock, sleep=clock.sleep)


def most_in_one_second(times: list[float]) -> int:
    """The most sends within any second on the clock (slots are aligned on it)."""
    return max(sum(1 for t in times if math.floor(t) == second)
               for second in {math.floor(t) for t in times})


def most_in_any_second(times: list[float]) -> int:
    return max(sum(1 for t in times if start <= t < start + 1 - 1e-9) for start in times)


def test_one_message_a_second_per_long_code(clock):
    worker = limiter(clock)
    times = []
    for _ in range(5):
        worker.acquire("twilio:AC1:sms:+14505550000", 1)
        times.append(clock())
    assert times[0] == 1_000_000.25  # the first goes at once
    assert times[1:] == [1_000_001.0, 1_000_002.0, 1_000_003.0, 1_000_004.0]
    assert most_in_one_second(times) == 1
    assert most_in_any_second(times) == 2  # 0.75 s apart across a slot boundary, no more


def test_a_short_code_sends_a_hundred_a_second(clock):
    worker = limiter(clock)
    times = []
    for _ in range(250):
        worker.acquire("twilio:AC1:sms:55555", 100)
        times.append(clock())
    assert most_in_one_second(times) == 100
    assert most_in_any_second(times) <= 101
    assert times[-1] - times[0] == pytest.approx(2.49, abs=0.011)


def test_workers_sharing_the_cache_never_take_the_same_slot(clock):
    first, second = limiter(clock), limiter(clock)
    times = []
    for _ in range(4):
        for worker in (first, second):
            worker.acquire("twilio:AC1:calls", 1)
            times.append(clock())
    assert len({math.floor(t) for t in times}) == len(times) == 8
    assert most_in_one_second(times) == 1


def test_each_sender_has_its_own_pace(clock):
    worker = limiter(clock)
    worker.acquire("twilio:AC1:sms:+14505550000", 1)
    worker.acquire("twilio:AC1:sms:+14505550001", 1)
    worker.acquire("twilio:AC2:sms:+14505550000", 1)
    assert clock.slept == []


def test_unlimited_never_waits_nor_writes(clock):
    worker = limiter(clock)
    for _ in range(1000):
        assert worker.acquire("email", None) == 0
    assert clock.slept == [] and cache.get(f"{ratelimit.KEY_PREFIX}email:0") is None


def test_a_worker_never_waits_past_the_limit(clock):
    worker = limiter(clock)
    for _ in range(31):  # another worker reserved the next 31 seconds
        assert worker.reserve("twilio:AC1:calls", 1) >= 0
    with pytest.raises(ratelimit.Busy) as busy:
        worker.acquire("twilio:AC1:calls", 1, max_wait=30)
    assert 30 <= busy.value.retry_in <= 32
    assert clock.slept == []


def test_rates_are_configurable_per_provider(settings):
    assert ratelimit.rate("sms_long_code") == 1
    assert ratelimit.rate("sms_short_code") == 100
    assert ratelimit.rate("voice") == 1
    assert ratelimit.rate("email") is None and ratelimit.rate("push") is None
    settings.ALERTES_RATE_LIMITS = {"voice": 5, "email": 14, "sms_short_code": 0}
    assert ratelimit.rate("voice") == 5 and ratelimit.rate("email") == 14
    assert ratelimit.rate("sms_short_code") is None  # 0: no limit
    assert ratelimit.rate("sms_long_code") == 1  # defaults stay for the others


@pytest.mark.parametrize("sender,rate", [("+14505550000", 1), ("55555", 100),
                                         ("+18885550000", 3)])
def test_sms_is_paced_per_sender_number(settings, sender, rate):
    settings.ALERTES_TWILIO_ACCOUNT_SID = SID
    settings.ALERTES_TWILIO_FROM = sender
    throttle = TwilioSMSChannel().throttle(None)
    assert throttle == ratelimit.Throttle(f"twilio:{SID}:sms:{sender}", rate)


def test_calls_are_paced_per_account_and_email_push_not_at_all(settings):
    settings.ALERTES_TWILIO_ACCOUNT_SID = SID
    assert TwilioVoiceChannel().throttle(None) == ratelimit.Throttle(f"twilio:{SID}:calls", 1)
    settings.ALERTES_TWILIO_MESSAGING_SERVICE_SID = "MG1"
    settings.ALERTES_RATE_LIMITS = {"sms_messaging_service": 12}
    assert TwilioSMSChannel().throttle(None).rate == 12
    assert ratelimit.throttle_for(EmailChannel(), None) == ratelimit.Throttle("email", None)
    assert ratelimit.throttle_for(PushChannel(), None) == ratelimit.Throttle("push", None)


def _sms_alert(numbers):
    for number in numbers:
        make_subscriber(sms=number)
    alert = Alert.objects.create(title_fr="Avis", body_fr="x", sms_fr="Avis", channels=["sms"],
                                 severity="emergency", status="sending")
    services.build_outbox(alert)
    return alert, list(Delivery.objects.filter(alert=alert).values_list("pk", flat=True))


def test_the_worker_paces_sms_to_the_long_codes_rate(db, twilio, clock, settings,
                                                      monkeypatch):
    settings.ALERTES_RATE_LIMITS = {}
    monkeypatch.setattr(ratelimit, "limiter", limiter(clock))
    _alert, ids = _sms_alert(["+14505551001", "+14505551002", "+14505551003"])
    assert services.deliver(ids)["sent"] == 3
    assert len(twilio.requests) == 3
    assert clock.slept == [0.75, 1.0]  # one a second, the first at once


def test_a_worker_behind_the_rate_gives_the_rows_back_without_an_attempt(
        db, twilio, clock, settings, monkeypatch):
    settings.ALERTES_RATE_LIMITS = {}
    busy_limiter = limiter(clock)
    monkeypatch.setattr(ratelimit, "limiter", busy_limiter)
    for _ in range(40):  # other workers hold the long code's next 40 seconds
        busy_limiter.reserve(f"twilio:{SID}:sms:+14505550000", 1, max_wait=60)
    _alert, ids = _sms_alert(["+14505551001"])
    assert services.deliver(ids)["retry"] == 1
    row = Delivery.objects.get(pk=ids[0])
    assert row.status == "queued" and row.attempts == 0 and row.claim == ""
    assert row.not_before is not None
    assert twilio.requests == []
