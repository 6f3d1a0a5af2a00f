"""Open311 behaviour beyond the shapes: API keys (issued in the admin, shown once,
revocable), bad input (a clear error, nothing created), retries, the GET filters and
their defaults, query counts, mySociety's updates, and the admin screens."""

from __future__ import annotations

import datetime
import hashlib
import json
import threading

import pytest
from django.conf import settings
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from hub import roles
from modules.requetes import services
from modules.requetes.models import Open311ApiKey, RequestEvent, ServiceRequest
from tests.conftest import make_user

from .conftest import INSIDE

BASE = "/open311/v2"


@pytest.fixture
def api_key(administrator):
    _key, raw = services.issue_api_key(actor=administrator, name="Appli",
                                      can_post_updates=True)
    return raw


def post(client, raw, fmt="json", **fields):
    data = {"api_key": raw, "service_code": "eclairage", "lat": INSIDE[0],
            "long": INSIDE[1], "description": "Lampadaire éteint",
            "attribute[poteau]": "12"}
    data.update(fields)
    # Error texts follow Accept-Language (French by default); the assertions read English.
    return client.post(f"{BASE}/requests.{fmt}", {k: v for k, v in data.items()
                                                   if v is not None},
                       HTTP_ACCEPT_LANGUAGE="en")


def error_texts(response) -> str:
    return " ".join(item["description"] for item in response.json())


# --- keys -------------------------------------------------------------------------------

def test_issued_key_is_stored_as_a_hash_and_checked(administrator, agent_a):
    key, raw = services.issue_api_key(actor=administrator, name="Partenaire")
    assert raw.startswith("o311_") and len(raw) > 40
    assert key.key_hash == hashlib.sha256(raw.encode()).hexdigest()
    assert raw not in str(Open311ApiKey.objects.values_list().get())
    assert key.prefix == raw[:12]
    assert services.check_api_key(raw) == key
    assert Open311ApiKey.objects.get().last_used_at is not None
    assert services.check_api_key(raw + "x") is None
    assert services.check_api_key("") is None
    with pytest.raises(services.PermissionDenied):
        services.issue_api_key(actor=agent_a, name="Moi")
    with pytest.raises(services.ValidationError):
        services.issue_api_key(actor=administrator, name="  ")
    services.deactivate_api_key(key, actor=administrator)
    assert services.check_api_key(raw) is None


@pytest.mark.parametrize("raw", [None, "", "o311_inconnue", "x" * 500])
def test_post_without_a_valid_key_is_403_and_creates_nothing(client, lighting, raw):
    for fmt in ("json", "xml"):
        response = post(client, raw, fmt=fmt)
        assert response.status_code == 403
    assert "api_key" in error_texts(post(client, raw))
    assert not ServiceRequest.objects.exists()


def test_revoked_key_is_refused(client, lighting, administrator):
    key, raw = services.issue_api_key(actor=administrator, name="Ancienne")
    services.deactivate_api_key(key, actor=administrator)
    assert post(client, raw).status_code == 403
    assert not ServiceRequest.objects.exists()


# --- POST requests: bad input -----------------------------------------------------------

