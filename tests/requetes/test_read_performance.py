"""The read paths measured by bench/requetes.py: what their speed-ups rely on stays
exact (datetimes written by the database, the XML writer), and their query counts do not
grow with the rows shown (Open311 requests, the department queue)."""

from __future__ import annotations

import datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone, translation
from lxml import etree

from modules.requetes.models import ServiceRequest
from modules.requetes.open311.rendering import (
    DateText,
    W3CText,
    end_of_day,
    to_xml,
    w3c,
    w3c_text,
)

from .conftest import INSIDE

BASE = "/open311/v2"
pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _language_back():
    """A request in English leaves English active in this thread: put back what the
    next tests expect."""
    with translation.override(translation.get_language()):
        yield


def _bulk(category, n, *, start, first=0, step=datetime.timedelta(minutes=7), **extra):
    ServiceRequest.objects.bulk_create([ServiceRequest(
        reference=f"2026-{800000 + first + i:06d}", category=category,
        description=f"Lampe {i}", description_public=bool(i % 2),
        latitude=INSIDE[0] + i / 10000, longitude=INSIDE[1], department=category.department,
        created_at=start - i * step, due_date=(start - i * step).date(), **extra)
        for i in range(n)])


# --- datetimes and dates written by the database ------------------------------------------

@pytest.mark.parametrize("moment", [
    datetime.datetime(2026, 3, 8, 6, 59, 59, 999999, tzinfo=datetime.UTC),  # DST change
    datetime.datetime(2026, 11, 28, 20, 15, 0, tzinfo=datetime.UTC),
    datetime.datetime(2025, 12, 31, 23, 59, 59, 500000, tzinfo=datetime.UTC),
    datetime.datetime(2026, 7, 1, 4, 0, 0, 1, tzinfo=datetime.UTC),
])
def test_w3c_text_from_the_database_is_what_python_writes(lighting, moment):
    ServiceRequest.objects.create(
        reference="2026-000001", category=lighting, description="x", latitude=INSIDE[0],
        longitude=INSIDE[1], department=lighting.department, created_at=moment,
        closed_at=moment - datetime.timedelta(microseconds=1),
        due_date=moment.date())
    row = ServiceRequest.objects.annotate(
        created=W3CText("created_at"), closed=W3CText("closed_at"),
        acknowledged=W3CText("acknowledged_at"), due=DateText("due_date"),
    ).values("created", "closed", "acknowledged", "due").get()
    assert row["created"] == w3c(moment)
    assert row["closed"] == w3c(moment - datetime.timedelta(microseconds=1))
    assert row["acknowledged"] is None  # NULL stays NULL
    assert row["due"] == moment.date().isoformat()
    assert end_of_day(row["due"]) == end_of_day(moment.date())
    # A value that is not text yet (another database) is still formatted.
    assert w3c_text(moment) == w3c(moment) and w3c_text(None) is None


def test_the_answer_has_the_stored_times(client, lighting):
    now = timezone.now().replace(microsecond=654321)
    _bulk(lighting, 3, start=now)
    closed_at = now + datetime.timedelta(seconds=61)
    ServiceRequest.objects.filter(reference="2026-800001").update(
        status="closed", closure_reason="fixed", closed_at=closed_at)
    rows = {row["service_request_id"]: row
            for row in client.get(f"{BASE}/requests.json").json()}
    stored = {obj.reference: obj for obj in ServiceRequest.objects.all()}
    for reference, row in rows.items():
        obj = stored[reference]
        assert row["requested_datetime"] == w3c(obj.created_at)
        expected_update = obj.closed_at if obj.status == "closed" else obj.updated_at
        assert row["updated_datetime"] == w3c(expected_update)
        assert row["expected_datetime"] == end_of_day(obj.due_date)
        assert row["description"] == (obj.description if obj.description_public else "")
    assert rows["2026-800001"]["updated_datetime"] == w3c(closed_at)


# --- the XML writer ---------------------------------------------------------------------

