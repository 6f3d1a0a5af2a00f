"""Two worker processes given the same deliveries at the same moment (a task enqueued
twice, the sweep's re-enqueue racing the first task): on PostgreSQL they contend on the
same rows (``SELECT … FOR UPDATE SKIP LOCKED``) and each message is still sent once,
counted per recipient at a real local SMTP server.

Real separate processes sharing the database, so PostgreSQL only (SQLite's test
database lives in the test process's memory)."""

import json
import os
import subprocess
import sys
import time
from collections import Counter

import pytest
from django.conf import settings
from django.db import connection

from modules.alertes import services
from modules.alertes.models import Alert, Delivery

from .conftest import make_subscriber

WORKER = """
import json, os, sys, time, django
django.setup()
from django.conf import settings
settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", int(os.environ["SMTP_PORT"])
settings.EMAIL_USE_TLS = settings.EMAIL_USE_SSL = False
settings.EMAIL_HOST_USER = settings.EMAIL_HOST_PASSWORD = ""
from modules.alertes.tasks import deliver_batch
ids = [int(i) for i in sys.argv[1].split(",")]
go = os.environ["GO_FILE"]
while not os.path.exists(go):  # both start together
    time.sleep(0.005)
result = deliver_batch.call(ids)  # the task a db_worker runs
print(json.dumps(result), flush=True)
"""


@pytest.mark.skipif(settings.DATABASES["default"]["ENGINE"] != "django.db.backends.postgresql",
                    reason="two processes contending on one database: PostgreSQL "
                           "(SKIP LOCKED)")
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_two_workers_claiming_at_once_send_each_email_once(smtp, settings, tmp_path):
    total = 400
    for n in range(total):
        make_subscriber(email=f"w{n}@example.com")
    alert = Alert.objects.create(title_fr="Fuite", body_fr="x", severity="emergency",
                                 channels=["email"], status="sending", audience_size=total)
    services.build_outbox(alert)
    ids = ",".join(map(str, Delivery.objects.order_by("pk").values_list("pk", flat=True)))
    db = connection.settings_dict
    go = tmp_path / "go"
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "tests.settings",
           "DATABASE_URL": f"postgres://{db['USER']}@{db['HOST']}:{db['PORT']}/{db['NAME']}",
           "SMTP_PORT": str(settings.EMAIL_PORT), "GO_FILE": str(go)}
    smtp.delay = 0.002
    workers = [subprocess.Popen([sys.executable, "-c", WORKER, ids], env=env,
                                cwd=settings.BASE_DIR, stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, text=True) for _ in range(2)]
    time.sleep(3)  # both have loaded Django and wait for the signal
    go.touch()
    outputs = [w.communicate(timeout=300) for w in workers]
    for worker, (_out, err) in zip(workers, outputs, strict=True):
        assert worker.returncode == 0, err[-3000:]
    results = [json.loads(out.strip().splitlines()[-1]) for out, _ in outputs]
    assert sum(r["sent"] for r in results) == total
    assert all(r["sent"] + r["skipped"] == total for r in results)
    received = smtp.received()
    assert len(received) == total and set(received.values()) == {1}, \
        Counter(received.values())
    assert Counter(Delivery.objects.values_list("status", flat=True)) == {"sent": total}
