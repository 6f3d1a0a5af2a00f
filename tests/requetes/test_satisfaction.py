"""The one satisfaction question after closure: only the requester, only closed, only
once; bad answers change nothing; staff see the answer."""

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse

from modules.requetes import services
from modules.requetes.models import ServiceRequest


@pytest.fixture
def closed(make_request, agent_a):
    obj = make_request()
    services.transition(obj, actor=agent_a, to_status="closed", closure_reason="fixed")
    return ServiceRequest.objects.get(pk=obj.pk)


def url(obj):
    return reverse("requetes:satisfaction", args=[obj.reference])


def test_requester_answers_once(client, citizen, closed):
    client.force_login(citizen)
    page = client.get(reverse("requetes:detail", args=[closed.reference])).content.decode()
    assert 'name="satisfaction"' in page and "<legend>" in page
    assert page.count('type="radio"') == 5

    response = client.post(url(closed), {"satisfaction": "4", "satisfaction_comment": " Rapide "})
    assert response.status_code == 302
    closed.refresh_from_db()
    assert (closed.satisfaction, closed.satisfaction_comment) == (4, "Rapide")
    assert closed.satisfaction_at is not None
    first_at = closed.satisfaction_at

    # Asked once: the form is gone, a second answer changes nothing.
    page = client.get(reverse("requetes:detail", args=[closed.reference])).content.decode()
    assert 'name="satisfaction"' not in page and "4" in page
    response = client.post(url(closed), {"satisfaction": "1"}, follow=True)
    assert "You already answered" in response.content.decode() or \
        "déjà répondu" in response.content.decode()
    closed.refresh_from_db()
    assert (closed.satisfaction, closed.satisfaction_at) == (4, first_at)


@pytest.mark.parametrize("value", ["0", "6", "abc", "", "3.5", "-1"])
def test_bad_values_are_refused(client, citizen, closed, value):
    client.force_login(citizen)
    response = client.post(url(closed), {"satisfaction": value})
    assert response.status_code == 400
    closed.refresh_from_db()
    assert closed.satisfaction is None and closed.satisfaction_at is None


def test_comment_too_long_is_refused(client, citizen, closed):
    client.force_login(citizen)
    response = client.post(url(closed), {"satisfaction": "3", "satisfaction_comment": "x" * 1001})
    assert response.status_code == 400
    closed.refresh_from_db()
    assert closed.satisfaction is None


def test_only_the_requester(client, other_citizen, agent_a, closed):
    # A follower reaches the page but is not asked, and cannot answer.
    closed.followers.add(other_citizen)
    client.force_login(other_citizen)
    page = client.get(reverse("requetes:detail", args=[closed.reference])).content.decode()
    assert 'name="satisfaction"' not in page
    assert client.post(url(closed), {"satisfaction": "5"}).status_code == 404
    client.force_login(agent_a)
    assert client.post(url(closed), {"satisfaction": "5"}).status_code == 404
    client.logout()
    assert client.post(url(closed), {"satisfaction": "5"}).status_code == 302  # sign-in
    closed.refresh_from_db()
    assert closed.satisfaction is None


def test_not_asked_before_closure(client, citizen, make_request):
    obj = make_request()
    client.force_login(citizen)
    page = client.get(reverse("requetes:detail", args=[obj.reference])).content.decode()
    assert 'name="satisfaction"' not in page
    response = client.post(url(obj), {"satisfaction": "5"})
    assert response.status_code == 302
    obj.refresh_from_db()
    assert obj.satisfaction is None


def test_service_rules(citizen, other_citizen, closed, make_request):
    with pytest.raises(PermissionDenied):
        services.record_satisfaction(closed, actor=other_citizen, score=5)
    for bad in (True, 0, 6, "cinq", None, 2.5, [3]):
        with pytest.raises(ValidationError):
            services.record_satisfaction(closed, actor=citizen, score=bad)
    with pytest.raises(ValidationError):
        services.record_satisfaction(make_request(), actor=citizen, score=5)
    services.record_satisfaction(closed, actor=citizen, score=" 5 ")
    with pytest.raises(ValidationError):
        services.record_satisfaction(closed, actor=citizen, score=1)
    assert ServiceRequest.objects.get(pk=closed.pk).satisfaction == 5


def test_staff_see_the_answer(client, citizen, agent_a, closed):
    services.record_satisfaction(closed, actor=citizen, score=2, comment="Trop long")
    client.force_login(agent_a)
    body = client.get(reverse("requetes_admin:detail", args=[closed.pk])).content.decode()
    assert "Trop long" in body and ("2 out of 5" in body or "2 sur 5" in body)
