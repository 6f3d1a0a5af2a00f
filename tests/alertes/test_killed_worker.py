"""A worker process killed in the middle of a batch: afterwards every delivery was sent
exactly once, or is flagged for a person to check — never lost, never doubled silently;
and what can be known is known without a person: the rows it never tried are taken back
at once, the texts it was sending are looked up in Twilio's list, only the emails that
were inside an SMTP session go to review (at most one per sending thread).

The worker is a real separate process sharing the database, so this runs on PostgreSQL
(SQLite's test database lives in the test process's memory)."""

import os
import signal
import subprocess
import sys
import time
from collections import Counter
from datetime import timedelta

import pytest
from django.conf import settings
from django.db import connection
from django.utils import timezone

from modules.alertes import services
from modules.alertes.channels import TwilioSMSChannel
from modules.alertes.models import Alert, Delivery

from .conftest import SID, TOKEN, make_subscriber

WORKER = """
import os, sys, django
django.setup()
from django.conf import settings
settings.ALERTES_TWILIO_BASE_URL = os.environ["TWILIO_URL"]
settings.ALERTES_TWILIO_ACCOUNT_SID = {sid!r}
settings.ALERTES_TWILIO_AUTH_TOKEN = {token!r}
settings.ALERTES_TWILIO_FROM = "+14505550000"
settings.ALERTES_RATE_LIMITS = {{"sms_long_code": None, "voice": None}}
if os.environ.get("SMTP_PORT"):
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", int(os.environ["SMTP_PORT"])
    settings.EMAIL_USE_TLS = settings.EMAIL_USE_SSL = False
    settings.EMAIL_HOST_USER = settings.EMAIL_HOST_PASSWORD = ""
from modules.alertes import services
print("ready", flush=True)
services.deliver([int(i) for i in sys.argv[1].split(",")])
"""


