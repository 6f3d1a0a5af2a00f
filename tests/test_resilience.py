"""Failures survived without a person (issue 12, items 7 and 8): Redis stopped, SMTP down.

Real servers only: a ``redis-server`` of our own on a free port (never the machine's
shared one), stopped and started again mid-test; a closed port; aiosmtpd for SMTP.
"""

from __future__ import annotations

import logging
import shutil
import socket
import subprocess
import time
from datetime import timedelta
from email import message_from_bytes
from email.header import decode_header, make_header

import pytest
from django.conf import settings
from django.test import override_settings
from django.utils import timezone

from hub.settings import redis_cache
from modules.alertes.models import Delivery
from modules.requetes.models import Category, ServiceRequest
from tests.alertes.conftest import free_port, smtp  # noqa: F401 (fixture)
from tests.conftest import make_user
from tests.redis_support import in_ci
from tests.requetes.conftest import INSIDE

RQ_TASKS = {"default": {"BACKEND": "django_tasks_rq.RQBackend", "QUEUES": ["default"]}}


def closed_port() -> int:
    """A port nothing listens on (bound, then released)."""
    return free_port()


class RedisServer:
    """A throwaway ``redis-server`` on a free port, which a test stops and starts."""

    def __init__(self) -> None:
        self.port = free_port()
        self.process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def _answers(self) -> bool:
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=0.5) as sock:
                sock.sendall(b"PING\r\n")
                return sock.recv(16).startswith(b"+PONG")
        except OSError:
            return False

    def start(self) -> None:
        self.process = subprocess.Popen(
            ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1",
             "--save", "", "--appendonly", "no", "--daemonize", "no"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 10
        while not self._answers():
            if time.monotonic() > deadline or self.process.poll() is not None:
                raise RuntimeError(f"redis-server did not start on port {self.port}")
            time.sleep(0.05)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=10)
        self.process = None
        assert not self._answers()


@pytest.fixture
def redis_server():
    if not shutil.which("redis-server"):
        if in_ci():
            pytest.fail("CI must provide redis-server (Debian's redis-server package)")
        pytest.skip("redis-server is not installed")
    server = RedisServer()
    server.start()
    yield server
    server.stop()


def _subject(envelope) -> str:
    return str(make_header(decode_header(
        message_from_bytes(envelope.original_content)["Subject"])))


# --- item 7: Redis down ----------------------------------------------------------------

def test_redis_cache_setting_fails_open():
    """What REDIS_URL configures: a cache that ignores (and logs) Redis errors, with
    short socket timeouts, so a stopped or unreachable Redis is a cache miss."""
    import subprocess as sp
    import sys

    code = ("import hub.settings as s; o = s.CACHES['default']['OPTIONS'];"
            "print(o['IGNORE_EXCEPTIONS'], o['SOCKET_TIMEOUT'], "
            "s.DJANGO_REDIS_LOG_IGNORED_EXCEPTIONS)")
    env = {"PATH": "/usr/bin:/bin", "DJANGO_SETTINGS_MODULE": "hub.settings",
           "REDIS_URL": "redis://127.0.0.1:1/0", "REDIS_TIMEOUT": "0.5"}
    out = sp.run([sys.executable, "-c", code], env=env, capture_output=True, text=True,
                 check=True, cwd=settings.BASE_DIR).stdout.split()
    assert out == ["True", "0.5", "True"]