BAD_POSTS = [
    ({"service_code": None}, 400, "service_code"),
    ({"service_code": ""}, 400, "service_code"),
    ({"service_code": "inconnu"}, 404, "service_code"),
    ({"service_code": "inactif"}, 404, "service_code"),
    ({"jurisdiction_id": "montreal.ca"}, 404, "jurisdiction_id"),
    ({"lat": "abc"}, 400, "lat"),
    ({"lat": "91", "long": "-74.1"}, 400, "lat"),
    ({"lat": "45.2", "long": "-200"}, 400, "long"),
    ({"lat": "nan"}, 400, "lat"),
    ({"lat": "45.5017", "long": "-73.5673"}, 400, "territory"),  # Montréal
    ({"lat": None, "long": None, "address_string": "100 rue Victoria"}, 400,
     "civic address register"),
    ({"lat": None, "long": None, "address_string": "<script>1 rue x</script>"}, 400,
     "civic address register"),
    ({"lat": None, "long": None}, 400, "lat and long"),
    ({"long": None}, 400, "lat and long"),
    ({"attribute[poteau]": None}, 400, "attribute[poteau]"),
    ({"attribute[poteau]": "douze"}, 400, "attribute[poteau]"),
    ({"attribute[inconnu]": "1"}, 400, "attribute[inconnu]"),
    ({"description": "x" * 4001}, 400, "4,000"),
    ({"description": ""}, 400, "description"),
    ({"email": "pas-un-courriel"}, 400, "email"),
    ({"media_url": "javascript:alert(1)"}, 400, "media_url"),
    ({"device_id": "d" * 121}, 400, "device_id"),
]


@pytest.mark.parametrize(("fields", "status", "named"), BAD_POSTS,
                         ids=[str(case[0])[:40] for case in BAD_POSTS])
def test_bad_post_is_a_clear_error_and_creates_nothing(client, lighting, api_key, fields,
                                                       status, named):
    from modules.requetes.models import Category

    Category.objects.create(service_code="inactif", name_fr="Inactif", active=False,
                            department=lighting.department)
    response = post(client, api_key, **fields)
    assert response.status_code == status, response.content
    text = error_texts(response)
    assert named.lower() in text.lower() or (named == "territory" and "territ" in text)
    assert all(item["code"] == status for item in response.json())
    xml = post(client, api_key, fmt="xml", **fields)
    assert xml.status_code == status and xml.content.startswith(b"<?xml")
    assert b"<errors><error><code>" in xml.content
    assert not ServiceRequest.objects.exists()
    assert not RequestEvent.objects.exists()


def test_choice_not_in_list_and_multivalue_attributes(client, animals, api_key):
    base = {"service_code": "animaux", "attribute[poteau]": None}
    response = post(client, api_key, **base, **{"attribute[etat]": "vivant"})
    assert response.status_code == 400 and "attribute[etat]" in error_texts(response)
    response = post(client, api_key, **base, **{"attribute[etat]": "mort",
                                                "attribute[especes][]": ["chien", "lion"]})
    assert response.status_code == 400 and "lion" in error_texts(response)
    assert not ServiceRequest.objects.exists()
    response = client.post(f"{BASE}/requests.json", {
        "api_key": api_key, "service_code": "animaux", "lat": INSIDE[0],
        "long": INSIDE[1], "description": "Chiens errants", "attribute[etat]": "nuisance",
        "attribute[especes][]": ["chien", "chat"], "attribute[vu_le]": "2026-11-20"})
    assert response.status_code == 200, response.content
    created = ServiceRequest.objects.get()
    assert created.answers["especes"] == ["chien", "chat"]
    assert created.answers["etat"] == "nuisance"


def test_created_request_keeps_the_open311_fields(client, lighting, api_key):
    response = post(client, api_key, email="r@example.org", first_name="Rita",
                    last_name="Leduc", phone="450 555-1111", device_id="ipad-1",
                    account_id="a-9", media_url="https://example.org/p.jpg",
                    address_string="12 rue Nicholson",
                    jurisdiction_id="salaberry-de-valleyfield.ca")
    assert response.status_code == 200, response.content
    body = response.json()
    assert body[0]["account_id"] == "a-9"
    created = ServiceRequest.objects.get(reference=body[0]["service_request_id"])
    assert (created.channel, created.caller_name, created.caller_email,
            created.caller_phone) == ("open311", "Rita Leduc", "r@example.org",
                                      "450 555-1111")
    assert (created.device_id, created.account_id, created.media_url) == (
        "ipad-1", "a-9", "https://example.org/p.jpg")
    assert created.api_key.name == "Appli" and created.address == "12 rue Nicholson"
    assert created.answers == {"poteau": 12} and created.description_public
    assert created.events.get().kind == "created"


