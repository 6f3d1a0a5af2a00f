"""A worker process killed in the middle of a batch: afterwards every delivery was sent
exactly once, or is flagged for a person to check — never lost, never doubled silently.

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
from modules.alertes import services
print("ready", flush=True)
services.deliver([int(i) for i in sys.argv[1].split(",")])
"""


@pytest.mark.skipif(settings.DATABASES["default"]["ENGINE"] != "django.db.backends.postgresql",
                    reason="needs a database shared between processes (PostgreSQL)")
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_worker_killed_mid_batch_loses_and_doubles_nothing(twilio, topics):
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
