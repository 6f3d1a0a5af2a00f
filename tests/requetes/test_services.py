"""Domain rules of `requetes` (services.py): validation, references, workflow, roles,
history, events, reopening, following, nearby requests, personal data."""

import datetime
import threading
import uuid

import pytest
from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import override_settings
from django.utils import timezone, translation
from PIL import Image

from hub.notify import Recipient
from hub.plugins import hookimpl
from hub.plugins.manager import get_plugin_manager
from modules.requetes import public, services
from modules.requetes.hookspecs import RequestCreated, RequestStatusChanged
from modules.requetes.models import RequestEvent, ServiceRequest

from .conftest import INSIDE, image_bytes


class _Recorder:
    """A listener of the module's events, registered like another module's plugin."""

    def __init__(self):
        self.created, self.changed = [], []

    @hookimpl(optionalhook=True)
    def request_created(self, created):
        self.created.append(created)

    @hookimpl(optionalhook=True)
    def request_status_changed(self, change):
        self.changed.append(change)


@pytest.fixture
def recorder():
    pm = get_plugin_manager()
    rec = _Recorder()
    pm.register(rec, name="requetes-recorder")
    yield rec
    pm.unregister(name="requetes-recorder")


def test_create_sets_reference_due_date_department_event(make_request, citizen, lighting,
                                                         recorder,
                                                         django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        req = make_request()
    year = timezone.localdate().year
    assert req.reference == f"{year}-000001"
    assert make_request().reference == f"{year}-000002"
    assert req.department == lighting.department
    assert req.citizen == citizen and citizen in req.followers.all()
    assert req.answers == {"poteau": 12}
    assert req.due_date > timezone.localdate()
    event = req.events.get()
    assert event.kind == "created" and event.to_status == "new" and event.actor == citizen
    [created] = recorder.created
    assert isinstance(created, RequestCreated)
    assert created.reference == req.reference and created.category_code == "eclairage"
    assert (created.category_name_fr, created.category_name_en) == (
        "Éclairage de rue", "Street lighting")
    assert created.department == lighting.department.name and created.channel == "web"
    assert (created.status, created.status_label_fr, created.status_label_en) == (
        "new", "Nouvelle", "New")
    assert created.public_url == (settings.BASE_URL.rstrip("/")
                                  + f"/fr/requetes/{req.reference}/")
    assert created.requester == Recipient.for_user(citizen)
    assert created.created_at == req.created_at


def test_business_days_skip_weekends_and_holidays():
    friday = datetime.date(2026, 6, 19)
    # Mon 22, Tue 23, (Wed 24 = Fête nationale), Thu 25
    assert services.add_business_days(friday, 3) == datetime.date(2026, 6, 25)
    with override_settings(REQUETES_HOLIDAYS=["2026-06-25"]):
        assert services.add_business_days(friday, 3) == datetime.date(2026, 6, 26)


@pytest.mark.parametrize("lat,lon,field", [
    (91, -74.1, "latitude"), ("abc", -74.1, "latitude"), (45.25, 200, "longitude"),
    (float("nan"), -74.1, "latitude"), (None, None, "latitude"),
    (45.50, -73.56, "latitude"),  # Montréal: outside the territory
])
def test_bad_coordinates_refused(make_request, lat, lon, field):
    with pytest.raises(ValidationError) as error:
        make_request(latitude=lat, longitude=lon)
    assert field in error.value.message_dict
    assert not ServiceRequest.objects.exists()


def test_territory_is_configurable(make_request):
    square = {"type": "Polygon", "coordinates": [[[-74, 45], [-73, 45], [-73, 46], [-74, 46],
                                                  [-74, 45]]]}
    with override_settings(REQUETES_TERRITORY=square):
        assert make_request(latitude=45.5, longitude=-73.56)
        with pytest.raises(ValidationError):
            make_request()


def test_unknown_and_inactive_category(make_request, lighting):
    with pytest.raises(ValidationError) as error:
        make_request(category="inexistante")
    assert "category" in error.value.message_dict
    lighting.active = False
    lighting.save()
    with pytest.raises(ValidationError) as error:
        make_request(category="eclairage")
    assert "category" in error.value.message_dict
    assert not ServiceRequest.objects.exists()


@pytest.mark.parametrize("answers,key", [
    ({}, "answers.poteau"),
    ({"poteau": "douze"}, "answers.poteau"),
    ({"poteau": "inf"}, "answers.poteau"),
    ({"poteau": ["1", "2"]}, "answers.poteau"),
    ({"poteau": "3", "autre": "x"}, "answers.autre"),
])
def test_bad_answers(make_request, answers, key):
    with pytest.raises(ValidationError) as error:
        make_request(answers=answers)
    assert key in error.value.message_dict
    assert not ServiceRequest.objects.exists()


def test_list_and_date_answers(make_request, animals):
    with pytest.raises(ValidationError) as error:
        make_request(category=animals, answers={"etat": "vivant"})
    assert "answers.etat" in error.value.message_dict
    with pytest.raises(ValidationError) as error:
        make_request(category=animals, answers={"etat": "mort", "especes": ["chien", "loup"]})
    assert "answers.especes" in error.value.message_dict
    with pytest.raises(ValidationError) as error:
        make_request(category=animals, answers={"etat": "mort", "vu_le": "hier"})
    assert "answers.vu_le" in error.value.message_dict
    req = make_request(category=animals, answers={"etat": "blesse", "especes": ["chat"],
                                                   "vu_le": "2026-03-01"})
    assert req.answers == {"etat": "blesse", "especes": ["chat"], "vu_le": "2026-03-01T00:00:00"}
    assert ("État de l'animal", "Blessé") in req.answer_rows()


def test_description_required_and_bounded(make_request):
    for text in ("", "   ", "x" * 4001):
        with pytest.raises(ValidationError) as error:
            make_request(description=text)
        assert "description" in error.value.message_dict


def test_photos_are_reencoded_without_exif(make_request):
    upload = SimpleUploadedFile("p.jpg", image_bytes(), content_type="image/jpeg")
    png = SimpleUploadedFile("p.png", image_bytes("PNG"), content_type="image/png")
    req = make_request(photos=[upload, png])
    assert req.photos.count() == 2
    photo = req.photos.first()
    with photo.image.open("rb") as handle, Image.open(handle) as image:
        assert image.format == "JPEG"
        assert not image.getexif()
    assert b"TelephoneSecret" not in photo.image.open("rb").read()


def test_six_photos_refused(make_request):
    photos = [SimpleUploadedFile(f"{i}.jpg", image_bytes()) for i in range(6)]
    with pytest.raises(ValidationError) as error:
        make_request(photos=photos)
    assert "photos" in error.value.message_dict
    assert not ServiceRequest.objects.exists()


def test_big_text_and_bomb_photos_refused(make_request):
    big = SimpleUploadedFile("gros.jpg", b"\xff" * (10 * 1024 * 1024 + 1))
    text = SimpleUploadedFile("faux.jpg", b"ceci n'est pas une image", content_type="image/jpeg")
    bomb_image = Image.new("1", (20000, 20000))
    import io
    out = io.BytesIO()
    bomb_image.save(out, format="PNG")
    bomb = SimpleUploadedFile("bombe.png", out.getvalue(), content_type="image/png")
    assert len(out.getvalue()) < 1024 * 1024
    gif = io.BytesIO()
    Image.new("RGB", (10, 10)).save(gif, format="GIF")
    for upload, words in ((big, "10 MB"), (text, "not a photo"), (bomb, "pixels"),
                          (SimpleUploadedFile("a.gif", gif.getvalue()), "not a photo")):
        with translation.override("en"), pytest.raises(ValidationError) as error:
            make_request(photos=[upload])
        assert words in error.value.message_dict["photos"][0]
    assert not ServiceRequest.objects.exists()


def test_submission_key_makes_retry_idempotent(make_request, other_citizen):
    key = uuid.uuid4()
    first = make_request(submission_key=key)
    assert make_request(submission_key=str(key)) == first
    assert ServiceRequest.objects.count() == 1
    with pytest.raises(ValidationError):
        make_request(actor=other_citizen, submission_key=key)
    with pytest.raises(ValidationError):
        make_request(submission_key="pas-une-cle")


def test_anonymous_cannot_create_and_phone_needs_intake(make_request, citizen, agent_a,
                                                        intake_agent, lighting):
    from django.contrib.auth.models import AnonymousUser

    with pytest.raises(PermissionDenied):
        make_request(actor=AnonymousUser())
    with pytest.raises(PermissionDenied):
        make_request(actor=citizen, channel="phone", caller_name="X", caller_phone="1")
    with pytest.raises(PermissionDenied):
        make_request(actor=agent_a, channel="phone", caller_name="X", caller_phone="1")
    with pytest.raises(ValidationError) as error:
        make_request(actor=intake_agent, channel="phone")
    assert "caller_name" in error.value.message_dict
    req = make_request(actor=intake_agent, channel="phone", caller_name="Jean Roy",
                       caller_phone="450 555-0101", contact_channel="phone")
    assert req.citizen is None and req.caller_name == "Jean Roy"
    req = make_request(actor=intake_agent, channel="counter", citizen=citizen)
    assert req.citizen == citizen and req.caller_name == ""


def test_workflow_records_history_and_fires_events(make_request, agent_a, recorder,
                                                   django_capture_on_commit_callbacks):
    req = make_request()
    with django_capture_on_commit_callbacks(execute=True):
        services.transition(req, actor=agent_a, to_status="acknowledged",
                            public_message="Reçu", internal_note="équipe nuit")
        services.transition(req, actor=agent_a, to_status="assigned", assignee=agent_a)
        services.transition(req, actor=agent_a, to_status="in_progress")
        services.transition(req, actor=agent_a, to_status="closed", closure_reason="fixed",
                            public_message="Réparé")
    req.refresh_from_db()
    assert req.status == "closed" and req.closure_reason == "fixed" and req.closed_at
    assert req.assigned_to == agent_a
    assert [(c.old_status, c.new_status) for c in recorder.changed] == [
        ("new", "acknowledged"), ("acknowledged", "assigned"), ("assigned", "in_progress"),
        ("in_progress", "closed")]
    first, last = recorder.changed[0], recorder.changed[-1]
    assert all(isinstance(c, RequestStatusChanged) for c in recorder.changed)
    assert first.reference == req.reference and first.event_kind == "status"
    assert (first.new_status_label_fr, first.new_status_label_en) == (
        "Prise en charge", "Acknowledged")
    assert first.public_message == "Reçu" and first.closure_reason == ""
    assert "équipe nuit" not in repr(first)  # internal notes are never carried
    assert first.requester == Recipient.for_user(req.citizen) and first.followers == ()
    assert (last.closure_reason, last.closure_reason_label_fr,
            last.closure_reason_label_en) == ("fixed", "Réglée", "Fixed")
    assert last.public_message == "Réparé" and last.channel == "web"
    assert last.public_url.endswith(f"/fr/requetes/{req.reference}/")
    events = list(req.events.filter(kind="status"))
    assert events[0].internal_note == "équipe nuit" and events[0].actor == agent_a
    assert services.time_to_acknowledge(req) == events[0].created_at - req.created_at
    assert services.time_to_resolve(req) == events[-1].created_at - req.created_at
    with pytest.raises(ValidationError):  # closed: only reopening
        services.transition(req, actor=agent_a, to_status="in_progress")


def test_other_department_citizen_and_intake_cannot_transition(make_request, agent_b,
                                                               citizen, intake_agent,
                                                               administrator):
    req = make_request()
    for actor in (agent_b, citizen, intake_agent):
        with pytest.raises(PermissionDenied):
            services.transition(req, actor=actor, to_status="acknowledged")
        with pytest.raises(PermissionDenied):
            services.add_internal_note(req, actor=actor, note="x")
    assert not req.events.filter(kind="status").exists()
    services.transition(req, actor=administrator, to_status="acknowledged")


def test_closure_reasons_are_honest(make_request, agent_a, agent_b, other_citizen):
    req = make_request()
    with pytest.raises(ValidationError) as error:
        services.transition(req, actor=agent_a, to_status="closed")
    assert "closure_reason" in error.value.message_dict
    with pytest.raises(ValidationError) as error:
        services.transition(req, actor=agent_a, to_status="closed", closure_reason="wont_fix")
    assert "closure_note" in error.value.message_dict
    with pytest.raises(ValidationError) as error:
        services.transition(req, actor=agent_a, to_status="closed",
                            closure_reason="not_city_responsibility")
    assert "closure_note" in error.value.message_dict
    with pytest.raises(ValidationError) as error:
        services.transition(req, actor=agent_a, to_status="closed", closure_reason="duplicate",
                            duplicate_of=req.reference)
    assert "duplicate_of" in error.value.message_dict
    with pytest.raises(ValidationError) as error:
        services.transition(req, actor=agent_a, to_status="assigned", assignee=agent_b)
    assert "assignee" in error.value.message_dict
    req.refresh_from_db()
    assert req.status == "new"
    services.transition(req, actor=agent_a, to_status="closed",
                        closure_reason="not_city_responsibility",
                        closure_note="Hydro-Québec")
    req.refresh_from_db()
    assert req.closure_note == "Hydro-Québec"


def test_duplicate_moves_followers(make_request, agent_a, citizen, other_citizen):
    original = make_request()
    copy = make_request(actor=other_citizen)
    services.transition(copy, actor=agent_a, to_status="closed", closure_reason="duplicate",
                        duplicate_of=original.reference)
    copy.refresh_from_db()
    assert copy.duplicate_of == original
    assert set(original.followers.all()) == {citizen, other_citizen}
    assert original.events.filter(kind="merged").exists()


def test_reopen_within_14_days_by_requester_only(make_request, agent_a, other_citizen,
                                                 citizen):
    req = make_request()
    with pytest.raises(ValidationError):  # still open
        services.reopen(req, actor=citizen, message="toujours brisé")
    services.transition(req, actor=agent_a, to_status="closed", closure_reason="fixed")
    req.refresh_from_db()
    with pytest.raises(PermissionDenied):
        services.reopen(req, actor=other_citizen, message="non")
    with pytest.raises(ValidationError):
        services.reopen(req, actor=citizen, message="  ")
    services.reopen(req, actor=citizen, message="Toujours éteint")
    req.refresh_from_db()
    assert req.status == "new" and req.reopened and req.closure_reason == ""
    services.transition(req, actor=agent_a, to_status="closed", closure_reason="fixed")
    ServiceRequest.objects.filter(pk=req.pk).update(
        closed_at=timezone.now() - datetime.timedelta(days=15))
    req.refresh_from_db()
    with pytest.raises(ValidationError):
        services.reopen(req, actor=citizen, message="encore")


def test_follow_nearby_and_comment(make_request, citizen, other_citizen, agent_a, agent_b,
                                   lighting, animals):
    req = make_request()
    far = make_request(latitude=INSIDE[0] + 0.001)  # ~110 m north
    near = public.nearby_open(lighting, INSIDE[0] + 0.0002, INSIDE[1])  # ~22 m
    assert [row["reference"] for row in near] == [req.reference]
    assert public.nearby_open(animals, *INSIDE) == []
    assert public.nearby_open(lighting, "x", None) == []
    assert far.reference not in {row["reference"]
                                 for row in public.nearby_open(lighting, *INSIDE)}
    assert services.follow(req, user=other_citizen) is True
    assert services.follow(req, user=other_citizen) is False
    assert req.followers.count() == 2
    services.add_comment(req, actor=citizen, message="Photo ajoutée",
                         photos=[SimpleUploadedFile("p.jpg", image_bytes())])
    services.add_comment(req, actor=agent_a, message="On s'en occupe")
    for actor in (other_citizen, agent_b):
        with pytest.raises(PermissionDenied):
            services.add_comment(req, actor=actor, message="x")
    with pytest.raises(ValidationError):
        services.add_comment(req, actor=citizen, message="")
    assert req.photos.count() == 1
    kinds = [e.kind for e in services.public_events(req, requester=True)]
    assert kinds == ["created", "comment", "comment"]
    # Anyone else (a follower) gets the public steps: the city's message, not the
    # requester's own comment.
    assert [(e.kind, e.by_staff) for e in services.public_events(req)] == [
        ("created", False), ("comment", True)]


def test_export_and_erase(make_request, citizen, other_citizen):
    req = make_request()
    services.follow(req, user=other_citizen)
    data = services.export_user_data(citizen)
    assert data["requests"][0]["reference"] == req.reference
    assert services.export_user_data(other_citizen)["followed"] == [req.reference]
    services.erase_user_data(citizen)
    req.refresh_from_db()
    assert req.citizen is None and req.description  # the city keeps the request
    assert citizen not in req.followers.all()
    assert not RequestEvent.objects.filter(actor=citizen).exists()


@pytest.mark.skipif("sqlite" in settings.DATABASES["default"]["ENGINE"],
                    reason="threads need PostgreSQL (the SQLite test database is in memory)")
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_references_unique_under_concurrency(departments):
    from django.db import connection

    from modules.requetes.models import Category
    from tests.conftest import make_user
    category = Category.objects.create(service_code="routes", name_fr="Routes",
                                       department=departments[0])
    users = [make_user(f"c{i}@example.com") for i in range(6)]
    errors, refs = [], []

    def worker(user):
        try:
            refs.append(services.create_request(
                actor=user, category=category, description="Nid-de-poule",
                latitude=INSIDE[0], longitude=INSIDE[1]).reference)
        except Exception as error:
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=worker, args=(u,)) for u in users]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    assert len(set(refs)) == 6
