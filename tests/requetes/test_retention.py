"""The retention schedule (Law 25): closed requests past their category's retention period
are anonymised by the periodic job and the management command; idempotent, resumable."""

import datetime
import io
import logging
import os

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.utils import timezone

from hub.scheduler import periodic_tasks
from modules.requetes import services
from modules.requetes.models import RequestEvent, RequestPhoto, ServiceRequest
from modules.requetes.services import retention
from modules.requetes.tasks import anonymise_expired

from .conftest import INSIDE, image_bytes

NOW = timezone.now()


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    return tmp_path


def closed(make_request, agent_a, other_citizen, *, months_ago, **extra):
    photo = SimpleUploadedFile("p.jpg", image_bytes(), content_type="image/jpeg")
    request = make_request(photos=[photo], caller_phone="450 555-0817",
                           address="1234 rue Victoria, app. 3", **extra)
    services.follow(request, user=other_citizen)
    services.add_comment(request, actor=request.citizen,
                         message="Appelez-moi au 450 555-0817")
    services.transition(request, actor=agent_a, to_status="closed", closure_reason="fixed",
                        public_message="Réparé.")
    ServiceRequest.objects.filter(pk=request.pk).update(
        closed_at=NOW - datetime.timedelta(days=31 * months_ago),
        satisfaction_comment="Merci, Camille", device_id="iphone-de-camille")
    return ServiceRequest.objects.get(pk=request.pk)


def snapshot():
    return (list(ServiceRequest.objects.order_by("pk").values()),
            list(RequestEvent.objects.order_by("pk").values()),
            list(RequestPhoto.objects.order_by("pk").values()),
            list(ServiceRequest.followers.through.objects.order_by("pk").values()))


@pytest.mark.django_db
def test_past_period_request_is_anonymised_and_a_second_run_changes_nothing(
        make_request, lighting, agent_a, other_citizen, media, caplog):
    lighting.location_precision = "approximate"
    lighting.retention_months = 12
    lighting.save()
    old = closed(make_request, agent_a, other_citizen, months_ago=13)
    recent = closed(make_request, agent_a, other_citizen, months_ago=6)
    still_open = make_request()
    files = [p.image.path for p in old.photos.all()] + [p.thumbnail.path
                                                         for p in old.photos.all()]
    assert files and all(os.path.exists(f) for f in files)

    with caplog.at_level(logging.INFO, logger="modules.requetes.retention"):
        report = retention.anonymise_expired(now=NOW)

    assert report.total == 1 and report.anonymised == {"eclairage": 1}
    assert report.photos_deleted == 1 and report.comments_cleared == 1
    assert "anonymised=1" in caplog.text
    old.refresh_from_db()
    assert old.anonymised_at == NOW
    assert (old.citizen_id, old.caller_name, old.caller_email, old.caller_phone) == (
        None, "", "", "")
    assert old.contact_channel == "none"
    assert (old.satisfaction_comment, old.device_id) == ("", "")
    assert old.followers.count() == 0
    assert not old.photos.exists()
    assert not any(os.path.exists(f) for f in files)
    assert (old.latitude, old.longitude) == (round(INSIDE[0], 3), round(INSIDE[1], 3))
    assert old.address == "rue Victoria"
    comments = old.events.filter(kind=RequestEvent.Kind.COMMENT)
    assert "450 555-0817" not in " ".join(e.public_message for e in comments)
    assert all(e.actor_id is None for e in old.events.filter(by_staff=False))
    assert old.events.filter(kind="note", internal_note__contains="12").exists()
    # Kept: the city's anonymous record, the staff's reply, the other requests.
    assert old.status == "closed" and old.description == "Lampadaire éteint"
    assert old.events.filter(public_message="Réparé.").exists()
    recent.refresh_from_db()
    assert recent.anonymised_at is None and recent.citizen_id is not None
    assert recent.photos.count() == 1
    assert recent.followers.filter(pk=other_citizen.pk).exists()
    still_open.refresh_from_db()
    assert still_open.citizen_id is not None and still_open.anonymised_at is None

    before = snapshot()
    again = retention.anonymise_expired(now=NOW + datetime.timedelta(hours=1))
    assert again.total == 0
    assert snapshot() == before


@pytest.mark.django_db
def test_retention_is_per_category_and_resumable_in_batches(
        make_request, lighting, animals, agent_a, other_citizen):
    lighting.retention_months = 36
    lighting.save()
    kept = [closed(make_request, agent_a, other_citizen, months_ago=24) for _ in range(2)]
    due = [closed(make_request, agent_a, other_citizen, months_ago=40) for _ in range(3)]

    dry = retention.anonymise_expired(now=NOW, dry_run=True)
    assert dry.total == 3
    assert not ServiceRequest.objects.filter(anonymised_at__isnull=False).exists()

    first = retention.anonymise_expired(now=NOW, batch_size=2, max_batches=1)
    assert first.total == 2  # stopped after one batch, as a crashed run would
    second = retention.anonymise_expired(now=NOW, batch_size=2)
    assert second.total == 1  # resumed: only the one left
    assert set(ServiceRequest.objects.filter(anonymised_at__isnull=False)
               .values_list("pk", flat=True)) == {r.pk for r in due}
    assert all(ServiceRequest.objects.get(pk=r.pk).citizen_id for r in kept)

    lighting.retention_months = 12  # the city shortens its schedule
    lighting.save()
    assert retention.anonymise_expired(now=NOW).total == 2


@pytest.mark.django_db
def test_command_and_periodic_job(make_request, agent_a, other_citizen):
    closed(make_request, agent_a, other_citizen, months_ago=30)
    out = io.StringIO()
    call_command("requetes_retention", "--dry-run", stdout=out)
    assert "eclairage: 1 due" in out.getvalue()
    assert ServiceRequest.objects.get().anonymised_at is None
    assert anonymise_expired.call() == 1
    out = io.StringIO()
    call_command("requetes_retention", stdout=out)
    assert "0 requests anonymised" in out.getvalue()
    jobs = {job.name: job for job in periodic_tasks()}
    assert jobs["requetes.retention"].task is anonymise_expired
    assert jobs["requetes.retention"].schedule == "15 3 * * *"


@pytest.mark.django_db
def test_retention_period_is_editable_in_the_admin(administrator, client, lighting):
    client.force_login(administrator)
    response = client.get(f"/admin/snippets/requetes/category/edit/{lighting.pk}/")
    assert response.status_code == 200
    assert b'name="retention_months"' in response.content
