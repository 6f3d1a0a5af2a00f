"""Demo data (idempotent, realistic histories) and the hub hooks of `requetes`."""

import pytest
from django.utils import translation

from hub.plugins.manager import collect
from modules.requetes import demo, services
from modules.requetes.models import Category, RequestEvent, ServiceRequest


def test_demo_is_idempotent_and_realistic(site):
    assert Category.objects.count() == len(demo.CATEGORIES)
    history = ServiceRequest.objects.exclude(citizen__email=demo.DEMO_RESIDENT_EMAIL)
    assert history.count() == demo.COUNT
    assert ServiceRequest.objects.count() == demo.COUNT + 4  # the resident's four stages
    events = RequestEvent.objects.count()
    demo.load()
    assert ServiceRequest.objects.count() == demo.COUNT + 4
    assert RequestEvent.objects.count() == events
    lighting = Category.objects.get(service_code="eclairage")
    with translation.override("en"):
        assert lighting.name == "Street lighting"
    assert lighting.questions.filter(code="numero_poteau").exists()
    assert Category.objects.get(service_code="animaux").questions.get(code="etat").required
    closed = ServiceRequest.objects.filter(status="closed")
    assert closed.exists() and ServiceRequest.objects.exclude(status="closed").exists()
    assert set(closed.values_list("closure_reason", flat=True)) <= {
        "fixed", "not_city_responsibility", "wont_fix"}
    sample = closed.first()
    assert services.time_to_resolve(sample) is not None
    assert services.time_to_acknowledge(sample) is not None
    references = list(ServiceRequest.objects.values_list("reference", flat=True))
    assert len(set(references)) == len(references)
    for r in ServiceRequest.objects.all()[:50]:
        services.validate_location(r.latitude, r.longitude)


def test_demo_references_do_not_collide_with_new_requests(site, citizen):
    lighting = Category.objects.get(service_code="eclairage")
    created = services.create_request(actor=citizen, category=lighting, description="x",
                                      latitude=45.2556, longitude=-74.132)
    assert ServiceRequest.objects.filter(reference=created.reference).count() == 1


def test_hub_export_and_erase_hooks(make_request, citizen, client):
    req = make_request()
    exported = collect("hub_user_data_export", user=citizen)
    assert any(isinstance(item, dict) and item.get("requests")
               and item["requests"][0]["reference"] == req.reference for item in exported)
    client.force_login(citizen)
    response = client.get("/fr/compte/confidentialite/export.json")
    assert req.reference in response.content.decode()
    collect("hub_user_data_erase", user=citizen)
    req.refresh_from_db()
    assert req.citizen is None


@pytest.mark.django_db
def test_the_demo_resident_was_told_of_their_answered_request(
        client, django_capture_on_commit_callbacks, mailoutbox):
    """A fresh demo shows the whole journey without creating anything: the demo
    resident's pothole was acknowledged through the real services, so the resident was
    told through hub_notify (alertes' outbox, sent by the worker) and Mon Espace lists
    the notice; the street light is still new, for an agent to answer.  Loading the demo
    again tells nobody twice."""
    from django.core.management import call_command

    from hub.models import User

    with django_capture_on_commit_callbacks(execute=True):
        call_command("hub", "demo")
    with django_capture_on_commit_callbacks(execute=True):
        call_command("hub", "demo")
    resident = User.objects.get(email="resident@example.com")
    assert not resident.is_staff
    statuses = dict(ServiceRequest.objects.filter(citizen=resident)
                    .values_list("category__service_code", "status"))
    assert statuses == {"voirie": "acknowledged", "eclairage": "new",
                        "signalisation": "in_progress", "ordures": "closed"}
    told = sorted((m for m in mailoutbox if m.to == ["resident@example.com"]),
                  key=lambda m: m.subject)
    # One message per step the resident is told of, none doubled by the second load.
    assert [m.subject.replace("\xa0", " ") for m in told] == [
        "Votre requête 2026-000001 : prise en charge",
        "Votre requête 2026-000003 : confiée à une équipe",
        "Votre requête 2026-000003 : travaux en cours",
        "Votre requête 2026-000004 : fermée"]
    assert "Une équipe le réparera d'ici vendredi" in told[0].body
    client.force_login(resident)
    page = client.get("/fr/mon-espace/").content.decode()
    assert told[0].subject in page.replace("&nbsp;", "\xa0")