@pytest.mark.django_db
def test_pages_and_rate_counters_work_with_redis_unreachable(client, site, citizen, caplog):
    """Every page reads the cache (public page cache, fragments, throttles, rate
    counters): with Redis on a closed port they are served, uncached, and the error is
    logged instead of answered as a 500."""
    url = f"redis://127.0.0.1:{closed_port()}/0"
    with override_settings(CACHES={"default": redis_cache(url, 0.5)},
                           HUB_PUBLIC_CACHE_SECONDS=60, HUB_FRAGMENT_CACHE_SECONDS=60), \
            caplog.at_level(logging.ERROR, logger="django_redis.cache"):
        assert client.get("/fr/").status_code == 200
        assert client.get("/fr/").status_code == 200
        assert client.get("/api/v1/request-categories/").status_code == 200
        assert client.get("/fr/adresses/suggestions/", {"q": "rue"}).status_code == 200
        client.force_login(citizen)
        assert client.get("/fr/mon-espace/").status_code == 200
    assert any("Exception ignored" in r.getMessage() for r in caplog.records)


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_redis_stopped_loses_and_doubles_no_request_and_no_notice(
        client, departments, agent_a, smtp, redis_server):  # noqa: F811
    """Redis (cache and task broker) is stopped: 100 submissions through the API all
    answer 201 and are saved; the agent's acknowledgements are written to the outbox but
    cannot be enqueued.  Redis comes back: the scheduler's sweep enqueues them and each
    requester gets exactly one email per request, and a second sweep sends nothing."""
    import django_rq
    from rq import SimpleWorker

    from hub.scheduler import Scheduler

    Category.objects.create(service_code="eclairage", name_fr="Éclairage",
                            name_en="Lighting", department=departments[0])
    residents = [make_user(f"resident{i}@example.com") for i in range(4)]
    with override_settings(CACHES={"default": redis_cache(redis_server.url, 0.5)},
                           TASKS=RQ_TASKS, RQ_QUEUES={"default": {"URL": redis_server.url}},
                           HUB_PUBLIC_CACHE_SECONDS=60,
                           REST_FRAMEWORK={**settings.REST_FRAMEWORK,
                                           "DEFAULT_THROTTLE_RATES": {
                                               "anon": "120/min", "user": "600/min"}}):
        redis_server.stop()
        for number in range(100):
            client.force_login(residents[number % 4])
            response = client.post("/api/v1/requests/", {
                "category": "eclairage", "description": f"Lampadaire éteint n° {number}",
                "latitude": INSIDE[0], "longitude": INSIDE[1]},
                content_type="application/json")
            assert response.status_code == 201, response.content[:500]
        requests = list(ServiceRequest.objects.order_by("pk"))
        assert len(requests) == 100

        client.force_login(agent_a)
        for request in requests:
            response = client.post(f"/admin/requetes/{request.pk}/", {
                "action": "transition", "to_status": "acknowledged",
                "public_message": "", "internal_note": ""})
            assert response.status_code == 302, response.content[-2000:]
        assert Delivery.objects.filter(status="queued", enqueued_at__isnull=True,
                                       notice__isnull=False).count() == 100
        assert smtp.messages == []

        redis_server.start()
        scheduler = Scheduler(identity="resilience-test")
        now = timezone.now()
        worker_queue = django_rq.get_queue("default")
        for minute in range(2):  # the sweep, then the next minute's sweep
            assert "alertes.dispatch" in dict(scheduler.tick(now + timedelta(minutes=minute)))
            worker = django_rq.get_worker("default", worker_class=SimpleWorker,
                                          job_class="django_tasks_rq.Job")
            worker.work(burst=True)
            assert worker_queue.count == 0

    subjects = [_subject(envelope) for envelope in smtp.messages]
    assert len(subjects) == 100
    for request in requests:
        assert sum(f" {request.reference}" in subject for subject in subjects) == 1, \
            request.reference
    assert set(Delivery.objects.values_list("status", flat=True)) == {"sent"}


# --- item 8: the mail server down -------------------------------------------------------

DB_TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend", "QUEUES": ["default"]}}
PASSWORD = "motdepasse-solide-42"


def smtp_on(port: int) -> dict:
    return {"EMAIL_BACKEND": "django.core.mail.backends.smtp.EmailBackend",
            "EMAIL_HOST": "127.0.0.1", "EMAIL_PORT": port, "EMAIL_HOST_USER": "",
            "EMAIL_HOST_PASSWORD": "", "EMAIL_USE_TLS": False, "EMAIL_USE_SSL": False,
            "EMAIL_TIMEOUT": 5}


def _run_worker() -> None:
    from django.core.management import call_command

    call_command("db_worker", "--batch", "--no-startup-delay", "--no-reload")


