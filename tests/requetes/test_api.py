"""App API of `requetes` (/api/v1/): categories, create with idempotency key, mine,
follow, nearby, comment; bad input answers 400 naming the field."""

import uuid

from django.core.files.uploadedfile import SimpleUploadedFile

from modules.requetes.models import ServiceRequest

from .conftest import INSIDE, image_bytes


def test_categories_are_public(client, lighting, animals):
    data = client.get("/api/v1/request-categories/").json()
    codes = {item["service_code"] for item in data}
    assert codes == {"eclairage", "animaux"}
    one = client.get("/api/v1/request-categories/animaux/").json()
    assert one["questions"][0]["choices"][0]["key"] == "mort"


def test_create_needs_sign_in(client, lighting):
    response = client.post("/api/v1/requests/", {}, content_type="application/json")
    assert response.status_code in (401, 403)


def test_create_multipart_idempotent_and_mine(client, citizen, other_citizen, lighting):
    client.force_login(citizen)
    key = str(uuid.uuid4())
    payload = {"category": "eclairage", "description": "Lampadaire", "latitude": INSIDE[0],
               "longitude": INSIDE[1], "answers": '{"poteau": "5"}', "idempotency_key": key,
               "photos": [SimpleUploadedFile("p.jpg", image_bytes(), content_type="image/jpeg")]}
    response = client.post("/api/v1/requests/", payload)
    assert response.status_code == 201, response.content
    reference = response.json()["reference"]
    payload["photos"] = [SimpleUploadedFile("p.jpg", image_bytes(), content_type="image/jpeg")]
    again = client.post("/api/v1/requests/", payload)
    assert again.json()["reference"] == reference
    assert ServiceRequest.objects.count() == 1
    assert ServiceRequest.objects.get().photos.count() == 1
    assert [r["reference"] for r in client.get("/api/v1/requests/").json()] == [reference]
    detail = client.get(f"/api/v1/requests/{reference}/").json()
    assert detail["timeline"][0]["kind"] == "created"
    assert client.post(f"/api/v1/requests/{reference}/comment/", {"message": "encore"},
                       content_type="application/json").status_code == 201
    client.force_login(other_citizen)
    assert client.get(f"/api/v1/requests/{reference}/").status_code == 404
    assert client.post(f"/api/v1/requests/{reference}/comment/", {"message": "x"},
                       content_type="application/json").status_code == 404
    near = client.get("/api/v1/requests/nearby/", {"category": "eclairage",
                                                     "lat": INSIDE[0], "long": INSIDE[1]})
    assert [r["reference"] for r in near.json()] == [reference]
    assert "Lampadaire" not in near.content.decode()
    assert client.post(f"/api/v1/requests/{reference}/follow/").json() == {"following": True}
    assert client.get(f"/api/v1/requests/{reference}/").status_code == 200
    assert client.delete(f"/api/v1/requests/{reference}/follow/").json() == {
        "following": False}


def test_api_bad_input(client, citizen, lighting):
    client.force_login(citizen)
    base = {"category": "eclairage", "description": "x", "latitude": INSIDE[0],
            "longitude": INSIDE[1], "answers": {"poteau": "1"}}
    for change, field in (({"latitude": 45.5, "longitude": -73.56}, "latitude"),
                          ({"category": "inconnue"}, "category"),
                          ({"answers": {"poteau": "douze"}}, "answers.poteau"),
                          ({"answers": {}}, "answers.poteau"),
                          ({"latitude": "abc"}, "latitude")):
        response = client.post("/api/v1/requests/", {**base, **change},
                               content_type="application/json")
        assert response.status_code == 400 and field in response.json(), response.content
    six = [SimpleUploadedFile(f"{i}.jpg", image_bytes()) for i in range(6)]
    response = client.post("/api/v1/requests/", {**base, "answers": '{"poteau": 1}',
                                                  "photos": six})
    assert response.status_code == 400 and "photos" in response.json()
    assert client.get("/api/v1/requests/nearby/", {"category": "x"}).status_code == 400
    assert client.get("/api/v1/requests/nearby/", {"category": "eclairage", "lat": "a",
                                                   "long": "b"}).status_code == 400
    assert not ServiceRequest.objects.exists()


def test_api_address_alone_is_placed_from_the_civic_address_register(client, citizen,
                                                                      lighting):
    """The app shares the web form's and Open311's placement (services.place)."""
    from hub.models import CivicAddress

    CivicAddress.objects.create(number=12, street="rue Nicholson", latitude=INSIDE[0],
                                longitude=INSIDE[1], municipality="Salaberry-de-Valleyfield")
    client.force_login(citizen)
    base = {"category": "eclairage", "description": "Lampadaire", "answers": {"poteau": "1"}}
    response = client.post("/api/v1/requests/", {**base, "address": "12, RUE NICHOLSON"},
                           content_type="application/json")
    assert response.status_code == 201, response.content
    created = ServiceRequest.objects.get()
    assert (created.latitude, created.longitude) == INSIDE
    assert created.address == CivicAddress.objects.get().label
    unknown = client.post("/api/v1/requests/", {**base, "address": "99 rue Nulle-Part"},
                          content_type="application/json")
    assert unknown.status_code == 400 and "address" in unknown.json()
    nothing = client.post("/api/v1/requests/", base, content_type="application/json")
    assert nothing.status_code == 400 and "latitude" in nothing.json()
    assert ServiceRequest.objects.count() == 1
