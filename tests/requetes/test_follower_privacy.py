"""A follower ("me too") sees a request's public face only (issue 12, items 1 and 2).

Real accounts (a requester, a follower who follows through the API or the web form),
real photos uploaded with the request and with a comment.  The follower must not get the
photos (full size or thumbnail, by id), nor any photo URL on the detail page or in the
API, nor the requester's own comments; the requester still sees all of them, and the
department's messages stay visible to everyone who follows.
"""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from modules.requetes import services
from modules.requetes.models import RequestPhoto

from .conftest import image_bytes

PRIVATE_COMMENT = "Appelez-moi au 450 555-0817"
STAFF_MESSAGE = "Une équipe passera jeudi"


def _photo(name="p.jpg"):
    return SimpleUploadedFile(name, image_bytes(), content_type="image/jpeg")


@pytest.fixture
def request_with_photos(make_request, citizen, agent_a):
    req = make_request(photos=[_photo()])
    services.add_comment(req, actor=citizen, message=PRIVATE_COMMENT, photos=[_photo("q.jpg")])
    services.add_comment(req, actor=agent_a, message=STAFF_MESSAGE)
    assert req.photos.count() == 2
    return req


@pytest.fixture(params=["api", "web"])
def follower_client(request, client, other_citizen, request_with_photos):
    """The other resident, following the request the way the probe did."""
    client.force_login(other_citizen)
    reference = request_with_photos.reference
    if request.param == "api":
        response = client.post(f"/api/v1/requests/{reference}/follow/")
        assert response.status_code == 200 and response.json() == {"following": True}
    else:
        response = client.post(reverse("requetes:follow", args=[reference]))
        assert response.status_code == 302
    assert request_with_photos.followers.filter(pk=other_citizen.pk).exists()
    return client


def _photo_urls(photo):
    return [reverse("requetes:photo", args=[photo.pk]),
            reverse("requetes:thumbnail", args=[photo.pk])]


def test_a_follower_cannot_download_the_photos(follower_client, request_with_photos):
    for photo in RequestPhoto.objects.filter(request=request_with_photos):
        for url in _photo_urls(photo):
            response = follower_client.get(url)
            assert response.status_code == 404, url


def test_a_follower_sees_no_photo_on_the_page_nor_in_the_api(follower_client,
                                                               request_with_photos):
    response = follower_client.get(reverse("requetes:detail",
                                           args=[request_with_photos.reference]))
    assert response.status_code == 200
    body = response.content.decode()
    for photo in request_with_photos.photos.all():
        for url in _photo_urls(photo):
            assert url not in body
    assert "/requetes/photo/" not in body
    response = follower_client.get(f"/api/v1/requests/{request_with_photos.reference}/")
    assert response.status_code == 200
    assert "/photo/" not in response.content.decode() and "photos" not in response.json()


def test_the_requester_keeps_their_photos(client, citizen, request_with_photos):
    client.force_login(citizen)
    for photo in request_with_photos.photos.all():
        for url in _photo_urls(photo):
            response = client.get(url)
            assert response.status_code == 200
            assert response["Content-Type"] == "image/jpeg"
            b"".join(response.streaming_content)
    body = client.get(reverse("requetes:detail",
                              args=[request_with_photos.reference])).content.decode()
    for photo in request_with_photos.photos.all():
        assert reverse("requetes:thumbnail", args=[photo.pk]) in body


def test_staff_of_the_department_and_administrators_see_the_photos(
        client, request_with_photos, agent_a, agent_b, administrator, intake_agent):
    photo = request_with_photos.photos.first()
    for user, expected in ((agent_a, 200), (administrator, 200), (intake_agent, 200),
                           (agent_b, 404)):
        client.force_login(user)
        for url in _photo_urls(photo):
            assert client.get(url).status_code == expected, (user.email, url)


def test_a_follower_who_later_files_nothing_still_gets_nothing(
        client, other_citizen, request_with_photos):
    """Following many requests is not a way to collect photos: the service answers the
    same for a follower as for a stranger."""
    from modules.requetes.services.permissions import can_view_photos

    photo = request_with_photos.photos.first()
    assert can_view_photos(other_citizen, request_with_photos) is False
    services.follow(request_with_photos, user=other_citizen)
    assert can_view_photos(other_citizen, request_with_photos) is False
    assert can_view_photos(request_with_photos.citizen, request_with_photos)
    client.force_login(other_citizen)
    assert client.get(reverse("requetes:photo", args=[photo.pk])).status_code == 404


# --- Item 2: the requester's own words are not the followers' ------------------------------

def test_a_follower_sees_no_requester_comment_on_the_page(follower_client,
                                                         request_with_photos):
    body = follower_client.get(reverse("requetes:detail",
                                       args=[request_with_photos.reference])).content.decode()
    assert "555-0817" not in body
    assert STAFF_MESSAGE in body


def test_a_follower_sees_no_requester_comment_in_the_api(follower_client,
                                                        request_with_photos):
    response = follower_client.get(f"/api/v1/requests/{request_with_photos.reference}/")
    assert response.status_code == 200
    assert "555-0817" not in response.content.decode()
    timeline = response.json()["timeline"]
    assert [e["kind"] for e in timeline] == ["created", "comment"]
    assert timeline[1]["by_staff"] is True
    assert timeline[1]["public_message"] == STAFF_MESSAGE


def test_the_requester_keeps_their_comments(client, citizen, request_with_photos):
    client.force_login(citizen)
    body = client.get(reverse("requetes:detail",
                              args=[request_with_photos.reference])).content.decode()
    assert PRIVATE_COMMENT in body and STAFF_MESSAGE in body
    timeline = client.get(f"/api/v1/requests/{request_with_photos.reference}/").json()[
        "timeline"]
    assert [e["public_message"] for e in timeline if e["kind"] == "comment"] == [
        PRIVATE_COMMENT, STAFF_MESSAGE]


def test_a_follower_sees_the_reopening_without_the_requesters_words(
        client, citizen, other_citizen, agent_a, request_with_photos):
    reference = request_with_photos.reference
    client.force_login(other_citizen)
    assert client.post(f"/api/v1/requests/{reference}/follow/").status_code == 200
    services.transition(request_with_photos, actor=agent_a, to_status="closed",
                        closure_reason="fixed")
    services.reopen(request_with_photos, actor=citizen, message="Rappelez-moi au 450 555-0999")
    body = client.get(reverse("requetes:detail", args=[reference])).content.decode()
    assert "555-0999" not in body
    timeline = client.get(f"/api/v1/requests/{reference}/").json()["timeline"]
    assert "reopened" in [e["kind"] for e in timeline]
    assert "555-0999" not in str(timeline)
    client.force_login(citizen)
    assert "555-0999" in client.get(reverse("requetes:detail", args=[reference])).content.decode()