def test_an_address_string_alone_is_placed_from_the_civic_address_register(
        client, lighting, api_key):
    from hub.models import CivicAddress

    CivicAddress.objects.create(number=12, street="rue Nicholson", latitude=INSIDE[0],
                                longitude=INSIDE[1], municipality="Salaberry-de-Valleyfield")
    CivicAddress.objects.create(number=5, street="rue Sherbrooke", latitude=45.50,
                                longitude=-73.56, municipality="Montréal")
    for fmt in ("json", "xml"):
        response = post(client, api_key, fmt=fmt, lat=None, long=None,
                        address_string="12, RUE NICHOLSON", device_id=f"d-{fmt}")
        assert response.status_code == 200, response.content
    created = ServiceRequest.objects.order_by("pk").first()
    assert (created.latitude, created.longitude) == pytest.approx(INSIDE)
    assert created.address == CivicAddress.objects.get(street="rue Nicholson").label
    # In the register but outside the territory: the territory rule still applies.
    response = post(client, api_key, lat=None, long=None,
                    address_string="5 rue Sherbrooke, Montréal")
    assert response.status_code == 400 and "territory" in error_texts(response)
    assert ServiceRequest.objects.count() == 2


def test_a_retry_with_the_same_device_returns_the_first_request(client, lighting, api_key):
    first = post(client, api_key, device_id="tel-1").json()[0]["service_request_id"]
    again = post(client, api_key, device_id="tel-1").json()[0]["service_request_id"]
    assert first == again and ServiceRequest.objects.count() == 1
    other = post(client, api_key, device_id="tel-1", description="Autre lampadaire")
    assert other.json()[0]["service_request_id"] != first
    anonymous_a = post(client, api_key).json()[0]["service_request_id"]
    anonymous_b = post(client, api_key).json()[0]["service_request_id"]
    assert anonymous_a != anonymous_b
    assert ServiceRequest.objects.count() == 4


@pytest.mark.skipif("sqlite" in settings.DATABASES["default"]["ENGINE"],
                    reason="threads need PostgreSQL (the SQLite test database is in memory)")
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_concurrent_retries_create_one_request(departments):
    from django.test import Client

    from modules.requetes.models import Category, Question
    admin = make_user("admin.c@example.com", is_staff=True, is_superuser=True,
                      groups=[roles.ADMINISTRATORS])
    category = Category.objects.create(service_code="eclairage", name_fr="Éclairage",
                                       department=departments[0])
    Question.objects.create(category=category, code="poteau", label_fr="Poteau",
                            datatype="number", sort_order=0)
    _key, raw = services.issue_api_key(actor=admin, name="Appli")
    answers, failures = [], []
    barrier = threading.Barrier(5)

    def worker():
        try:
            barrier.wait()
            response = post(Client(), raw, device_id="tel-concurrent")
            answers.append((response.status_code, response.json()))
        except Exception as error:
            failures.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=worker) for _ in range(5)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not failures
    assert {status for status, _ in answers} == {200}
    assert len({body[0]["service_request_id"] for _, body in answers}) == 1
    assert ServiceRequest.objects.count() == 1


# --- GET requests -----------------------------------------------------------------------

def _bulk(category, n, *, start, step=datetime.timedelta(minutes=1), **extra):
    rows = [ServiceRequest(
        reference=f"2026-{900000 + i:06d}", category=category, description=f"Lampe {i}",
        latitude=INSIDE[0], longitude=INSIDE[1], department=category.department,
        caller_name="Hélène Secrète", caller_email="helene@example.org",
        caller_phone="450 555-7777", created_at=start - i * step, **extra)
        for i in range(n)]
    ServiceRequest.objects.bulk_create(rows)


