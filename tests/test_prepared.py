"""``hub.prepared``: a query compiled once answers every later call with that call's
values, exactly as the ORM would (models with their related objects, ``values()``,
``values_list()``, annotations, converters), on SQLite and PostgreSQL alike; and the
hot path's users of it (sessions, app tokens) still refuse what they refused before."""

from __future__ import annotations

import datetime

import pytest
from django.contrib.sessions.models import Session
from django.db import connection, models
from django.db.models import Count, Exists, OuterRef
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from oauth2_provider.models import get_access_token_model

from hub.models import Department, User
from hub.prepared import PreparedQuery, Slot
from hub.sessions import SessionStore
from tests.conftest import bearer, make_user

BY_EMAIL = PreparedQuery(lambda: User.objects.filter(
    email=Slot("email", models.CharField())).order_by("pk")[:1])
JOINED_SINCE = PreparedQuery(lambda: User.objects.filter(
    date_joined__gte=Slot("since", models.DateTimeField())).order_by("email")
    .values("email", "is_active", "date_joined"))
EMAILS = PreparedQuery(lambda: User.objects.filter(
    is_active=Slot("active", models.BooleanField())).order_by("email")
    .values_list("email", flat=True))
PAIRS = PreparedQuery(lambda: User.objects.filter(
    pk__gt=Slot("after", models.IntegerField())).order_by("pk").values_list("pk", "email"))
WITH_DEPARTMENTS = PreparedQuery(lambda: User.objects.filter(
    email__startswith=Slot("prefix", models.CharField()))
    .annotate(department_count=Count("departments"),
              in_works=Exists(Department.objects.filter(
                  slug=Slot("slug", models.CharField()), agents=OuterRef("pk"))))
    .order_by("email"))


@pytest.fixture
def people(db):
    works = Department.objects.create(name="Travaux publics", slug="travaux-publics")
    ann = make_user("ann@example.com", first_name="Ann")
    bob = make_user("bob@example.com", first_name="Bob", is_active=False)
    works.agents.add(ann)
    return ann, bob


@pytest.mark.django_db
def test_each_call_binds_its_own_values_to_the_same_compiled_statement(people):
    ann, bob = people
    assert BY_EMAIL.first(email="ann@example.com") == ann
    statement = BY_EMAIL.sql()
    # A value frozen into the first compilation would answer Ann again.
    found = BY_EMAIL.first(email="bob@example.com")
    assert found == bob and found.first_name == "Bob" and found.is_active is False
    assert BY_EMAIL.first(email="nobody@example.com") is None
    assert BY_EMAIL.sql() is statement  # compiled once
    assert "ann@example.com" not in statement


@pytest.mark.django_db
def test_results_are_what_the_queryset_gives(people):
    ann, bob = people
    since = timezone.now() - datetime.timedelta(days=1)
    expected = list(User.objects.filter(date_joined__gte=since).order_by("email")
                    .values("email", "is_active", "date_joined"))
    assert JOINED_SINCE.fetch(since=since) == expected
    # Converters applied: real datetimes and booleans on SQLite too.
    assert isinstance(expected[0]["date_joined"], datetime.datetime)
    assert JOINED_SINCE.fetch(since=timezone.now() + datetime.timedelta(days=1)) == []
    assert EMAILS.fetch(active=True) == ["ann@example.com"]
    assert EMAILS.fetch(active=False) == ["bob@example.com"]
    assert PAIRS.fetch(after=0) == [(ann.pk, ann.email), (bob.pk, bob.email)]
    assert PAIRS.fetch(after=ann.pk) == [(bob.pk, bob.email)]


@pytest.mark.django_db
def test_annotations_and_subqueries_take_their_slots(people):
    _ann, _bob = people
    rows = WITH_DEPARTMENTS.fetch(prefix="", slug="travaux-publics")
    assert [(u.email, u.department_count, u.in_works) for u in rows] == [
        ("ann@example.com", 1, True), ("bob@example.com", 0, False)]
    rows = WITH_DEPARTMENTS.fetch(prefix="b", slug="travaux-publics")
    assert [(u.email, u.in_works) for u in rows] == [("bob@example.com", False)]
    rows = WITH_DEPARTMENTS.fetch(prefix="a", slug="autre")
    assert [(u.email, u.in_works) for u in rows] == [("ann@example.com", False)]


@pytest.mark.django_db
def test_select_related_objects_come_from_the_same_row(people):
    ann, _bob = people
    key = bearer(ann)
    query = PreparedQuery(lambda: get_access_token_model().objects.select_related(
        "user", "application").filter(token=Slot("token", models.CharField()))[:1])
    with CaptureQueriesContext(connection) as captured:
        token = query.first(token=key)
        assert token.user.email == "ann@example.com"
        assert token.application.name == "Application mobile"
    assert len(captured) == 1  # counted like any query, and nothing loaded lazily


@pytest.mark.django_db
def test_missing_or_unknown_slots_are_refused_before_the_database(people):
    with CaptureQueriesContext(connection) as captured:
        with pytest.raises(TypeError, match="slots are"):
            BY_EMAIL.fetch()
        with pytest.raises(TypeError, match="slots are"):
            BY_EMAIL.fetch(email="ann@example.com", extra=1)
    assert len(captured) == 0


def test_what_one_statement_cannot_give_is_refused():
    with pytest.raises(TypeError, match="prefetch_related"):
        PreparedQuery(lambda: User.objects.prefetch_related("groups")).sql()
    with pytest.raises(TypeError, match="values_list"):
        PreparedQuery(lambda: User.objects.values_list("email", named=True)).sql()


# --- the sessions and tokens of the signed-in path ---------------------------------------

@pytest.mark.django_db
def test_a_session_is_read_until_it_expires_and_not_after(people):
    ann, _bob = people
    client = Client()
    client.force_login(ann)
    assert client.get("/api/v1/me/").json()["email"] == "ann@example.com"
    key = client.session.session_key
    assert SessionStore(key).load()["_auth_user_id"] == str(ann.pk)
    Session.objects.filter(session_key=key).update(
        expire_date=timezone.now() - datetime.timedelta(seconds=1))
    expired = SessionStore(key)
    assert expired.load() == {}
    assert expired.session_key is None  # forgotten, as Django's store does
    assert client.get("/api/v1/me/").status_code in (401, 403)


@pytest.mark.django_db
def test_a_session_key_that_does_not_exist_or_is_hostile_reads_as_empty(people):
    for key in ("x" * 32, "' OR '1'='1' --" + "a" * 20):
        store = SessionStore(key)
        assert store.load() == {}


@pytest.mark.django_db
def test_app_tokens_still_verify_and_are_refused_once_revoked_or_expired(people):
    ann, _bob = people
    key = bearer(ann)
    app = Client(HTTP_AUTHORIZATION=f"Bearer {key}")
    assert app.get("/api/v1/me/").json()["email"] == "ann@example.com"
    other = Client(HTTP_AUTHORIZATION=f"Bearer {bearer(make_user('cy@example.com'))}")
    assert other.get("/api/v1/me/").json()["email"] == "cy@example.com"
    get_access_token_model().objects.filter(token=key).update(
        expires=timezone.now() - datetime.timedelta(seconds=1))
    assert app.get("/api/v1/me/").status_code == 401
    get_access_token_model().objects.filter(token=key).delete()
    assert app.get("/api/v1/me/").status_code == 401
    assert Client(HTTP_AUTHORIZATION="Bearer not-a-token").get("/api/v1/me/").status_code == 401
