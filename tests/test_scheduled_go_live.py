"""End to end, as on a machine set up with ``make run``: a news page scheduled in the
editor goes live, and an alert scheduled for later goes out, within about a minute of
their time, with nothing running but the processes ``make run`` starts beside the web
server — ``manage.py db_worker`` and ``manage.py hub scheduler``, real processes on a copy
of the test database (a SQLite file, or a PostgreSQL database).  The alert's email
arrives at a real SMTP server (aiosmtpd).  Bounded: the test gives up 90 s after the due
time, and asserts 70 s."""

import datetime
import os
import signal
import subprocess
import time
from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone

from modules.actualites.models import NewsIndexPage, NewsPage
from modules.alertes.models import Alert, Delivery, Topic
from modules.alertes.roles import APPROVERS, COMMUNICATIONS_OFFICERS
from tests.alertes import conftest as alertes_fixtures
from tests.alertes.conftest import approve_through_workflow, make_subscriber
from tests.conftest import make_user
from tests.process_database import database_copy, manage, process_env

smtp = alertes_fixtures.smtp  # the aiosmtpd server of the alertes tests

ON_TIME = 70      # seconds after the due time
GIVE_UP = 90


def wait_for(log, text: str, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if text in log.read_text():
            return
        time.sleep(0.2)
    raise AssertionError(f"{log.name}: no {text!r} within {timeout} s:\n{log.read_text()[-3000:]}")


def stop(process: subprocess.Popen) -> int:
    """SIGTERM to the process group (``db_worker`` reloads in a child under DEBUG), as
    Ctrl-C or systemd would; killed if it has not ended 15 s later."""
    try:
        os.killpg(process.pid, signal.SIGTERM)
        return process.wait(timeout=15)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=10)
        raise


# PostgreSQL only: on SQLite the in-memory test database has to be swapped for a file
# copy under the running test (tests/process_database.py), and once in CI that swap
# ended in a segmentation fault inside sqlite3 that took the xdist worker down (the
# same test passed in the other runs).  The schedulers' own race test still runs real
# processes on both databases (tests/test_scheduler.py).
@pytest.mark.skipif(connection.vendor != "postgresql",
                    reason="real processes on a copied database: PostgreSQL only")
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_scheduled_page_and_alert_go_out_with_only_make_runs_processes(
        tmp_path, smtp, settings, client):
    from hub import demo

    with database_copy(tmp_path) as url:
        demo.load()
        officer = make_user("communications@example.com", is_staff=True,
                            groups=[COMMUNICATIONS_OFFICERS])
        approver = make_user("approbation@example.com", is_staff=True, groups=[APPROVERS])
        topic = Topic.objects.create(slug="sapins", name_fr="Collecte des sapins",
                                     name_en="Tree pickup")
        make_subscriber(email="residente@example.com", topics=[topic])

        # LOG_LEVEL=DEBUG: under DEBUG (as make run) routine lines such as "Enqueued …" are DEBUG.
        env = process_env(url, tmp_path, EMAIL_URL=f"smtp://127.0.0.1:{settings.EMAIL_PORT}",
                          LOG_LEVEL="DEBUG")
        logs = {name: tmp_path / f"{name}.log" for name in ("worker", "scheduler")}
        worker = manage("db_worker", env=env, log=logs["worker"])
        scheduler = manage("hub", "scheduler", env=env, log=logs["scheduler"])
        try:
            wait_for(logs["scheduler"], "Scheduler ", 120)
            wait_for(logs["worker"], "Task worker started", 120)

            due = timezone.now() + timedelta(seconds=5)
            # The editor's "publish" with a go-live time: a scheduled revision, not live.
            index = NewsIndexPage.objects.get(locale__language_code="fr")
            page = NewsPage(title="Collecte des sapins le 8 janvier", slug="collecte-sapins",
                            lead="Déposez votre sapin en bordure de rue.",
                            date=datetime.date(2027, 1, 8), go_live_at=due, live=False)
            index.add_child(instance=page)
            page.save_revision(user=officer).publish(user=officer)
            page.refresh_from_db()
            assert not page.live
            # An information alert approved now, to be sent at ``due``.
            alert = Alert.objects.create(
                severity="info", channels=["email"], created_by=officer, send_at=due,
                title_fr="Collecte des sapins", title_en="Tree pickup",
                body_fr="La collecte des sapins a lieu le 8 janvier.",
                body_en="Trees are picked up on January 8.")
            alert.topics.set([topic])
            approve_through_workflow(alert, officer, approver)
            assert alert.status == Alert.Status.SCHEDULED

            live_at = sent_at = None
            while (live_at is None or sent_at is None) and timezone.now() < due + timedelta(
                    seconds=GIVE_UP):
                if live_at is None and NewsPage.objects.get(pk=page.pk).live:
                    live_at = timezone.now()
                if sent_at is None and any(m.rcpt_tos == ["residente@example.com"]
                                           for m in smtp.messages):
                    sent_at = timezone.now()
                time.sleep(0.5)
            report = "\n".join(f"--- {name}\n{log.read_text()[-3000:]}"
                               for name, log in logs.items())
            assert live_at is not None, f"the page never went live\n{report}"
            assert sent_at is not None, f"the alert never went out\n{report}"
            assert (live_at - due).total_seconds() <= ON_TIME, report
            assert (sent_at - due).total_seconds() <= ON_TIME, report
        finally:
            codes = {"scheduler": stop(scheduler), "worker": stop(worker)}

        assert client.get(page.url).status_code == 200
        assert Delivery.objects.get(alert=alert).status == Delivery.Status.SENT
        assert codes["scheduler"] == 0, logs["scheduler"].read_text()[-3000:]
        scheduler_log = logs["scheduler"].read_text()
        assert "Enqueued alertes.dispatch" in scheduler_log
        assert "Enqueued hub.publish_scheduled" in scheduler_log
        assert scheduler_log.rstrip().endswith("stopped")  # SIGTERM ends it cleanly