def test_defaults_last_90_days_at_most_1000_newest_first(client, lighting):
    now = timezone.now()
    _bulk(lighting, 1005, start=now - datetime.timedelta(minutes=1))
    ServiceRequest.objects.create(
        reference="2025-000001", category=lighting, description="Vieux",
        latitude=INSIDE[0], longitude=INSIDE[1], department=lighting.department,
        created_at=now - datetime.timedelta(days=91))
    with CaptureQueriesContext(connection) as queries:
        response = client.get(f"{BASE}/requests.json")
    data = response.json()
    assert len(data) == 1000
    assert data[0]["service_request_id"] == "2026-900000"
    assert "2025-000001" not in {row["service_request_id"] for row in data}
    main = [q["sql"] for q in queries.captured_queries if "requetes_servicerequest" in q["sql"]
            and "created_at" in q["sql"]]
    assert len(main) == 1
    assert "LIMIT 1000" in main[0] and "ORDER BY" in main[0]
    assert len(queries.captured_queries) <= 3  # the rows, categories+departments, no N+1
    body = response.content.decode()
    assert "Hélène" not in body and "helene@" not in body and "555-7777" not in body
    with CaptureQueriesContext(connection) as queries:
        client.get(f"{BASE}/requests.xml", {"extensions": "true"})
    assert len(queries.captured_queries) <= 6


def test_filters_and_empty_parameters(client, lighting, animals, citizen):
    now = timezone.now()
    _bulk(lighting, 3, start=now - datetime.timedelta(hours=1))
    ServiceRequest.objects.filter(reference="2026-900001").update(
        status="closed", closure_reason="fixed", closed_at=now)
    open_req = services.create_request(
        actor=citizen, category=animals, description="Chat", latitude=INSIDE[0],
        longitude=INSIDE[1], answers={"etat": "mort"})

    def ids(**params):
        response = client.get(f"{BASE}/requests.json", params)
        assert response.status_code == 200, response.content
        return {row["service_request_id"] for row in response.json()}

    everything = ids()
    assert everything == {"2026-900000", "2026-900001", "2026-900002", open_req.reference}
    assert ids(service_code="", status="", start_date="", end_date="",
               service_request_id="", jurisdiction_id="") == everything
    assert ids(status="closed") == {"2026-900001"}
    assert ids(status="open,closed") == everything
    assert ids(status="OPEN") == everything - {"2026-900001"}
    assert ids(service_code="animaux") == {open_req.reference}
    assert ids(service_code="animaux,eclairage") == everything
    assert ids(service_request_id="2026-900002, 2026-900000", status="closed",
               service_code="animaux") == {"2026-900000", "2026-900002"}
    start = (now - datetime.timedelta(minutes=30)).isoformat()
    assert ids(start_date=start) == {open_req.reference}
    assert ids(end_date=(now - datetime.timedelta(minutes=30)).strftime(
        "%Y-%m-%dT%H:%M:%SZ")) == everything - {open_req.reference}
    closed = client.get(f"{BASE}/requests.json", {"status": "closed"}).json()[0]
    assert closed["status"] == "closed" and closed["status_notes"]
    mine = client.get(f"{BASE}/requests/{open_req.reference}.json").json()[0]
    assert mine["description"] == ""  # the resident did not make it public


@pytest.mark.parametrize(("params", "named"), [
    ({"start_date": "hier"}, "start_date"),
    ({"end_date": "2026-13-45T00:00:00Z"}, "end_date"),
    ({"start_date": "2026-01-01T00:00:00Z", "end_date": "2026-06-01T00:00:00Z"}, "90"),
    ({"start_date": "2026-06-01T00:00:00Z", "end_date": "2026-01-01T00:00:00Z"}, "before"),
    ({"status": "pending"}, "status"),
    ({"service_code": "inconnu"}, "inconnu"),
    ({"service_request_id": ",".join(str(i) for i in range(1001))}, "1000"),
])
def test_bad_get_parameters_are_400(client, lighting, params, named):
    for fmt in ("json", "xml"):
        response = client.get(f"{BASE}/requests.{fmt}", params)
        assert response.status_code == 400, (fmt, response.content)
    assert named in error_texts(client.get(f"{BASE}/requests.json", params,
                                           HTTP_ACCEPT_LANGUAGE="en"))


