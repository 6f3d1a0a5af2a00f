"""A body over the upload limit is a clear 4xx naming the limit, never a 500 (issue 12,
item 3).

Real bodies of 6 MB and 40 MB go through the test client (JSON and multipart, signed in
with a session and with an app token) and once through a real HTTP server, where the
probe saw the 500.  ``DATA_UPLOAD_MAX_MEMORY_SIZE`` is the limit (5 MB): Django raises
``RequestDataTooBig`` when the body (or the non-file fields of a multipart body) is
larger; too many fields raise ``TooManyFieldsSent``.  The API answers 413 in JSON, Open311
its own error list (JSON or XML), the report wizard its page with the error, and nothing
is saved.
"""

import http.client
import json
import re
import urllib.parse
import uuid

import pytest
from defusedxml import ElementTree as ET
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse

from modules.requetes import services
from modules.requetes.models import ServiceRequest
from tests.conftest import bearer
from tests.requetes.conftest import INSIDE, image_bytes

MB = 1024 * 1024
# "5 MB" in English, "5 Mo" (with a non-breaking space) in French, the default language.
LIMIT = re.compile(r"\b5\s(MB|Mo)\b")


@pytest.fixture
def lighting(departments):
    from modules.requetes.models import Category, Question

    category = Category.objects.create(
        service_code="eclairage", name_fr="Éclairage de rue", name_en="Street lighting",
        department=departments[0], service_level_days=5)
    Question.objects.create(category=category, code="poteau", label_fr="Numéro du poteau",
                            label_en="Pole number", datatype="number", required=True,
                            sort_order=0)
    return category


def _payload(size: int) -> dict:
    return {"category": "eclairage", "description": "x" * size, "latitude": INSIDE[0],
            "longitude": INSIDE[1], "answers": {"poteau": 3}}


@pytest.fixture
def token_client(citizen):
    token = bearer(citizen, "requetes:read requetes:write")
    return Client(HTTP_AUTHORIZATION=f"Bearer {token}")


@pytest.fixture(params=["session", "token"])
def api_client(request, client, citizen, token_client):
    if request.param == "session":
        client.force_login(citizen)
        return client
    return token_client


def _assert_too_big(response, status=413):
    assert response.status_code == status, response.content[:300]
    assert response["Content-Type"].startswith("application/json")
    detail = response.json()["detail"]
    assert LIMIT.search(detail), detail
    return detail


@pytest.mark.django_db
@pytest.mark.parametrize("size", [6 * MB, 40 * MB])
def test_api_json_body_over_the_limit_is_413(api_client, lighting, size):
    body = json.dumps(_payload(size))
    response = api_client.post("/api/v1/requests/", body, content_type="application/json")
    _assert_too_big(response)
    assert not ServiceRequest.objects.exists()


@pytest.mark.django_db
@pytest.mark.parametrize("size", [6 * MB, 40 * MB])
def test_api_multipart_fields_over_the_limit_are_413(api_client, lighting, size):
    data = {**_payload(size), "answers": '{"poteau": 3}'}
    response = api_client.post("/api/v1/requests/", data)  # multipart
    _assert_too_big(response)
    assert not ServiceRequest.objects.exists()


@pytest.mark.django_db
def test_api_multipart_photo_of_40_mb_is_a_400_naming_the_photo_limit(api_client, lighting):
    """Files are not counted in the memory limit (they stream to disk): a 40 MB photo
    reaches the photo rule, which names its own limit."""
    big = SimpleUploadedFile("grosse.jpg", image_bytes() + b"\0" * (40 * MB),
                             content_type="image/jpeg")
    data = {**_payload(10), "answers": '{"poteau": 3}', "photos": [big]}
    response = api_client.post("/api/v1/requests/", data)
    assert response.status_code == 400
    assert re.search(r"10\s(MB|Mo)", response.content.decode())
    assert not ServiceRequest.objects.exists()


@pytest.mark.django_db
def test_api_too_many_fields_is_a_400(api_client, lighting):
    data = {**_payload(10), "answers": '{"poteau": 3}'}
    data.update({f"f{i}": "1" for i in range(settings.DATA_UPLOAD_MAX_NUMBER_FIELDS + 5)})
    response = api_client.post("/api/v1/requests/", data)
    assert response.status_code == 400, response.content[:300]
    assert str(settings.DATA_UPLOAD_MAX_NUMBER_FIELDS) in response.json()["detail"]
    assert not ServiceRequest.objects.exists()


