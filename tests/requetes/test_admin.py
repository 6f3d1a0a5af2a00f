"""Back office of `requetes`: queue filtered by department, actions, intake, snippet."""

import uuid

import pytest
from django.urls import reverse

from modules.requetes.models import ServiceRequest

from .conftest import INSIDE


@pytest.fixture
def two_requests(make_request, animals):
    light = make_request()
    animal = make_request(category=animals, answers={"etat": "mort"}, description="Chat")
    return light, animal


def test_queue_shows_only_the_agents_departments(client, two_requests, agent_a, agent_b,
                                                 administrator, intake_agent):
    light, animal = two_requests
    url = reverse("requetes_admin:queue")
    for user, visible, hidden in ((agent_a, light, animal), (agent_b, animal, light)):
        client.force_login(user)
        body = client.get(url).content.decode()
        assert visible.reference in body and hidden.reference not in body
    for user in (administrator, intake_agent):
        client.force_login(user)
        body = client.get(url).content.decode()
        assert light.reference in body and animal.reference in body
    client.force_login(administrator)
    body = client.get(url, {"category": "animaux", "q": "Chat", "sort": "due"}).content.decode()
    assert animal.reference in body and light.reference not in body
    assert client.get(url, {"status": "closed", "overdue": "1", "mine": "1",
                            "sort": "n'importe", "p": "zz"}).status_code == 200


def test_editor_and_citizen_are_kept_out(client, editor, citizen, two_requests):
    client.force_login(editor)
    assert client.get(reverse("requetes_admin:queue"))["Location"] == "/admin/"
    assert client.get(reverse("requetes_admin:detail", args=[two_requests[0].pk])
                      ).status_code == 302
    client.force_login(citizen)
    response = client.get(reverse("requetes_admin:queue"))
    assert response.status_code == 302 and "/admin/" not in response["Location"].split("?")[0]


def test_agent_acts_on_own_department_only(client, two_requests, agent_a, agent_b):
    light, _animal = two_requests
    url = reverse("requetes_admin:detail", args=[light.pk])
    client.force_login(agent_b)
    assert client.get(url).status_code == 403
    assert client.post(url, {"action": "transition", "to_status": "acknowledged"}
                       ).status_code == 403
    light.refresh_from_db()
    assert light.status == "new"
    client.force_login(agent_a)
    assert client.get(url).status_code == 200
    response = client.post(url, {"action": "transition", "to_status": "acknowledged",
                                 "public_message": "Reçu", "internal_note": "secret"})
    assert response.status_code == 302
    response = client.post(url, {"action": "transition", "to_status": "closed",
                                 "closure_reason": "wont_fix"})
    assert response.status_code == 400
    response = client.post(url, {"action": "transition", "to_status": "assigned",
                                 "assignee": agent_a.pk})
    assert response.status_code == 302
    assert client.post(url, {"action": "note", "internal_note": "appel"}).status_code == 302
    assert client.post(url, {"action": "reply", "public_message": "Bientôt"}).status_code == 302
    assert client.post(url, {"action": "transition", "to_status": "closed",
                             "closure_reason": "fixed"}).status_code == 302
    light.refresh_from_db()
    assert light.status == "closed" and light.assigned_to == agent_a
    assert "secret" in client.get(url).content.decode()


def test_intake_for_a_caller(client, intake_agent, agent_a, lighting, citizen):
    client.force_login(agent_a)
    assert client.get(reverse("requetes_admin:intake", args=["eclairage"]))["Location"] == "/admin/"
    client.force_login(intake_agent)
    choose = client.get(reverse("requetes_admin:intake_choose"))
    assert b"autofocus" in choose.content
    assert client.get(reverse("requetes_admin:intake_choose"), {"category": "eclairage"}
                      ).status_code == 302
    url = reverse("requetes_admin:intake", args=["eclairage"])
    assert b"autofocus" in client.get(url).content
    data = {"channel": "phone", "caller_name": "Jean Roy", "caller_phone": "450 555-0101",
            "contact_channel": "phone", "priority": "normal", "latitude": str(INSIDE[0]),
            "longitude": str(INSIDE[1]), "description": "Lampadaire", "q_poteau": "7",
            "submission_key": str(uuid.uuid4())}
    response = client.post(url, {**data, "caller_name": ""})
    assert response.status_code == 400 and not ServiceRequest.objects.exists()
    response = client.post(url, {**data, "resident": "personne@example.com"})
    assert response.status_code == 400 and not ServiceRequest.objects.exists()
    assert client.post(url, data).status_code == 302
    req = ServiceRequest.objects.get()
    assert req.channel == "phone" and req.caller_name == "Jean Roy" and req.citizen is None
    data["submission_key"] = str(uuid.uuid4())
    assert client.post(url, {**data, "resident": "CITOYENNE@example.com",
                             "channel": "counter"}).status_code == 302
    assert ServiceRequest.objects.filter(citizen=citizen, channel="counter").exists()


def test_category_snippet_for_administrators(client, administrator, lighting):
    client.force_login(administrator)
    response = client.get(reverse("wagtailsnippets_requetes_category:list"))
    assert response.status_code == 200 and "Éclairage" in response.content.decode()
    response = client.get(reverse("wagtailsnippets_requetes_category:edit", args=[lighting.pk]))
    assert response.status_code == 200