def test_redacted_description_is_hidden(client, lighting, api_key):
    reference = post(client, api_key, description="M. Untel a cassé la lampe"
                     ).json()[0]["service_request_id"]
    assert client.get(f"{BASE}/requests/{reference}.json").json()[0]["description"]
    ServiceRequest.objects.filter(reference=reference).update(description_redacted=True)
    assert client.get(f"{BASE}/requests/{reference}.json").json()[0]["description"] == ""


def test_errors_are_french_by_default(client, lighting):
    response = client.get(f"{BASE}/requests.json", {"status": "pending"})
    assert response.status_code == 400
    assert "status" in error_texts(response) and "doit" in error_texts(response)


def test_names_follow_accept_language(client, lighting):
    french = client.get(f"{BASE}/services.json").json()[0]["service_name"]
    english = client.get(f"{BASE}/services.json", HTTP_ACCEPT_LANGUAGE="en").json()
    assert (french, english[0]["service_name"]) == ("Éclairage de rue", "Street lighting")


def test_wrong_method_and_unknown_paths(client, lighting):
    assert client.delete(f"{BASE}/requests.json").status_code == 405
    assert client.post(f"{BASE}/services.json").status_code == 405
    response = client.get(f"{BASE}/requests.csv")
    assert response.status_code == 404 and response.content.startswith(b"<?xml")
    assert client.get(f"{BASE}/rien.json").json()[0]["code"] == 404


# --- servicerequestupdates --------------------------------------------------------------

@pytest.fixture
def open311_request(client, lighting, api_key):
    reference = post(client, api_key).json()[0]["service_request_id"]
    return ServiceRequest.objects.get(reference=reference)


def update(client, raw, reference, **fields):
    data = {"api_key": raw, "service_request_id": reference, **fields}
    return client.post(f"{BASE}/servicerequestupdates.json",
                       {k: v for k, v in data.items() if v is not None},
                       HTTP_ACCEPT_LANGUAGE="en")


def test_back_office_updates_move_the_request(client, open311_request, api_key,
                                             administrator):
    ref = open311_request.reference
    response = update(client, api_key, ref, status="IN_PROGRESS",
                      description="Une équipe est en route.")
    assert response.status_code == 200, response.content
    open311_request.refresh_from_db()
    assert open311_request.status == "in_progress"
    event = RequestEvent.objects.get(pk=int(response.json()[0]["update_id"]))
    assert event.actor == administrator and "Appli" in event.internal_note
    assert update(client, api_key, ref, status="OPEN", description="Pièce commandée."
                  ).status_code == 200
    assert open311_request.events.filter(kind="comment").count() == 1
    response = update(client, api_key, ref, status="FIXED", description="Réparé.")
    assert response.status_code == 200
    open311_request.refresh_from_db()
    assert (open311_request.status, open311_request.closure_reason) == ("closed", "fixed")
    listed = client.get(f"{BASE}/servicerequestupdates.json").json()
    assert [u["description"] for u in listed if u["service_request_id"] == ref] == [
        "Une équipe est en route.", "Pièce commandée.", "Réparé."]
    assert listed[-1]["status"] == "closed"
    assert update(client, api_key, ref, status="OPEN", description="Encore?"
                  ).status_code == 400


