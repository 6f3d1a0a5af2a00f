"""Citizen pages of `requetes`: report form, nearby "me too", confirmation, Mes requêtes,
detail with timeline and contacts, comment, reopen; authorization and bad input."""

import uuid

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from modules.requetes import services
from modules.requetes.models import ServiceRequest

from .conftest import INSIDE, image_bytes


def report_url(code="eclairage"):
    return reverse("requetes:report", args=[code])


def post_data(**extra):
    data = {"latitude": str(INSIDE[0]), "longitude": str(INSIDE[1]), "address": "12 rue Victoria",
            "description": "Lampadaire éteint", "q_poteau": "42",
            "submission_key": str(uuid.uuid4())}
    data.update(extra)
    return data


def test_pages_need_sign_in(client, lighting):
    for url in (reverse("requetes:choose_category"), report_url(), reverse("requetes:mine")):
        response = client.get(url)
        assert response.status_code == 302 and "/compte/login/" in response["Location"]


def test_index_and_category_choice(citizen_client, lighting, animals):
    response = citizen_client.get(reverse("requetes:index"))
    assert "Éclairage de rue" in response.content.decode()
    response = citizen_client.get(reverse("requetes:choose_category"), {"q": "anim"})
    body = response.content.decode()
    assert "Animaux" in body and "Éclairage" not in body
    assert citizen_client.get(report_url("inconnue")).status_code == 404
    lighting.active = False
    lighting.save()
    assert citizen_client.get(report_url()).status_code == 404


def test_location_step_without_javascript_and_nearby(citizen_client, make_request, other_citizen):
    response = citizen_client.get(report_url())
    assert 'name="latitude"' in response.content.decode()
    response = citizen_client.get(report_url(), {"latitude": "45.50", "longitude": "-73.56"})
    assert "outside the city" in response.content.decode() or \
        "extérieur" in response.content.decode()
    existing = make_request(actor=other_citizen, description="<b>secret</b>")
    response = citizen_client.get(report_url(), {"latitude": str(INSIDE[0] + 0.0001),
                                                 "longitude": str(INSIDE[1])})
    body = response.content.decode()
    assert existing.reference in body
    assert "secret" not in body  # description not public
    assert 'name="description"' in body
    response = citizen_client.post(reverse("requetes:follow", args=[existing.reference]))
    assert response.status_code == 302
    existing.refresh_from_db()
    assert existing.followers.filter(email="citoyenne@example.com").exists()
    # A follower sees the public timeline, not the requester's description.
    body = citizen_client.get(reverse("requetes:detail", args=[existing.reference])).content
    assert b"secret" not in body


def test_report_success_confirmation_and_double_submission(citizen_client, lighting, citizen):
    data = post_data()
    data["photos"] = [SimpleUploadedFile("p.jpg", image_bytes(), content_type="image/jpeg")]
    response = citizen_client.post(report_url(), data)
    assert response.status_code == 302
    req = ServiceRequest.objects.get()
    assert response["Location"] == reverse("requetes:confirmation", args=[req.reference])
    body = citizen_client.get(response["Location"]).content.decode()
    assert req.reference in body and lighting.department.name in body
    assert req.photos.count() == 1 and req.answers == {"poteau": 42}
    # The same form sent again (double click, retry): still one request.
    data.pop("photos")
    again = citizen_client.post(report_url(), data)
    assert again.status_code == 302 and ServiceRequest.objects.count() == 1
    photo = req.photos.get()
    assert citizen_client.get(reverse("requetes:photo", args=[photo.pk]))["Content-Type"] == \
        "image/jpeg"


@pytest.mark.parametrize("extra,message", [
    ({"latitude": "45.50", "longitude": "-73.56"}, "territory"),
    ({"latitude": "abc"}, "Latitude"),
    ({"q_poteau": ""}, "required"),
    ({"q_poteau": "douze"}, "number"),
    ({"description": ""}, "description"),
])
def test_report_bad_input(citizen_client, lighting, extra, message):
    with __import__("django.utils.translation", fromlist=["override"]).override("en"):
        response = citizen_client.post(report_url().replace("/fr/", "/en/"), post_data(**extra))
    assert response.status_code == 400
    assert message.lower() in response.content.decode().lower()
    assert not ServiceRequest.objects.exists()


