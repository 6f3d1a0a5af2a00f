"""Fixtures of the `alertes` tests: real local provider servers on 127.0.0.1 (an SMTP
server, aiosmtpd; an HTTP server answering like Twilio's REST API), topics, districts,
subscribers and officers."""

from __future__ import annotations

import asyncio
import base64
import json
import socket
import threading
import time
import urllib.parse
from collections import Counter
from email.utils import formatdate
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from aiosmtpd.controller import Controller

from hub.models import District
from modules.alertes.models import Subscriber, Topic
from modules.alertes.roles import APPROVERS, COMMUNICATIONS_OFFICERS
from tests.conftest import make_user

SID = "AC" + "0" * 32
TOKEN = "jeton-secret-de-test"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class FakeTwilio:
    """Answers ``POST /2010-04-01/Accounts/{sid}/Messages.json`` like Twilio, and lists
    what it created (``GET …/Messages.json?To=…&From=…``, ``GET …/Calls.json``, newest
    first, as Twilio's list resources do).

    ``mode``: ``"ok"`` (201 with a sid), ``"429-then-ok"`` (429 once per number, then
    201), ``"invalid"`` (400, Twilio error 21211), ``"500"``.  ``plan`` misbehaves for
    chosen numbers, one step per request to that number, then ``mode``: ``"500"``,
    ``"429"``, ``"invalid"``, ``"hang"`` (never answers: the client times out; nothing
    created), ``"create-then-hang"`` (the message is created, the answer never comes),
    ``"ok"``.  ``lookup_mode = "500"`` makes the lists fail.
    """

    def __init__(self):
        self.mode = "ok"
        self.delay = 0.0
        self.plan: dict[str, list[str]] = {}
        self.lookup_mode = "ok"
        self.lookups: list[dict] = []
        self.released = threading.Event()  # ends every hang (at stop)
        self.requests: list[dict] = []
        self.created: list[dict] = []  # messages created, as Twilio lists them
        self.seen: set[str] = set()
        self.calls: list[dict] = []
        self.keep_alive = False  # HTTP/1.1 persistent connections when True
        self.connections: set = set()  # client (host, port) of each connection used
        fake = self

        class Handler(BaseHTTPRequestHandler):
            disable_nagle_algorithm = True

            @property
            def protocol_version(self):
                return "HTTP/1.1" if fake.keep_alive else "HTTP/1.0"

            def log_message(self, *args):
                pass

            def do_POST(self):
                length = int(self.headers.get("Content-Length") or 0)
                form = dict(urllib.parse.parse_qsl(self.rfile.read(length).decode()))
                if fake.delay:
                    time.sleep(fake.delay)
                fake.connections.add(self.client_address)
                fake.requests.append({"path": self.path, "form": form,
                                      "auth": self.headers.get("Authorization", "")})
                calls = self.path.endswith(f"/2010-04-01/Accounts/{SID}/Calls.json")
                if not calls and \
                        not self.path.endswith(f"/2010-04-01/Accounts/{SID}/Messages.json"):
                    return self._answer(404, {"code": 20404, "message": "not found"})
                expected = base64.b64encode(f"{SID}:{TOKEN}".encode()).decode()
                if self.headers.get("Authorization") != f"Basic {expected}":
                    return self._answer(401, {"code": 20003, "message": "auth"})
                to = form.get("To", "")
                step = fake.plan[to].pop(0) if fake.plan.get(to) else None
                if step == "hang":
                    fake.released.wait(30)
                    return None
                if step == "create-then-hang":
                    fake.create_message(form)
                    fake.released.wait(30)
                    return None
                if step in ("500", "429"):
                    return self._answer(int(step), {"code": 20000 + int(step),
                                                    "message": "misbehaving"})
                if step == "invalid" or (step is None and fake.mode == "invalid"):
                    return self._answer(400, {"code": 21211, "status": 400,
                                              "message": f"The 'To' number {to} is not a "
                                                         "valid phone number."})
                if step == "ok":
                    return self._answer(201, fake.create_message(form))
                if calls and fake.mode in ("ok", "429-then-ok"):
                    return self._answer(*fake.create_call(form))
                if fake.mode == "invalid":
                    return self._answer(400, {"code": 21211, "status": 400,
                                              "message": f"The 'To' number {to} is not a "
                                                         "valid phone number."})
                if fake.mode == "500":
                    return self._answer(500, {"code": 20500, "message": "internal"})
                if fake.mode == "429-then-ok" and to not in fake.seen:
                    fake.seen.add(to)
                    return self._answer(429, {"code": 20429, "message": "Too Many Requests"})
                return self._answer(201, fake.create_message(form))

            def do_GET(self):
                path, _, query = self.path.partition("?")
                params = dict(urllib.parse.parse_qsl(query))
                fake.lookups.append({"path": path, "params": params})
                expected = base64.b64encode(f"{SID}:{TOKEN}".encode()).decode()
                if self.headers.get("Authorization") != f"Basic {expected}":
                    return self._answer(401, {"code": 20003, "message": "auth"})
                if fake.lookup_mode == "500":
                    return self._answer(500, {"code": 20500, "message": "internal"})
                kinds = {f"/2010-04-01/Accounts/{SID}/Messages.json": ("messages",
                                                                       fake.created),
                         f"/2010-04-01/Accounts/{SID}/Calls.json": ("calls", [
                             c["item"] for c in fake.calls])}
                if path not in kinds:
                    return self._answer(404, {"code": 20404, "message": "not found"})
                key, items = kinds[path]
                found = [i for i in reversed(items)
                         if all(i.get(f.lower()) == params[f] for f in ("To", "From")
                                if f in params)]
                return self._answer(200, {key: found, "next_page_uri": None})

            def _answer(self, status, payload):
                body = json.dumps(payload).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def create_message(self, form: dict) -> dict:
        item = {"sid": f"SM{len(self.requests):032d}", "status": "queued",
                "to": form.get("To", ""), "from": form.get("From", ""),
                "body": form.get("Body", ""), "date_created": formatdate(usegmt=True)}
        self.created.append(item)
        return item

    def received(self) -> Counter:
        """Messages created per number (what reached the phones)."""
        return Counter(item["to"] for item in self.created)

    def create_call(self, form: dict) -> tuple[int, dict]:
        missing = [f for f in ("To", "From", "Url", "StatusCallback") if not form.get(f)]
        if missing:
            return 400, {"code": 21205, "message": f"missing {missing}"}
        sid = f"CA{len(self.requests):032d}"
        item = {"sid": sid, "status": "queued", "to": form["To"], "from": form["From"],
                "date_created": formatdate(usegmt=True)}
        self.calls.append({"sid": sid, "form": form, "played": False, "item": item})
        return 201, {"sid": sid, "status": "queued", "to": form["To"]}

    def bodies(self, to: str | None = None) -> list[str]:
        return [r["form"].get("Body", "") for r in self.requests
                if to is None or r["form"].get("To") == to]

    def stop(self):
        self.released.set()
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def twilio(settings):
    fake = FakeTwilio()
    settings.ALERTES_TWILIO_BASE_URL = fake.url
    settings.ALERTES_TWILIO_ACCOUNT_SID = SID
    settings.ALERTES_TWILIO_AUTH_TOKEN = TOKEN
    settings.ALERTES_TWILIO_FROM = "+14505550000"
    # Pacing has its own tests (test_rate_limits.py, with a fake clock); here it would
    # only make every test with two messages wait a second.
    settings.ALERTES_RATE_LIMITS = {"sms_long_code": None, "voice": None}
    yield fake
    fake.stop()


