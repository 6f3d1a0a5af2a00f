"""The public map and list of open requests: no personal data, descriptions only when
allowed and not redacted, category filter, pagination, constant query count; staff
redaction by the handling department only."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from modules.requetes import demo as requetes_demo
from modules.requetes import maps, services
from modules.requetes.models import RequestEvent, ServiceRequest

URL = reverse("requetes:public_map")


def test_no_personal_data_with_the_demo(client, site):
    assert ServiceRequest.objects.filter(status__in=ServiceRequest.OPEN_STATUSES).exists()
    pages = [client.get(URL).content.decode(), client.get(URL, {"page": 2}).content.decode()]
    for body in pages:
        for name in requetes_demo.CALLERS:
            assert name not in body
        assert "450 555-" not in body
        assert "@example" not in body
    # The map data carries coordinates, references and categories only.
    response = client.get(URL)
    points = response.context["points"]
    assert points and set(points[0]) == {"lat", "lon", "label", "url"}


def test_descriptions_follow_consent_and_redaction(client, citizen, make_request, agent_a):
    make_request(description="Lampadaire public éteint", description_public=True)
    private = make_request(description="Devant chez Mme Gagnon, 12 rue X")
    hidden = make_request(description="Texte masqué par le service", description_public=True)
    services.set_description_redacted(hidden, actor=agent_a, redacted=True)
    closed = make_request(description="Déjà réglé, public", description_public=True)
    services.transition(closed, actor=agent_a, to_status="closed", closure_reason="fixed")

    body = client.get(URL).content.decode()
    assert "Lampadaire public éteint" in body
    assert "Mme Gagnon" not in body and "Texte masqué" not in body
    assert private.reference in body and hidden.reference in body  # listed, no text
    assert closed.reference not in body  # open requests only
    assert "Tremblay" not in body and citizen.email not in body


def test_category_filter_and_pagination(client, make_request, animals, citizen):
    make_request()
    other = services.create_request(actor=citizen, category=animals, description="Chien",
                                    latitude=45.2556, longitude=-74.132,
                                    answers={"etat": "nuisance"})
    rows = client.get(URL, {"categorie": "animaux"}).context["rows"]
    assert [r["reference"] for r in rows] == [other.reference]
    # An unknown category is ignored, not an error; a bad page number gives page 1.
    assert len(client.get(URL, {"categorie": "<script>"}).context["rows"]) == 2
    assert client.get(URL, {"page": "abc"}).status_code == 200
    assert client.get(URL, {"page": "999"}).status_code == 200


def test_query_count_does_not_grow_with_rows(client, make_request):
    make_request(description_public=True)
    client.get(URL)  # warm the per-process caches (site, settings, banners)
    with CaptureQueriesContext(connection) as few:
        assert client.get(URL).status_code == 200
    for _ in range(8):
        make_request(description_public=True)
    with CaptureQueriesContext(connection) as many:
        response = client.get(URL)
    assert len(response.context["rows"]) == 9
    assert len(many) == len(few), ([q["sql"] for q in few], [q["sql"] for q in many])


def test_tile_host_allowed_by_csp_only_on_map_pages(client, lighting, settings, citizen):
    csp = client.get(URL)["Content-Security-Policy"]
    img = next(d for d in csp.split(";") if d.strip().startswith("img-src"))
    assert "https://tile.openstreetmap.org" in img
    assert "tile.openstreetmap.org" not in client.get(reverse("requetes:index"))[
        "Content-Security-Policy"]
    settings.REQUETES_MAP_TILES_URL = "https://{s}.tuiles.example.org/{z}/{x}/{y}.png"
    assert maps.tile_source() == "https://*.tuiles.example.org"
    client.force_login(citizen)
    csp = client.get(reverse("requetes:report", args=["eclairage"]))["Content-Security-Policy"]
    assert "https://*.tuiles.example.org" in csp
    settings.REQUETES_MAP_TILES_URL = "/tuiles/{z}/{x}/{y}.png"
    assert maps.tile_source() is None


def test_leaflet_is_served_locally(client, lighting):
    body = client.get(URL).content.decode()
    assert "/static/leaflet/leaflet.js" in body and "/static/leaflet/leaflet.css" in body
    assert "unpkg" not in body and "cdn" not in body.lower()


# --- redaction -----------------------------------------------------------------------------

def detail_url(obj):
    return reverse("requetes_admin:detail", args=[obj.pk])


def test_redaction_by_the_department_only(client, make_request, agent_a, agent_b,
                                          administrator, citizen):
    obj = make_request(description="Le voisin M. Roy laisse ses ordures",
                       description_public=True)
    client.force_login(agent_b)
    assert client.post(detail_url(obj), {"action": "redact"}).status_code == 403
    obj.refresh_from_db()
    assert not obj.description_redacted
    client.force_login(citizen)
    assert client.post(detail_url(obj), {"action": "redact"}).status_code == 302
    obj.refresh_from_db()
    assert not obj.description_redacted

    client.force_login(agent_a)
    assert client.post(detail_url(obj), {"action": "redact"}).status_code == 302
    obj.refresh_from_db()
    assert obj.description_redacted
    note = obj.events.get(kind=RequestEvent.Kind.NOTE)
    assert note.actor == agent_a and note.by_staff and not note.is_public
    assert "M. Roy" not in client.get(URL).content.decode()
    # Redacting twice records nothing more; the administrator shows it again.
    client.post(detail_url(obj), {"action": "redact"})
    assert obj.events.filter(kind=RequestEvent.Kind.NOTE).count() == 1
    client.force_login(administrator)
    client.post(detail_url(obj), {"action": "unredact"})
    obj.refresh_from_db()
    assert not obj.description_redacted
    assert obj.events.filter(kind=RequestEvent.Kind.NOTE).count() == 2
    # The citizen's timeline never shows internal events (a fresh client: the admin's
    # flash messages stay in the other one's cookies).
    from django.test import Client

    client = Client()
    client.force_login(citizen)
    body = client.get(reverse("requetes:detail", args=[obj.reference])).content.decode()
    assert "hidden from the public" not in body.lower() and "masquée" not in body


def test_redaction_service_refuses_other_departments(make_request, agent_b):
    from django.core.exceptions import PermissionDenied

    obj = make_request(description_public=True)
    with pytest.raises(PermissionDenied):
        services.set_description_redacted(obj, actor=agent_b, redacted=True)
    assert not ServiceRequest.objects.get(pk=obj.pk).description_redacted


# --- the report form without JavaScript ------------------------------------------------------

def test_report_form_works_without_javascript(client, citizen, lighting):
    """The map is hidden until its script runs; the fields alone get a request through."""
    import uuid

    client.force_login(citizen)
    url = reverse("requetes:report", args=["eclairage"])
    body = client.get(url).content.decode()
    assert 'id="report-map"' in body and 'data-map-wrapper hidden' in body
    assert 'name="latitude"' in body and 'name="longitude"' in body
    step3 = client.get(url, {"latitude": "45.2556", "longitude": "-74.1320", "address": ""})
    assert step3.context["located"]
    response = client.post(url, {"latitude": "45.2556", "longitude": "-74.1320",
                                 "description": "Lampadaire éteint", "q_poteau": "7",
                                 "address": "", "submission_key": str(uuid.uuid4())})
    assert response.status_code == 302
    obj = ServiceRequest.objects.get(citizen=citizen)
    assert (obj.latitude, obj.longitude) == (45.2556, -74.132)


def test_nearby_list_hides_redacted_descriptions(client, citizen, other_citizen,
                                                 make_request, agent_a):
    shown = make_request(description="Lampadaire du parc éteint", description_public=True)
    hidden = make_request(description="Mme Gagnon se plaint encore", description_public=True)
    services.set_description_redacted(hidden, actor=agent_a, redacted=True)
    client.force_login(other_citizen)
    body = client.get(reverse("requetes:report", args=["eclairage"]),
                      {"latitude": "45.2556", "longitude": "-74.1320"}).content.decode()
    assert shown.reference in body and hidden.reference in body
    assert "Lampadaire du parc éteint" in body and "Mme Gagnon" not in body