@pytest.mark.django_db
def test_every_api_route_answers_413_in_json(api_client, lighting, citizen):
    req = services.create_request(actor=citizen, category=lighting, description="là",
                                  latitude=INSIDE[0], longitude=INSIDE[1],
                                  answers={"poteau": 3})
    body = json.dumps({"message": "x" * (6 * MB)})
    for path in (f"/api/v1/requests/{req.reference}/comment/", "/api/v1/me/"):
        method = api_client.patch if path.endswith("/me/") else api_client.post
        _assert_too_big(method(path, body, content_type="application/json"))
    assert req.events.count() == 1


@pytest.fixture
def open311_key(administrator):
    _key, raw = services.issue_api_key(actor=administrator, name="Appli")
    return raw


@pytest.mark.django_db
@pytest.mark.parametrize("fmt", ["json", "xml"])
def test_open311_body_over_the_limit_is_its_error_list(client, lighting, open311_key, fmt):
    data = {"api_key": open311_key, "service_code": "eclairage", "lat": INSIDE[0],
            "long": INSIDE[1], "description": "x" * (6 * MB), "attribute[poteau]": "3"}
    response = client.post(f"/open311/v2/requests.{fmt}", urllib.parse.urlencode(data),
                           content_type="application/x-www-form-urlencoded")
    assert response.status_code == 413, response.content[:300]
    if fmt == "json":
        assert response["Content-Type"].startswith("application/json")
        [error] = response.json()
        assert error["code"] == 413 and LIMIT.search(error["description"])
    else:
        assert "xml" in response["Content-Type"]
        root = ET.fromstring(response.content)
        assert root.tag == "errors"
        assert root.find("error/code").text == "413"
        assert LIMIT.search(root.find("error/description").text)
    assert not ServiceRequest.objects.exists()


@pytest.mark.django_db
def test_open311_errors_raised_before_its_views_are_its_error_list(rf):
    """Django's own 400/404/500 answers on /open311/ (e.g. a body refused before the
    view) use the spec's list too, never ``{"detail"}``."""
    from django.core.exceptions import RequestDataTooBig

    from hub.views import errors

    response = errors.bad_request(rf.post("/open311/v2/requests.json"),
                                  RequestDataTooBig("too big"))
    assert response.status_code == 413
    [error] = json.loads(response.content)
    assert error["code"] == 413 and LIMIT.search(error["description"])
    response = errors.page_not_found(rf.get("/open311/v2/requests/1.xml"))
    root = ET.fromstring(response.content)
    assert response.status_code == 404 and root.find("error/code").text == "404"
    assert json.loads(errors.bad_request(rf.get("/api/v1/x/")).content)["detail"]


@pytest.mark.django_db
def test_the_wizard_answers_its_page_with_a_clear_error(client, citizen, lighting):
    """A real resident's mistake is a photo too large: the form says so and keeps the
    resident on the step.  A body whose *fields* pass the limit (no browser sends one)
    is the site's error page naming the limit, not a bare 400."""
    client.force_login(citizen)
    url = reverse("requetes:report", args=["eclairage"])
    big = SimpleUploadedFile("grosse.jpg", image_bytes() + b"\0" * (40 * MB),
                             content_type="image/jpeg")
    response = client.post(url, {"description": "Lampadaire", "latitude": INSIDE[0],
                                 "longitude": INSIDE[1], "q_poteau": "3", "photos": [big],
                                 "submission_key": str(uuid.uuid4())})
    assert response.status_code in (200, 400)
    body = response.content.decode()
    assert re.search(r"10\s(MB|Mo)", body)
    assert 'name="description"' in body
    response = client.post(url, {"description": "x" * (6 * MB), "latitude": INSIDE[0],
                                 "longitude": INSIDE[1], "q_poteau": "3",
                                 "submission_key": str(uuid.uuid4())})
    assert response.status_code == 413
    body = response.content.decode()
    assert "<html" in body and "5\u00a0Mo" in body
    assert not ServiceRequest.objects.exists()


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_over_real_http_the_api_answers_413(live_server, citizen, lighting):
    """Where the probe saw the 500: a real server, a real 6 MB body."""
    token = bearer(citizen, "requetes:read requetes:write")
    url = urllib.parse.urlsplit(live_server.url)
    body = json.dumps(_payload(6 * MB)).encode()
    connection = http.client.HTTPConnection(url.hostname, url.port, timeout=60)
    try:
        connection.request("POST", "/api/v1/requests/", body=body, headers={
            "Authorization": f"Bearer {token}", "Content-Type": "application/json"})
        response = connection.getresponse()
        payload = response.read()
    finally:
        connection.close()
    assert response.status == 413, payload[:300]
    assert response.getheader("Content-Type").startswith("application/json")
    assert LIMIT.search(json.loads(payload)["detail"])
    assert not ServiceRequest.objects.exists()