class SMTPSink:
    """An SMTP server (aiosmtpd handler) that keeps what it accepts.  ``plan`` misbehaves
    for chosen recipients, one step per message to them, then accepts: ``"450"``/``"550"``
    (the recipient refused at ``RCPT``), ``"451"``/``"554"`` (the message refused after
    ``DATA``), ``"drop"`` (the connection closed once the message is in, before the
    answer: nothing accepted).  ``delay`` slows every acceptance."""

    def __init__(self):
        self.messages: list = []
        self.sessions: set = set()  # client (host, port) of each SMTP connection used
        self.plan: dict[str, list[str]] = {}
        self.delay = 0.0

    def received(self) -> Counter:
        """Messages accepted per recipient."""
        return Counter(to for envelope in self.messages for to in envelope.rcpt_tos)

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        steps = self.plan.get(address)
        if steps and steps[0] in ("450", "550"):
            code = steps.pop(0)
            return f"{code} {'Mailbox busy' if code == '450' else 'No such user'}"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        steps = self.plan.get(envelope.rcpt_tos[0]) if envelope.rcpt_tos else None
        if steps and steps[0] in ("451", "554", "drop"):
            step = steps.pop(0)
            if step == "drop":
                server.transport.close()
                return "421 closing"
            return f"{step} {'Try again later' if step == '451' else 'Rejected'}"
        if self.delay:
            await asyncio.sleep(self.delay)
        self.messages.append(envelope)
        self.sessions.add(session.peer)
        return "250 Message accepted for delivery"


