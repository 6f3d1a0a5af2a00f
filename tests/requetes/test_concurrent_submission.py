"""The same idempotency key (app API) or ``submission_key`` (report wizard) sent twice at
the same moment (issue 12, item 14): exactly one request is created and both answers
point to it.  Real threads, each with its own database connection, released together by
a barrier; on PostgreSQL the two transactions really overlap (the reference counter's
row lock makes the second wait, then its insert meets the unique key)."""

from __future__ import annotations

import threading
import uuid

import pytest
from django.db import connection, connections
from django.test import Client

from modules.requetes.models import ServiceRequest

from .conftest import INSIDE

pytestmark = [
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
    pytest.mark.skipif(
        connection.vendor == "sqlite",
        reason="SQLite's in-memory test database is one shared-cache connection set: a "
               "second writer gets 'database table is locked' at once, so two writers "
               "never overlap there (the key's uniqueness is tested on PostgreSQL)"),
]

WORKERS = 4


def race(citizen, send) -> list:
    """Run ``send(client)`` in WORKERS threads released at once; their answers."""
    barrier = threading.Barrier(WORKERS)
    answers: list = [None] * WORKERS
    errors: list = []

    def run(index):
        client = Client()
        client.force_login(citizen)
        client.raise_request_exception = False
        try:
            barrier.wait(timeout=30)
            answers[index] = send(client)
        except Exception as exc:  # reported below
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(WORKERS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not errors, errors
    return answers


def test_same_idempotency_key_sent_concurrently_creates_one_request(citizen, lighting):
    key = str(uuid.uuid4())
    body = {"category": "eclairage", "description": "Lampadaire éteint",
            "latitude": INSIDE[0], "longitude": INSIDE[1], "answers": {"poteau": "12"}}

    answers = race(citizen, lambda client: client.post(
        "/api/v1/requests/", body, content_type="application/json",
        HTTP_IDEMPOTENCY_KEY=key))

    assert [a.status_code for a in answers] == [201] * WORKERS, [
        (a.status_code, a.content[:300]) for a in answers]
    obj = ServiceRequest.objects.get()
    assert str(obj.submission_key) == key
    assert {a.json()["reference"] for a in answers} == {obj.reference}
    assert obj.events.count() == 1


def test_same_submission_key_sent_concurrently_creates_one_request(citizen, lighting):
    data = {"description": "Lampadaire éteint", "q_poteau": "12",
            "latitude": str(INSIDE[0]), "longitude": str(INSIDE[1]),
            "submission_key": str(uuid.uuid4())}

    answers = race(citizen, lambda client: client.post(
        "/fr/requetes/nouvelle/eclairage/", data))

    obj = ServiceRequest.objects.get()
    assert [a.status_code for a in answers] == [302] * WORKERS, [
        (a.status_code, a.content[:300]) for a in answers]
    assert {a["Location"] for a in answers} == {
        f"/fr/requetes/{obj.reference}/confirmation/"}
    assert obj.events.count() == 1
