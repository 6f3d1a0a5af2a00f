"""GeoReport v2 conformance: every endpoint of /open311/v2/ in both formats, checked
against the spec's shapes (root and item elements, field names, types), content types,
string ids, datetimes with an offset, and no personal data anywhere in what GET shows.

The demo data (300 requests with callers' names and phones) is loaded, and one request
is posted with a resident's name, email and phone before everything is read back."""

from __future__ import annotations

import datetime
import json
import re

import pytest
from django.utils import timezone
from lxml import etree

from modules.requetes import demo, services
from modules.requetes.models import ServiceRequest

from .conftest import INSIDE

BASE = "/open311/v2"
FORMATS = ("json", "xml")
CONTENT_TYPES = {"json": "application/json; charset=utf-8",
                 "xml": "text/xml; charset=utf-8"}
W3C = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:Z|[+-]\d\d:\d\d)$")

SERVICE_FIELDS = ["service_code", "service_name", "description", "metadata", "type",
                  "keywords", "group"]
ATTRIBUTE_FIELDS = ["variable", "code", "datatype", "required", "datatype_description",
                    "order", "description"]
REQUEST_FIELDS = ["service_request_id", "status", "status_notes", "service_name",
                  "service_code", "description", "agency_responsible", "service_notice",
                  "requested_datetime", "updated_datetime", "expected_datetime", "address",
                  "address_id", "zipcode", "lat", "long", "media_url"]
DATETIME_FIELDS = ("requested_datetime", "updated_datetime", "expected_datetime")
UPDATE_FIELDS = ["update_id", "service_request_id", "status", "updated_datetime",
                 "description", "media_url"]
DATATYPES = {"string", "number", "datetime", "text", "singlevaluelist", "multivaluelist"}

RESIDENT = {"first_name": "Gisèle", "last_name": "Quenneville",
            "email": "gisele.quenneville@example.org", "phone": "450 555-0199"}


@pytest.fixture
def world(site, administrator):
    """The demo data, a client key, and one request posted with personal data."""
    key, raw = services.issue_api_key(actor=administrator, name="Appli mobile",
                                      can_post_updates=True)
    return {"key": key, "raw": raw, "admin": administrator}


def get(client, path, fmt, **params):
    response = client.get(f"{BASE}/{path}.{fmt}", params)
    assert response["Content-Type"] == CONTENT_TYPES[fmt], (path, response["Content-Type"])
    return response


def parse(response, fmt):
    if fmt == "json":
        return json.loads(response.content)
    root = etree.fromstring(response.content)
    assert response.content.startswith(b'<?xml version="1.0" encoding="utf-8"?>')
    return root


def xml_record(element) -> dict:
    """A flat XML record as {tag: text} (nested elements kept as elements)."""
    return {child.tag: (child if len(child) else (child.text or "")) for child in element}


def check_errors(response, fmt, status):
    assert response.status_code == status
    data = parse(response, fmt)
    if fmt == "json":
        assert isinstance(data, list) and data
        for item in data:
            assert set(item) == {"code", "description"}
            assert item["code"] == status and isinstance(item["description"], str)
            assert item["description"]
    else:
        assert data.tag == "errors" and len(data)
        for error in data:
            assert error.tag == "error"
            assert [c.tag for c in error] == ["code", "description"]
            assert error.findtext("code") == str(status) and error.findtext("description")


def check_request_records(data, fmt) -> list[dict]:
    """Each record of a ``service_requests`` answer has the spec's fields and types."""
    if fmt == "json":
        assert isinstance(data, list)
        records = data
    else:
        assert data.tag == "service_requests"
        assert all(child.tag == "request" for child in data)
        records = [xml_record(child) for child in data]
    for record in records:
        fields = [f for f in record if f != "extended_attributes"]
        assert fields == REQUEST_FIELDS
        assert isinstance(record["service_request_id"], str)
        assert re.fullmatch(r"\d{4}-\d{6}", record["service_request_id"])
        assert record["status"] in ("open", "closed")
        assert isinstance(record["service_code"], str) and record["service_code"]
        for name in DATETIME_FIELDS:
            assert W3C.match(record[name]), (name, record[name])
        if fmt == "json":
            assert isinstance(record["lat"], float) and isinstance(record["long"], float)
            for name in REQUEST_FIELDS:
                if name not in ("lat", "long"):
                    assert isinstance(record[name], str), name
        else:
            float(record["lat"])
            float(record["long"])
    return records


def post(client, fmt, raw, **fields):
    data = {"api_key": raw, "jurisdiction_id": "salaberry-de-valleyfield.ca",
            "service_code": "animaux", "lat": INSIDE[0], "long": INSIDE[1],
            "address_string": "100 rue Victoria", "description": "Un chevreuil blessé",
            "attribute[etat]": "blesse", "attribute[espece]": "faune", **RESIDENT,
            "device_id": f"appareil-{fmt}", "account_id": "compte-42",
            "media_url": "https://example.org/photo.jpg"}
    data.update(fields)
    return client.post(f"{BASE}/requests.{fmt}", data)


