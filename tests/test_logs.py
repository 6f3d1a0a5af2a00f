"""The operational logs as a city's IT reads them (hub/logs.py, LOGGING in settings):
one access line per request, one line per task, security events as JSON lines on
``hub.security``; no secret in any line, and CR/LF sent by a client cannot forge one.

The lines are read from the configured handlers themselves (their stream swapped for a
buffer), so the filters and formatters under test are the ones a deployment runs."""

from __future__ import annotations

import io
import json
import logging
import re

import pytest
from django.contrib.auth import authenticate
from django.core.cache import cache

from hub import tasks as hub_tasks
from hub.logs import RedactingFilter

PASSWORD = "motdepasse-solide-42"
LOGIN = "/fr/compte/login/"


def _configured_handler(logger: logging.Logger) -> logging.StreamHandler:
    for handler in logger.handlers:
        if any(isinstance(f, RedactingFilter) for f in handler.filters):
            return handler
    raise AssertionError(f"no redacting handler on {logger.name or 'root'}")


@pytest.fixture
def lines():
    """Every line the root (access, tasks) and hub.security handlers write."""
    root = _configured_handler(logging.getLogger())
    security = _configured_handler(logging.getLogger("hub.security"))
    buffer = io.StringIO()
    old = root.setStream(buffer), security.setStream(buffer)
    cache.clear()
    yield lambda: buffer.getvalue().splitlines()
    root.setStream(old[0])
    security.setStream(old[1])
    cache.clear()


def events(all_lines, name):
    found = []
    for line in all_lines:
        if line.startswith("{"):
            data = json.loads(line)
            if data.get("event") == name:
                found.append(data)
    return found


@pytest.mark.django_db
def test_one_access_line_per_request_without_secrets(client, citizen, lines):
    client.force_login(citizen)
    client.get("/api/v1/me/?access_token=jeton-tres-secret&code=code-secret&x=1",
               HTTP_AUTHORIZATION="Bearer porteur-tres-secret-123")
    access = [line for line in lines() if line.startswith("GET /api/v1/me/")]
    assert len(access) == 1, lines()
    assert re.fullmatch(r"GET /api/v1/me/\?access_token=\[filtered\]&code=\[filtered\]&x=1 "
                        r"\d{3} \d+\.\dms user=(\d+|-)", access[0]), access[0]
    text = "\n".join(lines())
    for secret in ("jeton-tres-secret", "code-secret", "porteur-tres-secret-123"):
        assert secret not in text


@pytest.mark.django_db
def test_secret_names_spelled_otherwise_are_still_filtered(client, lines):
    """The access log keeps a query without secrets as sent (no re-encoding on each hit
    of a public listing), so its check of the names must see through the spellings
    ``parse_qsl`` decodes: percent-encoding, ``+`` and capitals."""
    client.get("/api/v1/modules/?acc%65ss_token=jeton-encode&Client+Secret=x"
               "&PASSWORD=mot-de-passe-crie&client_secret=secret-du-client&langue=fr")
    text = "\n".join(lines())
    for secret in ("jeton-encode", "mot-de-passe-crie", "secret-du-client"):
        assert secret not in text, text
    client.get("/api/v2/pages/?type=actualites.NewsPage&fields=date,lead&limit=20")
    assert any(line.startswith("GET /api/v2/pages/?type=actualites.NewsPage"
                               "&fields=date,lead&limit=20 ") for line in lines()), lines()


@pytest.mark.django_db
def test_access_line_names_the_user(client, citizen, lines):
    client.force_login(citizen)
    client.get("/api/v1/me/")
    access = [line for line in lines() if line.startswith("GET /api/v1/me/ ")]
    assert access and access[0].endswith(f"user={citizen.pk}") and " 200 " in access[0]


@pytest.mark.django_db
def test_crlf_in_a_path_cannot_forge_a_line(client, lines):
    client.get("/fr/rien%0d%0aGET /admin/ 200 1.0ms user=1")
    written = lines()
    assert not any(line.startswith("GET /admin/") for line in written), written
    forged = [line for line in written if "rien" in line]
    assert len(forged) == 1 and "\\r\\n" in forged[0]


@pytest.mark.django_db
def test_sign_in_failure_and_success_are_json_events(client, citizen, lines):
    client.post(LOGIN, {"login": citizen.email, "password": "le-mot-de-passe-essaye"})
    client.post(LOGIN, {"login": citizen.email, "password": PASSWORD})
    written = lines()
    failures = events(written, "sign_in_failure")
    assert [e["username"] for e in failures] == [citizen.email], written
    successes = events(written, "sign_in_success")
    assert [e["user_id"] for e in successes] == [citizen.pk], written
    text = "\n".join(written)
    assert "le-mot-de-passe-essaye" not in text and PASSWORD not in text


@pytest.mark.django_db
def test_crlf_in_a_username_cannot_forge_an_event(rf, lines):
    forged = 'pirate@example.com\r\n{"event": "sign_in_success", "user_id": 1}'
    request = rf.post("/admin/login/")
    assert authenticate(request, email=forged, password="x") is None
    written = lines()
    assert not any(line.startswith('{"event": "sign_in_success"') for line in written)
    (failure,) = events(written, "sign_in_failure")
    assert failure["username"].startswith("pirate@example.com\\r\\n")
    assert events(written, "sign_in_success") == []


@pytest.mark.django_db
def test_lockout_is_a_security_event(client, citizen, lines, settings):
    for _ in range(settings.AXES_FAILURE_LIMIT + 1):
        client.post(LOGIN, {"login": citizen.email, "password": "mauvais"})
    locked = events(lines(), "lockout")
    assert locked and locked[0]["username"] == citizen.email


@pytest.mark.django_db
def test_permission_denied_is_a_security_event(client, citizen, lines):
    client.force_login(citizen)
    response = client.get("/health/detail/")
    assert response.status_code == 403
    denied = events(lines(), "permission_denied")
    assert len(denied) == 1
    assert denied[0]["user_id"] == citizen.pk and denied[0]["path"] == "/health/detail/"


@pytest.mark.django_db
def test_one_line_per_task(lines):
    result = hub_tasks.record_heartbeat.enqueue("logs-test")
    written = [line for line in lines() if line.startswith("task=")]
    mine = [line for line in written if f"id={result.id}" in line]
    assert len(mine) == 1, written
    assert re.fullmatch(r"task=hub\.tasks\.record_heartbeat id=\S+ outcome=SUCCESSFUL "
                        r"duration_ms=\d+\.\d", mine[0]), mine[0]


def test_any_logger_line_is_redacted_and_escaped(lines):
    logging.getLogger("hub.anything").warning(
        "appel refusé: Authorization: Bearer abcdefghij123 ?password=hunter22\r\nFAUX")
    written = lines()
    line = next(line for line in written if "appel refusé" in line)
    assert "abcdefghij123" not in line and "hunter22" not in line
    assert line.endswith("\\r\\nFAUX")
    assert not any(line.startswith("FAUX") for line in written)


def test_staff_reads_are_emitted_as_json_without_importing_the_hub(lines):
    """How a module (law25's access log) emits a staff read: plain logging."""
    logging.getLogger("hub.security").info(
        "staff_read_personal_data", extra={"event": "staff_read_personal_data",
                                           "user_id": 7, "subject_id": 9,
                                           "object": "requetes.ServiceRequest:3"})
    (event,) = events(lines(), "staff_read_personal_data")
    assert event["user_id"] == 7 and event["subject_id"] == 9