@pytest.mark.skipif(settings.DATABASES["default"]["ENGINE"] != "django.db.backends.postgresql",
                    reason="needs a database shared between processes (PostgreSQL)")
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_worker_killed_mid_batch_loses_and_doubles_nothing(twilio, topics, monkeypatch):
    # Texts in flight are looked up once a request still on its way (here the fake
    # Twilio's delay) has surely arrived: Twilio's timeout plus 5 s, here 3 s.
    monkeypatch.setattr(TwilioSMSChannel, "lookup_grace", 3, raising=False)
    twilio.delay = 0.15
    for n in range(30):
        make_subscriber(sms=f"+1450555{n:04d}", topics=[topics["deneigement"]])
    alert = Alert.objects.create(title_fr="Fuite", body_fr="x", sms_fr="Fuite de gaz",
                                 severity="emergency", channels=["sms"], status="sending")
    services.build_outbox(alert)
    ids = list(Delivery.objects.order_by("pk").values_list("pk", flat=True))
    db = connection.settings_dict
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "tests.settings", "TWILIO_URL": twilio.url,
           "DATABASE_URL": f"postgres://{db['USER']}@{db['HOST']}:{db['PORT']}/{db['NAME']}"}
    worker = subprocess.Popen(
        [sys.executable, "-c", WORKER.format(sid=SID, token=TOKEN), ",".join(map(str, ids))],
        env=env, cwd=settings.BASE_DIR, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 60
    while len(twilio.requests) < 8 and time.monotonic() < deadline:
        time.sleep(0.05)
    os.kill(worker.pid, signal.SIGKILL)
    worker.wait(timeout=10)
    assert len(twilio.requests) >= 8, worker.stderr.read().decode()[-2000:]
    statuses = Counter(Delivery.objects.values_list("status", flat=True))
    assert statuses["sending"] >= 1  # killed while holding a claim

    # Restart: the every-minute sweep, once the stuck threshold has passed.
    time.sleep(4)
    twilio.delay = 0
    services.dispatch_due(now=timezone.now() + timedelta(hours=1))
    rows = list(Delivery.objects.all())
    per_number = Counter(r["form"]["To"] for r in twilio.requests)
    assert all(count == 1 for count in per_number.values()), "a message was sent twice"
    for row in rows:
        assert row.status in ("sent", "review"), row.status
        if row.status == "sent":
            assert per_number[row.address] == 1
    assert {r.address for r in rows if r.status == "sent"} <= set(per_number)
    assert sum(1 for r in rows if r.status == "sent") >= 30 - statuses["sending"]


POSTGRESQL = pytest.mark.skipif(
    settings.DATABASES["default"]["ENGINE"] != "django.db.backends.postgresql",
    reason="needs a database shared between processes (PostgreSQL)")


def worker_env(**extra):
    db = connection.settings_dict
    return {**os.environ, "DJANGO_SETTINGS_MODULE": "tests.settings",
            "DATABASE_URL": f"postgres://{db['USER']}@{db['HOST']}:{db['PORT']}/{db['NAME']}",
            **extra}


@POSTGRESQL
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_killed_worker_rows_are_resolved_without_a_person(twilio, smtp, settings,
                                                         monkeypatch):
    """Three claims' worth of rows (email and SMS), the worker SIGKILLed in the second:
    the sweep right after (not 5 or 15 minutes later) ends every row sent, failed or to
    review, review ≤ the rows that were in flight, nothing received twice."""
    from modules.alertes.services import delivery as worker

    monkeypatch.setattr(TwilioSMSChannel, "lookup_grace", 3, raising=False)
    subscribers = 150
    for n in range(subscribers):
        make_subscriber(email=f"k{n}@example.com", sms=f"+1450556{n:04d}")
    alert = Alert.objects.create(title_fr="Fuite", body_fr="x", sms_fr="Fuite de gaz",
                                 severity="emergency", channels=["email", "sms"],
                                 status="sending", audience_size=2 * subscribers)
    services.build_outbox(alert)
    ids = list(Delivery.objects.order_by("pk").values_list("pk", flat=True))
    assert len(ids) > 2 * worker.CLAIM_SIZE
    smtp.delay = twilio.delay = 0.05
    process = subprocess.Popen(
        [sys.executable, "-c", WORKER.format(sid=SID, token=TOKEN), ",".join(map(str, ids))],
        env=worker_env(TWILIO_URL=twilio.url, SMTP_PORT=str(settings.EMAIL_PORT)),
        cwd=settings.BASE_DIR, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 120
    while (len(smtp.messages) + len(twilio.requests) < worker.CLAIM_SIZE + 20
           and time.monotonic() < deadline):
        time.sleep(0.02)
    os.kill(process.pid, signal.SIGKILL)
    process.wait(timeout=10)
    assert len(smtp.messages) + len(twilio.requests) >= worker.CLAIM_SIZE, \
        process.stderr.read().decode()[-2000:]
    in_flight = Delivery.objects.filter(status="sending", attempted_at__isnull=False).count()
    before = Counter(Delivery.objects.values_list("status", flat=True))
    assert before["sending"] >= 1 and before["queued"] >= 1  # killed mid-claim, rows left
    # In flight: a row per sending thread being sent, and those just sent whose outcome
    # was not yet written (recorded at each turn of the worker's loop).
    assert in_flight <= 2 * int(getattr(settings, "ALERTES_SEND_THREADS", 8))

    # The sweep, once Twilio's timeout has passed (the texts in flight are looked up
    # then): nobody waits for ALERTES_REQUEUE_AFTER (300 s) or ALERTES_STUCK_AFTER.
    time.sleep(4)
    smtp.delay = twilio.delay = 0
    result = services.dispatch_due()
    assert result.get("released", 0) >= before["queued"]
    rows = list(Delivery.objects.all())
    statuses = Counter(r.status for r in rows)
    assert statuses["sent"] + statuses["failed"] + statuses["review"] == len(ids), [
        (r.channel, r.status, r.attempts, r.not_before, r.claim, r.error) for r in rows
        if r.status not in ("sent", "failed", "review")]
    assert statuses["review"] <= in_flight
    emails, texts = smtp.received(), Counter(r["form"]["To"] for r in twilio.requests)
    assert max(emails.values()) == 1 and max(texts.values()) == 1, "something doubled"
    for row in rows:
        received = emails if row.channel == "email" else texts
        if row.status == "sent":
            assert received[row.address] == 1, row.address
        elif row.status == "review":
            assert row.channel == "email" and row.provider_id in row.error
    assert {r.address for r in rows if r.status in ("sent", "review")} >= set(emails) | set(
        texts)