def test_report_bad_photos(citizen_client, lighting):
    six = [SimpleUploadedFile(f"{i}.jpg", image_bytes()) for i in range(6)]
    response = citizen_client.post(report_url(), {**post_data(), "photos": six})
    assert "5" in response.content.decode() and not ServiceRequest.objects.exists()
    fake = SimpleUploadedFile("faux.jpg", b"bonjour", content_type="image/jpeg")
    response = citizen_client.post(report_url(), {**post_data(), "photos": [fake]})
    assert "faux.jpg" in response.content.decode()
    assert not ServiceRequest.objects.exists()


def test_html_in_description_is_escaped(citizen_client, lighting):
    citizen_client.post(report_url(), post_data(description='<script>alert("x")</script>'))
    req = ServiceRequest.objects.get()
    assert req.description == '<script>alert("x")</script>'
    body = citizen_client.get(reverse("requetes:detail", args=[req.reference])).content.decode()
    assert '<script>alert("x")</script>' not in body
    assert "&lt;script&gt;" in body


def test_my_requests_detail_and_other_citizens(citizen_client, make_request, client,
                                               other_citizen, agent_a):
    req = make_request()
    services.transition(req, actor=agent_a, to_status="acknowledged",
                        public_message="Nous avons bien reçu", internal_note="NOTE-INTERNE")
    body = citizen_client.get(reverse("requetes:mine")).content.decode()
    assert req.reference in body
    body = citizen_client.get(reverse("requetes:detail", args=[req.reference])).content.decode()
    assert "Nous avons bien reçu" in body and "NOTE-INTERNE" not in body
    assert req.department.name in body
    client.force_login(other_citizen)
    for name in ("detail", "confirmation"):
        assert client.get(reverse(f"requetes:{name}", args=[req.reference])).status_code == 404
    for name in ("comment", "reopen"):
        assert client.post(reverse(f"requetes:{name}", args=[req.reference]),
                           {"message": "x"}).status_code == 404
    assert client.get(reverse("requetes:detail", args=["2026-999999"])).status_code == 404
    assert req.reference not in client.get(reverse("requetes:mine")).content.decode()


def test_comment_and_reopen(citizen_client, make_request, agent_a):
    req = make_request()
    url = reverse("requetes:comment", args=[req.reference])
    assert citizen_client.post(url, {"message": ""}).status_code == 400
    assert citizen_client.post(url, {"message": "Toujours là"}).status_code == 302
    assert req.events.filter(kind="comment").count() == 1
    reopen = reverse("requetes:reopen", args=[req.reference])
    assert citizen_client.post(reopen, {"message": "pas réglé"}).status_code == 400  # open
    services.transition(req, actor=agent_a, to_status="closed", closure_reason="fixed")
    body = citizen_client.get(reverse("requetes:detail", args=[req.reference])).content
    assert reopen.encode() in body
    assert citizen_client.post(reopen, {"message": "pas réglé"}).status_code == 302
    req.refresh_from_db()
    assert req.reopened and req.status == "new"


def test_photo_served_only_to_allowed_people(client, make_request, other_citizen, agent_a,
                                             agent_b, citizen):
    req = make_request(photos=[SimpleUploadedFile("p.png", image_bytes("PNG"))])
    photo = req.photos.get()
    url = reverse("requetes:thumbnail", args=[photo.pk])
    client.force_login(other_citizen)
    assert client.get(url).status_code == 404
    client.force_login(agent_b)
    assert client.get(url).status_code == 404
    client.force_login(agent_a)
    assert client.get(url).status_code == 200
    client.force_login(citizen)
    assert client.get(url).status_code == 200


def test_dashboard_panel_lists_latest(citizen_client, make_request):
    from modules.requetes.plugin import hub_dashboard_panels

    req = make_request()
    request = citizen_client.get(reverse("requetes:mine")).wsgi_request
    panel = hub_dashboard_panels(request)[0]
    assert req.reference in panel["body"]