def test_xml_writer_escapes_drops_forbidden_characters_and_keeps_types():
    body = to_xml("service_requests", "request", [
        {"service_request_id": "2026-000001", "description": "<b>a & b</b>\x00\x1f ok",
         "lat": 45.2556, "count": 3, "flag": True, "other": False, "empty": "",
         "none": None, "extended_attributes": {"timeline": [{"type": "created"}],
                                               "channel": "web"}},
        {"service_request_id": "2026-000002", "description": "plain"},
    ])
    assert b"\x00" not in body and b"\x1f" not in body
    root = etree.fromstring(body)
    first, second = root.findall("request")
    assert first.findtext("description") == "<b>a & b</b> ok"
    assert first.findtext("lat") == "45.2556" and first.findtext("count") == "3"
    assert first.findtext("flag") == "true" and first.findtext("other") == "false"
    assert first.find("empty").text is None and first.find("none").text is None
    assert first.find("extended_attributes/timeline/event/type").text == "created"
    assert second.findtext("description") == "plain"
    assert to_xml("discovery", None, {"changeset": "x", "formats": ["a", "b"]}).endswith(
        b"<discovery><changeset>x</changeset><formats><format>a</format>"
        b"<format>b</format></formats></discovery>")


# --- query counts -------------------------------------------------------------------------

def _count(client, url, params=None):
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url, params or {})
    assert response.status_code == 200
    return len(queries)


@pytest.mark.parametrize("params", [{}, {"extensions": "true"},
                                    {"service_code": "eclairage,animaux",
                                     "status": "open"}])
@pytest.mark.parametrize("fmt", ["json", "xml"])
def test_open311_requests_query_count_does_not_grow_with_rows(client, lighting, animals,
                                                             citizen, fmt, params):
    url = f"{BASE}/requests.{fmt}"
    now = timezone.now()
    _bulk(lighting, 1, start=now)
    client.get(url, params)  # warm caches
    few = _count(client, url, params)
    _bulk(lighting, 40, start=now - datetime.timedelta(minutes=1), first=100)
    _bulk(animals, 40, start=now - datetime.timedelta(minutes=2), first=200)
    # A request handed to another department than its category's.
    ServiceRequest.objects.filter(reference="2026-800200").update(
        department=lighting.department)
    for obj in ServiceRequest.objects.all()[:30]:
        obj.followers.add(citizen)
    many = _count(client, url, params)
    assert many == few
    assert len(client.get(f"{BASE}/requests.json", params).json()) == 81


@pytest.mark.parametrize("fmt", ["json", "xml"])
def test_open311_list_and_detail_are_one_query(client, lighting, animals, fmt):
    """The default window (and one request) is a single query: the category's code and
    names and the department's name are joined, not read by queries of their own
    (anonymous: no session, no user to load)."""
    now = timezone.now()
    _bulk(lighting, 5, start=now)
    _bulk(animals, 5, start=now - datetime.timedelta(minutes=1), first=100)
    ServiceRequest.objects.filter(reference="2026-800100").update(
        department=lighting.department)  # handed to another department than its category's
    client.get(f"{BASE}/requests.{fmt}")  # warm caches
    assert _count(client, f"{BASE}/requests.{fmt}") == 1
    assert _count(client, f"{BASE}/requests/2026-800100.{fmt}") == 1
    rows = {row["service_request_id"]: row
            for row in client.get(f"{BASE}/requests.json").json()}
    assert rows["2026-800100"]["agency_responsible"] == lighting.department.name
    assert rows["2026-800100"]["service_code"] == "animaux"
    assert rows["2026-800101"]["agency_responsible"] == animals.department.name
    assert rows["2026-800101"]["service_name"] == "Animaux"


@pytest.mark.parametrize("params", [{}, {"status": "all", "sort": "due"},
                                    {"status": "all", "sort": "oldest", "p": "2"}])
def test_queue_query_count_does_not_grow_with_rows(client, agent_a, lighting, animals,
                                                   citizen, params):
    client.force_login(agent_a)
    url = "/admin/requetes/"
    now = timezone.now()
    _bulk(lighting, 1, start=now)
    client.get(url, params)  # warm caches
    few = _count(client, url, params)
    _bulk(lighting, 120, start=now - datetime.timedelta(minutes=1), first=100,
          assigned_to=agent_a, reopened=True)
    _bulk(animals, 20, start=now - datetime.timedelta(minutes=2), first=300)  # not theirs
    for obj in ServiceRequest.objects.filter(department=lighting.department)[:60]:
        obj.followers.add(citizen)
    many = _count(client, url, params)
    assert many == few


