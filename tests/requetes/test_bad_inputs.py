"""Bad inputs on the report wizard and the app API (issue 12, item 14): each is a clear
4xx naming the field, nothing is saved, never a 500.

HEIC (valid: accepted and re-encoded; corrupt: refused), truncated and corrupt JPEG;
coordinates ``inf``, ``1e400``, ``nan`` (refused) and ``45,2556`` (the French decimal
comma, accepted where coordinates are typed); wrong JSON types for the API's text fields;
malformed ``answers`` JSON in a multipart body.
"""

from __future__ import annotations

import io
import json
import uuid

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import translation
from PIL import Image

from modules.requetes.models import RequestPhoto, ServiceRequest

from .conftest import INSIDE, image_bytes

pytestmark = pytest.mark.django_db

API = "/api/v1/requests/"
WIZARD = "/en/requetes/nouvelle/eclairage/"


def heic_bytes() -> bytes:
    from pillow_heif import register_heif_opener

    register_heif_opener()
    out = io.BytesIO()
    Image.new("RGB", (64, 48), (10, 200, 30)).save(out, format="HEIF")
    return out.getvalue()


JPEG = image_bytes()
BAD_PHOTOS = {
    "truncated-jpeg": ("coupee.jpg", JPEG[: len(JPEG) // 2], "image/jpeg"),
    "corrupt-jpeg": ("abimee.jpg", b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + b"\x13\x37" * 400,
                     "image/jpeg"),
    "corrupt-heic": ("abimee.heic", b"\x00\x00\x00\x18ftypheic\x00\x00\x00\x00" + b"\x00" * 200,
                     "image/heic"),
    "truncated-heic": ("coupee.heic", None, "image/heic"),  # filled below
}


def bad_photo(kind):
    name, data, content_type = BAD_PHOTOS[kind]
    if data is None:
        whole = heic_bytes()
        data = whole[: len(whole) // 2]
    return SimpleUploadedFile(name, data, content_type=content_type)


def wizard_data(**extra):
    data = {"description": "Lampadaire éteint", "q_poteau": "12",
            "latitude": str(INSIDE[0]), "longitude": str(INSIDE[1]),
            "submission_key": str(uuid.uuid4())}
    data.update(extra)
    return data


def multipart(**extra):
    data = {"category": "eclairage", "description": "Lampadaire éteint",
            "latitude": str(INSIDE[0]), "longitude": str(INSIDE[1]),
            "answers": json.dumps({"poteau": "12"})}
    data.update(extra)
    return data


@pytest.fixture
def signed_in(client, citizen, lighting):
    client.force_login(citizen)
    client.raise_request_exception = False  # a 500 is an answer to assert on, not a crash
    return client


def assert_nothing_saved():
    assert not ServiceRequest.objects.exists()
    assert not RequestPhoto.objects.exists()


# --- photos ----------------------------------------------------------------------------

@pytest.mark.parametrize("kind", sorted(BAD_PHOTOS))
def test_wizard_refuses_corrupt_photos(signed_in, kind):
    upload = bad_photo(kind)
    with translation.override("en"):
        response = signed_in.post(WIZARD, wizard_data(photos=[upload]))
    assert response.status_code == 400
    body = response.content.decode()
    assert f"{upload.name} is not a photo" in body
    assert_nothing_saved()


@pytest.mark.parametrize("kind", sorted(BAD_PHOTOS))
def test_api_refuses_corrupt_photos(signed_in, kind):
    upload = bad_photo(kind)
    response = signed_in.post(API, multipart(photos=[upload]), HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 400, response.content
    assert list(response.json()) == ["photos"]
    assert upload.name in response.json()["photos"][0]
    assert_nothing_saved()


def test_a_real_heic_photo_is_accepted_and_stored_as_jpeg(signed_in):
    upload = SimpleUploadedFile("iphone.heic", heic_bytes(), content_type="image/heic")
    response = signed_in.post(API, multipart(photos=[upload]))
    assert response.status_code == 201, response.content
    photo = RequestPhoto.objects.get()
    with photo.image.open("rb") as handle:
        assert Image.open(handle).format == "JPEG"
    assert (photo.width, photo.height) == (64, 48)


# --- coordinates ---------------------------------------------------------------------

NOT_FINITE = ["inf", "-inf", "Infinity", "1e400", "nan", "NaN"]


@pytest.mark.parametrize("value", NOT_FINITE)
@pytest.mark.parametrize("field", ["latitude", "longitude"])
def test_wizard_refuses_coordinates_that_are_not_finite(signed_in, field, value):
    with translation.override("en"):
        response = signed_in.post(WIZARD, wizard_data(**{field: value}))
    assert response.status_code == 400
    assert f"{field.title()} must be a number between" in response.content.decode()
    assert_nothing_saved()


@pytest.mark.parametrize("value", NOT_FINITE)
def test_api_refuses_coordinates_that_are_not_finite(signed_in, value):
    response = signed_in.post(API, multipart(latitude=value))
    assert response.status_code == 400 and "latitude" in response.json()
    assert_nothing_saved()


@pytest.mark.parametrize("raw", [
    # JSON numbers beyond a double are read as infinity by Python's json module.
    '{"category": "eclairage", "description": "x", "latitude": 1e400, "longitude": -74.13}',
    '{"category": "eclairage", "description": "x", "latitude": -1e400, "longitude": -74.13}',
    # NaN and Infinity are not JSON: DRF's strict parser refuses the body.
    '{"category": "eclairage", "description": "x", "latitude": NaN, "longitude": -74.13}',
    '{"category": "eclairage", "description": "x", "latitude": Infinity, "longitude": 1}',
])
def test_api_json_refuses_numbers_that_are_not_finite(signed_in, raw):
    response = signed_in.post(API, raw, content_type="application/json")
    assert response.status_code == 400, response.content
    assert_nothing_saved()


def test_wizard_accepts_a_french_decimal_comma(signed_in, citizen):
    response = signed_in.post(WIZARD.replace("/en/", "/fr/"),
                              wizard_data(latitude="45,2556", longitude="-74,1320"))
    assert response.status_code == 302, response.content.decode()[:2000]
    obj = ServiceRequest.objects.get()
    assert (obj.latitude, obj.longitude, obj.citizen) == (45.2556, -74.132, citizen)


def test_location_step_accepts_a_french_decimal_comma(signed_in):
    response = signed_in.get(WIZARD.replace("/en/", "/fr/"),
                             {"latitude": "45,2556", "longitude": "-74,1320"})
    assert response.status_code == 200
    form = response.context["form"]
    assert form.initial["latitude"] == "45.2556"
    assert not response.context["location"].errors


@pytest.mark.parametrize("value", ["45,25,56", "1,000.5", "45;2556", "45.2556,"])
def test_wizard_refuses_other_commas(signed_in, value):
    response = signed_in.post(WIZARD, wizard_data(latitude=value))
    assert response.status_code == 400
    assert_nothing_saved()


# --- API types -------------------------------------------------------------------------

BASE = {"category": "eclairage", "description": "Lampadaire éteint", "latitude": INSIDE[0],
        "longitude": INSIDE[1], "answers": {"poteau": "12"}}


@pytest.mark.parametrize(("field", "value"), [
    ("description", ["Lampadaire éteint"]), ("description", 12), ("description", 1.5),
    ("description", {"fr": "x"}), ("description", True), ("description", None),
    ("category", ["eclairage"]), ("category", 1), ("category", {"code": "eclairage"}),
    ("category", True),
])
def test_api_refuses_wrong_json_types(signed_in, lighting, field, value):
    response = signed_in.post(API, {**BASE, field: value}, content_type="application/json",
                              HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 400, response.content
    assert list(response.json()) == [field]
    assert_nothing_saved()


def test_api_number_category_never_names_a_category_by_its_id(signed_in, lighting):
    """``"category": <id>`` was turned into the text "<id>", which names a category by
    its primary key: a client sending the wrong type filed a request somewhere."""
    response = signed_in.post(API, {**BASE, "category": lighting.pk},
                              content_type="application/json")
    assert response.status_code == 400
    assert_nothing_saved()


@pytest.mark.parametrize("answers", ["{bad json", '{"poteau": "12"', "[1, 2]", '"12"', "12",
                                     "null", "{'poteau': '12'}"])
def test_api_refuses_malformed_answers_in_multipart(signed_in, answers):
    response = signed_in.post(API, multipart(answers=answers))
    assert response.status_code == 400, response.content
    assert all(key.startswith("answers") for key in response.json()), response.json()
    assert_nothing_saved()


def test_api_comment_refuses_a_number(signed_in, citizen, make_request):
    obj = make_request()
    response = signed_in.post(f"{API}{obj.reference}/comment/", {"message": 5},
                              content_type="application/json")
    assert response.status_code == 400 and list(response.json()) == ["message"]
    assert obj.events.count() == 1