@pytest.mark.parametrize("fmt", FORMATS)
def test_every_endpoint_in_both_formats(client, world, fmt):
    raw = world["raw"]
    bodies = []

    # discovery
    response = get(client, "discovery", fmt)
    assert response.status_code == 200
    data = parse(response, fmt)
    if fmt == "json":
        assert set(data) == {"changeset", "contact", "key_service", "endpoints"}
        endpoint = data["endpoints"][0]
        formats = endpoint["formats"]
    else:
        assert data.tag == "discovery"
        assert [c.tag for c in data] == ["changeset", "contact", "key_service", "endpoints"]
        endpoint = xml_record(data.find("endpoints/endpoint"))
        formats = [f.text for f in data.findall("endpoints/endpoint/formats/format")]
    assert endpoint["specification"] == "http://wiki.open311.org/GeoReport_v2"
    assert endpoint["url"] == "http://testserver/open311/v2/"
    assert endpoint["type"] == "production" and W3C.match(endpoint["changeset"])
    assert set(formats) == {"text/xml", "application/json"}

    # services
    response = get(client, "services", fmt)
    data = parse(response, fmt)
    services_ = data if fmt == "json" else [xml_record(s) for s in data]
    if fmt == "xml":
        assert data.tag == "services" and all(c.tag == "service" for c in data)
    assert {s["service_code"] for s in services_} == {c[0] for c in demo.CATEGORIES}
    for service in services_:
        assert list(service) == SERVICE_FIELDS
        assert service["type"] == "realtime"
        assert service["metadata"] in ((True, False) if fmt == "json" else ("true", "false"))
    metadata = {s["service_code"]: s["metadata"] for s in services_}
    assert metadata["animaux"] in (True, "true") and metadata["ordures"] in (False, "false")

    # service definition
    response = get(client, "services/animaux", fmt)
    data = parse(response, fmt)
    if fmt == "json":
        assert list(data) == ["service_code", "attributes"]
        attributes = data["attributes"]
        values = attributes[0]["values"]
    else:
        assert data.tag == "service_definition"
        assert [c.tag for c in data] == ["service_code", "attributes"]
        assert all(a.tag == "attribute" for a in data.find("attributes"))
        attributes = [xml_record(a) for a in data.find("attributes")]
        values = [xml_record(v) for v in data.find("attributes/attribute/values")]
        assert all(v.tag == "value" for v in data.find("attributes/attribute/values"))
    assert [a["code"] for a in attributes] == ["etat", "espece"]
    for attribute in attributes:
        assert [k for k in attribute if k != "values"] == ATTRIBUTE_FIELDS
        assert attribute["datatype"] in DATATYPES
        assert attribute["variable"] in (True, "true")
    assert attributes[0]["required"] in (True, "true")
    assert [int(a["order"]) for a in attributes] == [1, 2]
    assert {v["key"] for v in values} == {"mort", "blesse", "nuisance"}
    assert all(list(v) == ["key", "name"] for v in values)
    check_errors(get(client, "services/inconnu", fmt), fmt, 404)

    # POST a request (with a resident's personal data)
    response = post(client, fmt, raw)
    assert response.status_code == 200, response.content
    assert response["Content-Type"] == CONTENT_TYPES[fmt]
    data = parse(response, fmt)
    if fmt == "json":
        record = data[0]
        assert len(data) == 1
    else:
        assert data.tag == "service_requests" and [c.tag for c in data] == ["request"]
        record = xml_record(data[0])
    assert list(record) == ["service_request_id", "service_notice", "account_id"]
    assert record["account_id"] == "compte-42"
    reference = record["service_request_id"]
    assert isinstance(reference, str) and record["service_notice"]
    created = ServiceRequest.objects.get(reference=reference)
    assert created.channel == "open311" and created.caller_email == RESIDENT["email"]

    # GET requests (default window), one id, a comma list
    response = get(client, "requests", fmt)
    bodies.append(response.content)
    records = check_request_records(parse(response, fmt), fmt)
    assert records[0]["service_request_id"] == reference
    assert len(records) == ServiceRequest.objects.filter(
        created_at__gte=timezone.now() - datetime.timedelta(days=90)).count()
    mine = next(r for r in records if r["service_request_id"] == reference)
    assert mine["service_code"] == "animaux" and mine["status"] == "open"
    assert mine["agency_responsible"] == created.department.name
    assert mine["description"] == "Un chevreuil blessé"
    assert mine["media_url"] == "https://example.org/photo.jpg"
    expected = datetime.datetime.fromisoformat(mine["expected_datetime"])
    assert timezone.localtime(expected).date() == created.due_date
    requested = datetime.datetime.fromisoformat(mine["requested_datetime"])
    assert abs(requested - created.created_at) < datetime.timedelta(seconds=1)
    other = records[-1]["service_request_id"]
    response = get(client, "requests", fmt, service_request_id=f"{reference},{other}",
                   status="closed", start_date="")
    bodies.append(response.content)
    assert {r["service_request_id"] for r in check_request_records(
        parse(response, fmt), fmt)} == {reference, other}
    response = get(client, f"requests/{reference}", fmt)
    bodies.append(response.content)
    single = check_request_records(parse(response, fmt), fmt)
    assert [r["service_request_id"] for r in single] == [reference]
    check_errors(get(client, "requests/2020-999999", fmt), fmt, 404)

    # extensions
    response = get(client, f"requests/{reference}", fmt, extensions="true")
    bodies.append(response.content)
    data = parse(response, fmt)
    check_request_records(data, fmt)
    if fmt == "json":
        extended = data[0]["extended_attributes"]
        assert extended["channel"] == "open311" and extended["follower_count"] == 0
        assert extended["timeline"][0]["type"] == "created"
        assert W3C.match(extended["timeline"][0]["datetime"])
    else:
        extended = data.find("request/extended_attributes")
        assert extended.findtext("channel") == "open311"
        assert extended.findtext("follower_count") == "0"
        assert extended.find("timeline/event").findtext("type") == "created"

    # token
    token = str(created.submission_key)
    response = get(client, f"tokens/{token}", fmt)
    data = parse(response, fmt)
    record = data[0] if fmt == "json" else xml_record(data[0])
    if fmt == "xml":
        assert data.tag == "service_requests" and data[0].tag == "request"
    assert record == {"service_request_id": reference, "token": token}
    check_errors(get(client, "tokens/pas-un-jeton", fmt), fmt, 404)

    # servicerequestupdates (mySociety): POST by a back-office key, then GET
    response = client.post(f"{BASE}/servicerequestupdates.{fmt}", {
        "api_key": raw, "service_request_id": reference, "status": "INVESTIGATING",
        "description": "Un agent de la faune est avisé."})
    assert response.status_code == 200, response.content
    data = parse(response, fmt)
    update_id = data[0]["update_id"] if fmt == "json" else data.findtext(
        "request_update/update_id")
    if fmt == "xml":
        assert data.tag == "service_request_updates"
    assert isinstance(update_id, str) and update_id.isdigit()
    response = get(client, "servicerequestupdates", fmt)
    bodies.append(response.content)
    data = parse(response, fmt)
    if fmt == "json":
        updates = data
    else:
        assert data.tag == "service_request_updates"
        assert all(c.tag == "request_update" for c in data)
        updates = [xml_record(u) for u in data]
    assert updates
    for update in updates:
        assert list(update) == UPDATE_FIELDS
        assert update["status"] in ("open", "closed")
        assert W3C.match(update["updated_datetime"])
        assert isinstance(update["update_id"], str)
    ours = next(u for u in updates if u["update_id"] == update_id)
    assert ours["service_request_id"] == reference
    assert ours["description"] == "Un agent de la faune est avisé."

    # errors: bad key (403), unknown jurisdiction (404), malformed date (400)
    check_errors(post(client, fmt, "mauvaise-cle"), fmt, 403)
    check_errors(get(client, "services", fmt, jurisdiction_id="ailleurs.ca"), fmt, 404)
    check_errors(get(client, "requests", fmt, start_date="hier"), fmt, 400)
    check_errors(client.get(f"{BASE}/inconnu.{fmt}"), fmt, 404)

    # no personal data in anything GET showed, nor the posted resident's
    everything = b"".join(bodies).decode("utf-8")
    for value in RESIDENT.values():
        assert value not in everything
    for name in demo.CALLERS:
        assert name not in everything
    assert "450 555-" not in everything
    for caller_phone in ServiceRequest.objects.exclude(caller_phone="").values_list(
            "caller_phone", flat=True)[:50]:
        assert caller_phone not in everything


@pytest.mark.parametrize("fmt", FORMATS)
def test_html_in_description_is_text_in_both_formats(client, world, fmt):
    script = '<script>alert("x")</script> & <b>gras</b>'
    response = post(client, fmt, world["raw"], description=script, device_id="")
    assert response.status_code == 200
    reference = (json.loads(response.content)[0]["service_request_id"] if fmt == "json"
                 else etree.fromstring(response.content).findtext("request/service_request_id"))
    assert ServiceRequest.objects.get(reference=reference).description == script
    response = get(client, f"requests/{reference}", fmt)
    data = parse(response, fmt)
    if fmt == "json":
        assert data[0]["description"] == script
    else:
        assert b"<script>" not in response.content
        assert data.findtext("request/description") == script