def test_queue_rows_show_what_the_models_say(client, agent_a, lighting, animals, citizen):
    now = timezone.now()
    _bulk(lighting, 3, start=now, first=0)
    _bulk(animals, 2, start=now, first=10)  # another department's: not shown
    today = timezone.localdate()
    late, assigned, closed = ServiceRequest.objects.filter(
        department=lighting.department).order_by("reference")
    ServiceRequest.objects.filter(pk=late.pk).update(
        due_date=today - datetime.timedelta(days=2), reopened=True)
    ServiceRequest.objects.filter(pk=assigned.pk).update(
        assigned_to=agent_a, due_date=today + datetime.timedelta(days=2))
    ServiceRequest.objects.filter(pk=closed.pk).update(
        status="closed", closure_reason="fixed", due_date=today - datetime.timedelta(days=9))
    late.followers.add(citizen, agent_a)
    client.force_login(agent_a)
    response = client.get("/admin/requetes/", {"status": "all"},
                          HTTP_ACCEPT_LANGUAGE="en")
    rows = {row["reference"]: row for row in response.context["page"]}
    assert set(rows) == {late.reference, assigned.reference, closed.reference}
    body = response.content.decode()
    for obj in ServiceRequest.objects.filter(pk__in=[late.pk, assigned.pk, closed.pk]):
        row = rows[obj.reference]
        assert row["url"] == f"/admin/requetes/{obj.pk}/"
        assert f'href="{row["url"]}"' in body
        with translation.override("en"):
            assert row["status"] == obj.get_status_display()
        assert row["category"] == "Street lighting"  # Category.name in English
        assert row["department"] == lighting.department.name
        assert row["created"] == timezone.localtime(obj.created_at).strftime("%Y-%m-%d %H:%M")
        assert row["due"] == obj.due_date.isoformat()
        assert row["overdue"] == obj.is_overdue
        assert row["assignee"] == (str(obj.assigned_to) if obj.assigned_to else "—")
        assert row["followers"] == obj.followers.count()
        assert row["reopened"] == obj.reopened
    assert rows[late.reference]["overdue"] and not rows[closed.reference]["overdue"]
    assert rows[late.reference]["followers"] == 2


def test_queue_counts_up_to_its_cap_and_pages_past_it(client, agent_a, lighting, animals):
    """10,050 requests of one department: the queue says "more than 10 000", keeps its
    "Next" link up to the cap's last page, and the page after it counts further and is
    exact again: no request becomes unreachable."""
    import re

    now = timezone.now()
    _bulk(lighting, 10_050, start=now, step=datetime.timedelta(seconds=30))
    _bulk(animals, 80, start=now, first=20_000)  # another department's: never counted
    client.force_login(agent_a)
    url, params = "/admin/requetes/", {"status": "all", "sort": "reference"}

    def text(response):  # French digit grouping is a (narrow) no-break space
        return re.sub(r"(?<=\d)[\s\u202f\xa0](?=\d{3})", "", response.content.decode())

    first = client.get(url, params)
    assert first.context["page"].paginator.capped
    assert "Plus de 10000 requêtes" in text(first)
    assert "Page 1 (plus de 10000 requêtes)" in text(first)
    assert "p=2" in text(first)
    at_cap = client.get(url, {**params, "p": 200})
    assert at_cap.context["page"].paginator.capped and at_cap.context["page"].has_next()
    assert "p=201" in text(at_cap)
    past = client.get(url, {**params, "p": 201})
    page = past.context["page"]
    assert not page.paginator.capped and not page.has_next()
    assert "10050 requêtes" in text(past) and "Page 201 de 201" in text(past)
    assert [row["reference"] for row in page] == [f"2026-{810000 + i:06d}"
                                                  for i in range(50)]


def test_queue_count_below_the_cap_is_exact(client, agent_a, lighting):
    _bulk(lighting, 7, start=timezone.now())
    client.force_login(agent_a)
    response = client.get("/admin/requetes/", {"status": "all"})
    assert not response.context["page"].paginator.capped
    assert response.context["page"].paginator.count == 7
    assert "7 requêtes" in response.content.decode()


@pytest.mark.parametrize("number", ["abc", "-1", "0", "99999999", "1e9", "２"])
def test_queue_page_number_that_is_not_a_page_is_a_page_anyway(client, agent_a, lighting,
                                                                number):
    _bulk(lighting, 3, start=timezone.now())
    client.force_login(agent_a)
    response = client.get("/admin/requetes/", {"status": "all", "p": number})
    assert response.status_code == 200
    assert response.context["page"].paginator.count == 3