@pytest.fixture
def smtp(settings):
    sink = SMTPSink()
    port = free_port()
    controller = Controller(sink, hostname="127.0.0.1", port=port)
    controller.start()
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST = "127.0.0.1"
    settings.EMAIL_PORT = port
    settings.EMAIL_HOST_USER = ""
    settings.EMAIL_HOST_PASSWORD = ""
    settings.EMAIL_USE_TLS = False
    settings.EMAIL_USE_SSL = False
    yield sink
    controller.stop()


SQUARE = {"type": "Polygon", "coordinates": [[[-74.2, 45.2], [-74.1, 45.2], [-74.1, 45.3],
                                              [-74.2, 45.3], [-74.2, 45.2]]]}


@pytest.fixture
def districts(db):
    north = District.objects.create(name="Nord test", slug="nord-test", geometry=SQUARE)
    south = District.objects.create(name="Sud test", slug="sud-test")
    return north, south


@pytest.fixture
def topics(db):
    specs = [("urgences", "Urgences", "Emergencies", True, 0),
             ("deneigement", "Déneigement", "Snow removal", False, 10),
             ("loisirs", "Loisirs", "Leisure", False, 20)]
    return {slug: Topic.objects.update_or_create(slug=slug, defaults={
        "name_fr": fr, "name_en": en, "is_emergency": emergency, "order": order})[0]
        for slug, fr, en, emergency, order in specs}


@pytest.fixture
def officer(db):
    return make_user("communications@example.com", is_staff=True,
                     groups=[COMMUNICATIONS_OFFICERS])


@pytest.fixture
def second_officer(db):
    return make_user("communications2@example.com", is_staff=True,
                     groups=[COMMUNICATIONS_OFFICERS])


@pytest.fixture
def approver(db):
    """A member of the alert approvers' group of the "Approbation des alertes" workflow."""
    return make_user("approbation@example.com", is_staff=True, groups=[APPROVERS])


def submit_for_approval(alert, submitter):
    """What "Submit to Approbation des alertes" does in the admin: a revision, then the
    model's workflow started on it."""
    alert.save_revision(user=submitter)
    workflow = alert.get_workflow()
    assert workflow is not None and workflow.name == "Approbation des alertes"
    return workflow.start(alert, submitter)


def approve_through_workflow(alert, submitter, approver):
    """Submit, then approve the task as ``approver`` (Wagtail's own task action)."""
    state = submit_for_approval(alert, submitter)
    task_state = state.current_task_state.specific
    task_state.task.specific.on_action(task_state, approver, "approve")
    alert.refresh_from_db()
    return state


def make_subscriber(*, email=None, sms=None, voice=None, topics=(), district=None,
                    language="fr", user=None, verified=True) -> Subscriber:
    subscriber = Subscriber.objects.create(user=user, language=language, district=district,
                                           name="" if user else "Résident")
    for topic in topics:
        subscriber.topicsubscription_set.create(topic=topic)
    for channel, value in (("email", email), ("sms", sms), ("voice", voice)):
        if value:
            address = subscriber.addresses.create(channel=channel, value=value)
            if verified:
                from django.utils import timezone

                address.verified_at = timezone.now()
                address.save()
    return subscriber


@pytest.fixture
def subscriber_factory(db):
    return make_subscriber




@pytest.fixture
def vapid(db, settings):
    """VAPID keys for Web Push, and pushes allowed to a local endpoint."""
    from modules.alertes.channels import webpush

    private, public = webpush.generate_vapid_keys()
    settings.ALERTES_VAPID_PRIVATE_KEY = private
    settings.ALERTES_VAPID_PUBLIC_KEY = public
    settings.ALERTES_VAPID_SUBJECT = "mailto:alertes@valleyfield.example"
    settings.ALERTES_PUSH_ALLOW_LOOPBACK = True
    return public


@pytest.fixture
def service(vapid):
    """A local Web Push endpoint that decrypts what it receives."""
    from .push_service import PushService

    server = PushService(vapid)
    yield server
    server.stop()