@pytest.mark.parametrize(("fields", "status"), [
    ({"status": "ANNULE"}, 400),
    ({"status": "NOT_COUNCILS_RESPONSIBILITY"}, 400),  # says whose it is: required
    ({"status": "DUPLICATE", "description": "Doublon"}, 400),  # of which request?
    ({"status": "INVESTIGATING", "description": "x" * 4001}, 400),
    ({"service_request_id": "2020-999999", "status": "FIXED"}, 404),
    ({"service_request_id": None}, 400),
])
def test_bad_updates_change_nothing(client, open311_request, api_key, fields, status):
    before = open311_request.events.count()
    response = update(client, api_key, fields.pop("service_request_id",
                                                  open311_request.reference), **fields)
    assert response.status_code == status, response.content
    open311_request.refresh_from_db()
    assert open311_request.status == "new" and open311_request.events.count() == before


def test_updates_need_a_key_allowed_to_post_them(client, open311_request, administrator,
                                                 api_key):
    _key, reader = services.issue_api_key(actor=administrator, name="Lecture")
    ref = open311_request.reference
    assert update(client, reader, ref, status="FIXED").status_code == 403
    assert update(client, "faux", ref, status="FIXED").status_code == 403
    administrator.is_superuser = False
    administrator.save()
    administrator.groups.clear()
    response = update(client, api_key, ref, status="FIXED", description="Fait")
    assert response.status_code == 403 and "issued" in error_texts(response)
    open311_request.refresh_from_db()
    assert open311_request.status == "new"


def test_resident_comments_stay_out_of_public_updates(client, make_request, citizen):
    request = make_request()
    services.add_comment(request, actor=citizen, message="Mon numéro est 450 555-0000")
    listed = json.dumps(client.get(f"{BASE}/servicerequestupdates.json").json())
    assert "555-0000" not in listed
    extended = client.get(f"{BASE}/requests/{request.reference}.json",
                          {"extensions": "true"}).json()[0]["extended_attributes"]
    assert "555-0000" not in json.dumps(extended)
    assert extended["follower_count"] == 1 and extended["channel"] == "web"


# --- admin screens ----------------------------------------------------------------------

def test_administrator_issues_a_key_shown_once(client, administrator):
    client.force_login(administrator)
    assert client.get("/admin/open311-cles/").status_code == 200
    assert client.get("/admin/open311-cles/nouvelle/").status_code == 200
    response = client.post("/admin/open311-cles/nouvelle/", {
        "name": "Appli citoyenne", "contact_email": "dev@example.org",
        "can_post_updates": "on"})
    assert response.status_code == 200
    key = Open311ApiKey.objects.get()
    raw = response.context["raw_key"]
    assert raw.encode() in response.content
    assert key.key_hash == hashlib.sha256(raw.encode()).hexdigest()
    assert key.can_post_updates and key.created_by == administrator
    assert "no-store" in response["Cache-Control"] or "no-cache" in response["Cache-Control"]
    listing = client.get("/admin/open311-cles/")
    assert raw.encode() not in listing.content and key.prefix.encode() in listing.content
    assert client.get(f"/admin/open311-cles/{key.pk}/revoquer/").status_code == 405
    response = client.post(f"/admin/open311-cles/{key.pk}/revoquer/")
    assert response.status_code == 302
    key.refresh_from_db()
    assert not key.active
    empty = client.post("/admin/open311-cles/nouvelle/", {"name": ""})
    assert empty.status_code == 200 and Open311ApiKey.objects.count() == 1


def test_other_staff_cannot_issue_keys(client, agent_a, administrator):
    key, _raw = services.issue_api_key(actor=administrator, name="Appli")
    client.force_login(agent_a)
    for path in ("/admin/open311-cles/", "/admin/open311-cles/nouvelle/"):
        response = client.get(path)
        assert response.status_code == 302 and response["Location"] == "/admin/"
    client.post("/admin/open311-cles/nouvelle/", {"name": "Pirate"})
    client.post(f"/admin/open311-cles/{key.pk}/revoquer/")
    key.refresh_from_db()
    assert key.active and Open311ApiKey.objects.count() == 1