def _body(envelope) -> str:
    message = message_from_bytes(envelope.original_content)
    return "\n".join(part.get_payload(decode=True).decode()
                     for part in message.walk() if not part.is_multipart())


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_sign_up_and_password_reset_survive_the_mail_server_down(client):
    """The mail server refuses connections: sign-up and a password reset answer their
    normal pages, the account is whole (one unverified address), the emails wait in the
    task queue and are tried again; once the server is back they arrive, once each, and
    their links work."""
    import re

    from aiosmtpd.controller import Controller
    from allauth.account.models import EmailAddress
    from django.core.cache import cache
    from django_tasks_db.models import DBTaskResult

    from hub.models import User
    from tests.alertes.conftest import SMTPSink

    cache.clear()  # allauth's per-address limits (one confirmation per 3 minutes)
    resident = make_user("ancienne@example.com", password=PASSWORD)
    port = closed_port()
    with override_settings(TASKS=DB_TASKS, HUB_EMAIL_RETRY_DELAY=60, **smtp_on(port)):
        response = client.post("/fr/compte/signup/", {
            "email": "nouvelle@example.com", "password1": PASSWORD, "password2": PASSWORD})
        assert response.status_code == 302
        assert response["Location"] == "/fr/compte/confirm-email/"
        newcomer = User.objects.get(email="nouvelle@example.com")
        assert list(EmailAddress.objects.filter(user=newcomer).values_list(
            "email", "verified")) == [("nouvelle@example.com", False)]
        response = client.post("/fr/compte/password/reset/", {"email": resident.email})
        assert response.status_code == 302
        assert response["Location"] == "/fr/compte/password/reset/done/"

        # The worker tries while the server is still down: each email waits for a retry.
        queued = [row.args_kwargs["args"][0]["to"] for row in DBTaskResult.objects.ready()]
        assert sorted(queued) == [["ancienne@example.com"], ["nouvelle@example.com"]], (
            queued, list(DBTaskResult.objects.values_list("task_path", "status")))
        _run_worker()
        assert DBTaskResult.objects.ready().count() == 0
        waiting = DBTaskResult.objects.filter(status="READY")
        assert waiting.count() == 2
        assert all(row.args_kwargs["args"][1] == 2 for row in waiting)  # second attempt
        assert all(row.run_after > timezone.now() + timedelta(seconds=30) for row in waiting)

        sink = SMTPSink()
        controller = Controller(sink, hostname="127.0.0.1", port=port)
        controller.start()
        try:
            waiting.update(run_after=timezone.now())  # the retry delay has passed
            _run_worker()
            _run_worker()  # nothing left: nothing sent twice
        finally:
            controller.stop()

    assert sorted(envelope.rcpt_tos[0] for envelope in sink.messages) == [
        "ancienne@example.com", "nouvelle@example.com"]
    confirm = next(e for e in sink.messages if e.rcpt_tos == ["nouvelle@example.com"])
    link = re.search(r"/fr/compte/confirm-email/[^/\s]+/", _body(confirm)).group(0)
    assert client.post(link).status_code == 302
    assert EmailAddress.objects.get(user=newcomer).verified
    reset = next(e for e in sink.messages if e.rcpt_tos == ["ancienne@example.com"])
    assert re.search(r"/fr/compte/password/reset/key/[^/\s]+/", _body(reset))


@pytest.mark.django_db
def test_sign_up_with_mail_and_task_queue_both_down_says_so(client):
    """Neither the task broker (Redis on a closed port) nor the mail server answers: the
    visitor still gets the normal next page, told to ask again in a few minutes."""
    from hub.models import User

    broker = f"redis://127.0.0.1:{closed_port()}/0"
    with override_settings(TASKS=RQ_TASKS, RQ_QUEUES={"default": {"URL": broker}},
                           **smtp_on(closed_port())):
        response = client.post("/fr/compte/signup/", {
            "email": "sans-courriel@example.com", "password1": PASSWORD,
            "password2": PASSWORD}, follow=True)
    assert response.status_code == 200
    assert User.objects.filter(email="sans-courriel@example.com").count() == 1
    assert "Redemandez-le dans quelques minutes" in response.content.decode()
