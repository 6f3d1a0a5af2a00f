"""The app API gives a request's photos (issue 13, mobile developers): the requester's
request detail lists its photos with URLs the app downloads with the same bearer token
(``requetes:read``); staff who may see the request fetch them too; a follower never sees
them (not in the detail, 404 on the URL), nor does another resident.  And ``nearby``
takes ``latitude``/``longitude``, the names its errors and the request body use (its
former ``lat``/``long`` still work)."""

import datetime
import io
import secrets
from urllib.parse import urlsplit

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone
from oauth2_provider.models import get_access_token_model, get_application_model
from PIL import Image

from modules.requetes import services

from .conftest import INSIDE, image_bytes

pytestmark = pytest.mark.django_db
NEARBY = "/api/v1/requests/nearby/"


@pytest.fixture
def bearer(db):
    application = get_application_model().objects.create(
        name="Application mobile", client_type="public",
        authorization_grant_type="authorization-code",
        redirect_uris="ca.valleyfield.espacecitoyen:/callback", algorithm="RS256")

    def make(user, scope="openid requetes:read"):
        token = secrets.token_urlsafe(24)
        get_access_token_model().objects.create(
            user=user, application=application, token=token, scope=scope,
            expires=timezone.now() + datetime.timedelta(hours=1))
        return {"HTTP_AUTHORIZATION": f"Bearer {token}"}
    return make


@pytest.fixture
def with_photo(citizen, lighting):
    photo = SimpleUploadedFile("lampadaire.jpg", image_bytes(size=(640, 480)),
                               content_type="image/jpeg")
    return services.create_request(actor=citizen, category=lighting, description="Éteint",
                                   latitude=INSIDE[0], longitude=INSIDE[1],
                                   answers={"poteau": 3}, photos=[photo])


def _download(client, url, headers):
    response = client.get(urlsplit(url).path, **headers)
    body = b"".join(response.streaming_content) if response.streaming else response.content
    return response, body


def test_the_requester_gets_photo_urls_that_work_with_the_token(client, citizen, with_photo,
                                                                 bearer):
    headers = bearer(citizen)
    detail = client.get(f"/api/v1/requests/{with_photo.reference}/", **headers)
    assert detail.status_code == 200
    photos = detail.json()["photos"]
    photo = with_photo.photos.get()
    assert [p["id"] for p in photos] == [photo.pk]
    entry = photos[0]
    assert entry["url"] == (f"http://testserver/api/v1/requests/{with_photo.reference}"
                            f"/photos/{photo.pk}/")
    assert entry["thumbnail_url"] == entry["url"] + "thumbnail/"
    assert (entry["width"], entry["height"]) == (photo.width, photo.height)

    full, body = _download(client, entry["url"], headers)
    assert full.status_code == 200
    assert full["Content-Type"] == "image/jpeg"
    assert "private" in full["Cache-Control"]
    assert Image.open(io.BytesIO(body)).size == (photo.width, photo.height) == (640, 480)
    thumb, thumb_body = _download(client, entry["thumbnail_url"], headers)
    assert thumb.status_code == 200 and thumb["Content-Type"] == "image/jpeg"
    assert Image.open(io.BytesIO(thumb_body)).size[0] < 640  # the thumbnail, not the photo
    # An app asking for an image gets it; the list and the creation answer carry them too.
    assert _download(client, entry["url"], {**headers, "HTTP_ACCEPT": "image/*"})[0]\
        .status_code == 200
    listed = client.get("/api/v1/requests/", **headers).json()
    assert listed[0]["photos"] == photos


def test_the_photo_url_needs_a_token_with_the_read_scope(client, citizen, with_photo,
                                                          bearer):
    url = f"/api/v1/requests/{with_photo.reference}/photos/{with_photo.photos.get().pk}/"
    assert client.get(url).status_code == 401
    refused = client.get(url, **bearer(citizen, "openid profile"))
    assert refused.status_code == 403
    assert "insufficient_scope" in refused["WWW-Authenticate"]


def test_a_follower_never_sees_the_photos(client, other_citizen, with_photo, bearer):
    services.follow(with_photo, user=other_citizen)
    headers = bearer(other_citizen)
    detail = client.get(f"/api/v1/requests/{with_photo.reference}/", **headers)
    assert detail.status_code == 200  # the public face of the request ...
    assert "photos" not in detail.json()  # ... without its photos
    photo = with_photo.photos.get()
    for suffix in ("", "thumbnail/"):
        url = f"/api/v1/requests/{with_photo.reference}/photos/{photo.pk}/{suffix}"
        response = client.get(url, **headers, HTTP_ACCEPT="image/jpeg")
        assert response.status_code == 404
        assert response["Content-Type"].startswith("application/json")  # not a 406


def test_staff_of_the_department_may_fetch_others_may_not(client, agent_a, agent_b,
                                                          other_citizen, with_photo,
                                                          bearer):
    url = f"/api/v1/requests/{with_photo.reference}/photos/{with_photo.photos.get().pk}/"
    assert client.get(url, **bearer(agent_a)).status_code == 200
    assert client.get(url, **bearer(agent_b)).status_code == 404
    assert client.get(url, **bearer(other_citizen)).status_code == 404


def test_a_photo_id_of_another_request_is_404(client, citizen, with_photo, lighting,
                                              bearer):
    other = services.create_request(actor=citizen, category=lighting, description="Autre",
                                    latitude=INSIDE[0], longitude=INSIDE[1],
                                    answers={"poteau": 4})
    url = f"/api/v1/requests/{other.reference}/photos/{with_photo.photos.get().pk}/"
    assert client.get(url, **bearer(citizen)).status_code == 404


def test_nearby_takes_latitude_and_longitude_as_its_errors_name_them(client, citizen,
                                                                     with_photo, bearer):
    headers = bearer(citizen)
    near = client.get(NEARBY, {"category": "eclairage", "latitude": INSIDE[0],
                               "longitude": INSIDE[1]}, **headers)
    assert near.status_code == 200
    assert [row["reference"] for row in near.json()] == [with_photo.reference]
    # the former names still work
    old = client.get(NEARBY, {"category": "eclairage", "lat": INSIDE[0],
                              "long": INSIDE[1]}, **headers)
    assert old.json() == near.json()
    # an error names the parameter as it is documented
    bad = client.get(NEARBY, {"category": "eclairage", "latitude": "nord",
                              "longitude": INSIDE[1]}, **headers)
    assert bad.status_code == 400
    assert set(bad.json()) >= {"latitude"} and "lat" not in bad.json()
    missing = client.get(NEARBY, {"category": "eclairage"}, **headers)
    assert missing.status_code == 400
    assert {"latitude", "longitude"} <= set(missing.json())


def test_the_schema_documents_the_names_the_errors_use(client):
    import yaml

    spec = yaml.safe_load(client.get("/api/schema/").content)
    params = {p["name"]: p for p in spec["paths"][NEARBY]["get"]["parameters"]}
    assert {"category", "latitude", "longitude"} <= set(params)
    assert params["lat"].get("deprecated") and params["long"].get("deprecated")
    assert not params["latitude"].get("deprecated")
    body = spec["components"]["schemas"]["RequestCreateRequest"]["properties"]
    assert {"latitude", "longitude"} <= set(body)
    photo = spec["paths"]["/api/v1/requests/{reference}/photos/{photo_id}/"]["get"]
    assert "image/jpeg" in photo["responses"]["200"]["content"]
