"""`requetes` checks Django permissions, never group names: a renamed group keeps its
access, a permission given to one person counts, the checks of one request cost the
queries of the first, and a change of the same user object's groups counts at once."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Group, Permission
from django.db import connection
from django.test.utils import CaptureQueriesContext

from hub.plugins.manager import collect
from hub.roles import ADMINISTRATORS, StaffRole
from modules.requetes import roles, services
from tests.conftest import make_user

pytestmark = pytest.mark.django_db


def _permission(codename):
    return Permission.objects.get(content_type__app_label="requetes", codename=codename)


def test_the_migration_granted_the_roles_their_permissions():
    assert _permission("take_phone_requests") in Group.objects.get(
        name=roles.INTAKE_AGENTS).permissions.all()
    assert _permission("handle_department_requests") in Group.objects.get(
        name=roles.DEPARTMENT_AGENTS).permissions.all()
    assert _permission("administer_requests") in Group.objects.get(
        name=ADMINISTRATORS).permissions.all()


def test_the_module_declares_its_roles_through_the_hub_hook():
    granted: dict[str, set[str]] = {}  # several modules may add to one group
    for role in collect("hub_staff_roles"):
        assert isinstance(role, StaffRole)
        granted.setdefault(role.name, set()).update(role.permissions)
    assert roles.PERM_TAKE_PHONE in granted[roles.INTAKE_AGENTS]
    assert roles.PERM_HANDLE_DEPARTMENT in granted[roles.DEPARTMENT_AGENTS]
    assert roles.PERM_ADMINISTER in granted[ADMINISTRATORS]
    # Every permission a role lists exists, so the hub can grant it.
    for names in granted.values():
        for name in names:
            app_label, codename = name.split(".")
            assert Permission.objects.filter(content_type__app_label=app_label,
                                             codename=codename).exists(), name


def test_renaming_the_group_keeps_the_agents_access(client, agent_a, administrator,
                                                    departments):
    from modules.requetes.models import Category, ServiceRequest

    category = Category.objects.create(service_code="nids", name_fr="Nids-de-poule",
                                       department=departments[0])
    request = ServiceRequest.objects.create(
        reference="2026-000001", category=category, description="Trou", latitude=45.25,
        longitude=-74.13, department=departments[0])
    group = Group.objects.get(name=roles.DEPARTMENT_AGENTS)
    client.force_login(administrator)  # renamed in the admin, as an administrator would
    url = f"/admin/groups/edit/{group.pk}/"
    data = _form_as_sent(client.get(url), name="Agents des services municipaux")
    response = client.post(url, data)
    assert response.status_code == 302, response.context["form"].errors
    group.refresh_from_db()
    assert group.name == "Agents des services municipaux"

    client.force_login(agent_a)
    assert client.get("/admin/requetes/").status_code == 200
    assert client.get(f"/admin/requetes/{request.pk}/").status_code == 200
    agent = type(agent_a).objects.get(pk=agent_a.pk)
    assert services.is_department_agent(agent) and services.can_handle(agent, request)
    services.transition(request, actor=agent, to_status="acknowledged")


def _form_as_sent(response, **changes):
    """What the browser sends for the page's main form (checked boxes, selected options,
    hidden fields), with ``changes`` typed in."""
    from lxml import html

    [form] = [f for f in html.fromstring(response.content).forms
              if f.get("method", "").lower() == "post" and "name" in f.fields]
    data: dict[str, list[str]] = {}
    for name, value in form.form_values():
        data.setdefault(name, []).append(value)
    data.update({name: [value] for name, value in changes.items()})
    return data


def test_a_permission_given_to_one_person_counts(departments):
    user = make_user("renfort@example.com", is_staff=True)
    assert not services.is_intake_agent(user)
    user.user_permissions.add(_permission("take_phone_requests"))
    user = type(user).objects.get(pk=user.pk)
    assert services.is_intake_agent(user) and services.is_staff_for_requests(user)
    assert not services.is_administrator(user)


def test_role_checks_cost_the_queries_of_the_first(agent_a):
    with CaptureQueriesContext(connection) as queries:
        assert services.is_department_agent(agent_a)
    first = len(queries)
    with CaptureQueriesContext(connection) as queries:
        for _ in range(5):
            assert services.is_department_agent(agent_a)
            assert not services.is_administrator(agent_a)
            assert not services.is_intake_agent(agent_a)
        assert services.is_staff_for_requests(agent_a)
    assert first <= 2 and len(queries) == 0


def test_a_change_of_groups_is_seen_at_once(departments):
    user = make_user("bientot.admin@example.com", is_staff=True,
                     groups=[roles.DEPARTMENT_AGENTS])
    assert not services.is_administrator(user)
    user.groups.add(Group.objects.get(name=ADMINISTRATORS))
    assert services.is_administrator(user)
    user.groups.remove(Group.objects.get(name=roles.DEPARTMENT_AGENTS))
    assert services.is_administrator(user)
    user.groups.clear()
    assert not services.is_administrator(user) and not services.is_department_agent(user)
    user.groups.set([Group.objects.get(name=roles.INTAKE_AGENTS)])
    assert services.is_intake_agent(user) and services.is_staff_for_requests(user)


def test_each_request_reads_the_permissions_again(client, agent_a, departments):
    """A user object lives for one request: a group given between two requests counts
    on the next one, even given from the group's side (no signal reaches the user
    object of a past request)."""
    url = "/admin/requetes/tableau-de-bord/"

    def offered(response):
        return {value for value, _label in
                response.context["form"].fields["department"].widget.choices}

    client.force_login(agent_a)
    assert departments[1].pk not in offered(client.get(url))  # their department only
    Group.objects.get(name=ADMINISTRATORS).user_set.add(agent_a)
    assert departments[1].pk in offered(client.get(url))  # every department now


def test_the_cache_lives_on_the_user_behind_request_user(agent_a):
    """``request.user`` is a lazy wrapper: Django's permission cache is on the user
    object itself, where a change of its groups forgets it."""
    from django.contrib.auth.models import AnonymousUser
    from django.utils.functional import SimpleLazyObject

    lazy = SimpleLazyObject(lambda: agent_a)
    assert not services.is_administrator(lazy)
    agent_a.groups.add(Group.objects.get(name=ADMINISTRATORS))
    assert services.is_administrator(lazy)
    assert not services.is_administrator(AnonymousUser())


def test_an_inactive_account_has_no_access(agent_a):
    agent_a.is_active = False
    agent_a.save()
    agent = type(agent_a).objects.get(pk=agent_a.pk)
    assert not services.is_department_agent(agent)
    assert not services.is_staff_for_requests(agent)
