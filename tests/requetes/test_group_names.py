"""Role checks read a user's group names once per user object (one request), and a
change of that user's groups is seen at once."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Group
from django.db import connection
from django.test.utils import CaptureQueriesContext

from hub import roles
from modules.requetes import services
from tests.conftest import make_user

pytestmark = pytest.mark.django_db


def test_role_checks_cost_one_query_per_user_object(agent_a):
    with CaptureQueriesContext(connection) as queries:
        for _ in range(5):
            assert services.is_department_agent(agent_a)
            assert not services.is_administrator(agent_a)
            assert not services.is_intake_agent(agent_a)
        assert services.is_staff_for_requests(agent_a)
    assert len(queries) == 1


def test_a_change_of_groups_is_seen_at_once(departments):
    user = make_user("bientot.admin@example.com", is_staff=True,
                     groups=[roles.DEPARTMENT_AGENTS])
    assert not services.is_administrator(user)
    user.groups.add(Group.objects.get(name=roles.ADMINISTRATORS))
    assert services.is_administrator(user)
    user.groups.remove(Group.objects.get(name=roles.DEPARTMENT_AGENTS))
    assert not services.is_department_agent(user)
    user.groups.clear()
    assert not services.is_administrator(user)
    user.groups.set([Group.objects.get(name=roles.INTAKE_AGENTS)])
    assert services.is_intake_agent(user) and services.is_staff_for_requests(user)


def test_each_request_reads_the_groups_again(client, agent_a, departments):
    """A user object lives for one request: a group given between two requests counts
    on the next one, even given from the group's side (no signal reaches the user
    object of a past request)."""
    url = "/admin/requetes/tableau-de-bord/"

    def offered(response):
        return {value for value, _label in
                response.context["form"].fields["department"].widget.choices}

    client.force_login(agent_a)
    assert departments[1].pk not in offered(client.get(url))  # their department only
    Group.objects.get(name=roles.ADMINISTRATORS).user_set.add(agent_a)
    assert departments[1].pk in offered(client.get(url))  # every department now


def test_the_names_live_on_the_user_behind_request_user(agent_a):
    """``request.user`` is a lazy wrapper: the names are kept on the user object itself,
    where a change of its groups forgets them."""
    from django.contrib.auth.models import AnonymousUser
    from django.utils.functional import SimpleLazyObject

    lazy = SimpleLazyObject(lambda: agent_a)
    assert not services.is_administrator(lazy)
    agent_a.groups.add(Group.objects.get(name=roles.ADMINISTRATORS))
    assert services.is_administrator(lazy)
    assert not services.is_administrator(AnonymousUser())
