"""The queue's bulk assign and bulk transition (each request through
services.transition: departments respected, history per request, refusals reported),
the queue's map, and the queue's query count."""

import pytest
from django.contrib.messages import get_messages
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from modules.requetes import services
from modules.requetes.models import RequestEvent, ServiceRequest

QUEUE = reverse("requetes_admin:queue")
MAP = reverse("requetes_admin:map")


@pytest.fixture
def mixed(make_request, animals, citizen):
    a1, a2 = make_request(), make_request()
    b1 = services.create_request(actor=citizen, category=animals, description="Chien",
                                 latitude=45.2556, longitude=-74.132,
                                 answers={"etat": "nuisance"})
    return a1, a2, b1


def texts(response):
    return [str(m) for m in get_messages(response.wsgi_request)]


def test_bulk_assign_respects_departments(client, agent_a, mixed, administrator):
    a1, a2, b1 = mixed
    client.force_login(administrator)  # sees all three, may ask for all three
    client.force_login(agent_a)
    response = client.post(QUEUE, {"ids": [a1.pk, a2.pk, b1.pk], "bulk_action": "assign",
                                   "assignee": agent_a.pk, "return": "status=open&x=<y>"})
    assert response.status_code == 302
    assert response["Location"].startswith(QUEUE + "?status=open")
    for obj in (a1, a2):
        obj.refresh_from_db()
        assert obj.status == "assigned" and obj.assigned_to == agent_a
        event = obj.events.get(kind=RequestEvent.Kind.STATUS)
        assert event.actor == agent_a and event.to_status == "assigned"
    b1.refresh_from_db()
    assert b1.status == "new" and b1.assigned_to is None
    assert not b1.events.filter(kind=RequestEvent.Kind.STATUS).exists()
    messages = texts(response)
    assert any("2" in m for m in messages)  # "2 requests updated"
    assert any("1" in m for m in messages)  # agent A cannot see B's: "not found"


def test_bulk_assign_to_an_agent_of_another_department_is_refused(client, administrator,
                                                                  agent_b, mixed):
    a1, _a2, b1 = mixed
    client.force_login(administrator)
    response = client.post(QUEUE, {"ids": [a1.pk, b1.pk], "bulk_action": "assign",
                                   "assignee": agent_b.pk})
    a1.refresh_from_db()
    b1.refresh_from_db()
    assert a1.status == "new" and b1.assigned_to == agent_b
    assert any(a1.reference in m for m in texts(response))


def test_bulk_transition_reports_refusals(client, administrator, agent_a, mixed):
    a1, a2, b1 = mixed
    services.transition(a2, actor=agent_a, to_status="closed", closure_reason="fixed")
    client.force_login(administrator)
    # Closing needs a reason: every one refused, nothing changed.
    response = client.post(QUEUE, {"ids": [a1.pk, b1.pk], "bulk_action": "transition",
                                   "to_status": "closed"})
    assert ServiceRequest.objects.filter(pk__in=[a1.pk, b1.pk], status="new").count() == 2
    assert sum(1 for m in texts(response) if "not changed" in m or "non modifiée" in m) == 2
    response = client.post(QUEUE, {"ids": [a1.pk, a2.pk, b1.pk], "bulk_action": "transition",
                                   "to_status": "closed", "closure_reason": "fixed",
                                   "public_message": "Réglé"})
    for obj in (a1, b1):
        obj.refresh_from_db()
        assert obj.status == "closed" and obj.closed_at is not None
        assert obj.events.get(to_status="closed").public_message == "Réglé"
    # a2 was already closed: refused (closed → closed is no move), reported.
    assert any(a2.reference in m for m in texts(response))
    assert a2.events.filter(to_status="closed").count() == 1


@pytest.mark.parametrize("data", [
    {"bulk_action": "assign"},  # no ids, no agent
    {"ids": ["abc"], "bulk_action": "transition", "to_status": "closed"},
    {"ids": ["1"], "bulk_action": "explode"},
    {"ids": ["1"], "bulk_action": "transition", "to_status": "new"},
    {"ids": ["1"], "bulk_action": "transition"},
])
def test_bad_bulk_input_changes_nothing(client, administrator, mixed, data):
    client.force_login(administrator)
    response = client.post(QUEUE, data)
    assert response.status_code == 302
    assert texts(response)
    assert ServiceRequest.objects.exclude(status="new").count() == 0


def test_non_staff_cannot_bulk(client, editor, citizen, mixed):
    for user in (editor, citizen):
        client.force_login(user)
        client.post(QUEUE, {"ids": [mixed[0].pk], "bulk_action": "transition",
                            "to_status": "acknowledged"})
    assert ServiceRequest.objects.exclude(status="new").count() == 0


def test_queue_query_count_does_not_grow(client, administrator, make_request):
    make_request()
    client.force_login(administrator)
    client.get(QUEUE)  # warm the session/permission caches
    with CaptureQueriesContext(connection) as few:
        assert client.get(QUEUE).status_code == 200
    for _ in range(8):
        make_request()
    with CaptureQueriesContext(connection) as many:
        response = client.get(QUEUE)
    assert len(response.context["page"]) == 9
    assert len(many) == len(few), [q["sql"] for q in many]
    assert 'form="bulk-form"' in response.content.decode()


def test_queue_map(client, agent_a, agent_b, editor, mixed):
    a1, _a2, b1 = mixed
    client.force_login(agent_a)
    response = client.get(MAP, {"status": "open"})
    assert response.status_code == 200
    labels = " ".join(p["label"] for p in response.context["points"])
    assert a1.reference in labels and b1.reference not in labels
    assert "tile.openstreetmap.org" in response["Content-Security-Policy"]
    assert "/static/leaflet/leaflet.js" in response.content.decode()
    client.force_login(agent_b)
    labels = " ".join(p["label"] for p in client.get(MAP).context["points"])
    assert b1.reference in labels and a1.reference not in labels
    client.force_login(editor)
    assert client.get(MAP)["Location"] == "/admin/"
