"""Shared fixtures: users in every role, a demo site, clients signed in as each."""

import datetime
import secrets

import pytest
from allauth.account.models import EmailAddress
from django.contrib.auth.models import Group
from django.utils import timezone
from oauth2_provider.models import get_access_token_model, get_application_model

from hub import roles
from hub.models import Department, User
from modules.requetes import roles as requetes_roles


def make_user(email, *, password="motdepasse-solide-42", groups=(), departments=(),
              verified=True, **extra):
    user = User.objects.create_user(email=email, password=password, **extra)
    for name in groups:
        user.groups.add(Group.objects.get(name=name))
    for department in departments:
        department.agents.add(user)
    EmailAddress.objects.create(user=user, email=email, verified=verified, primary=True)
    return user


def bearer(user, scope="openid profile") -> str:
    """A real OAuth2 access token of a public app (the one kind of token the API takes),
    valid an hour, for ``Authorization: Bearer …``."""
    application, _ = get_application_model().objects.get_or_create(
        name="Application mobile", defaults={
            "client_type": "public", "authorization_grant_type": "authorization-code",
            "redirect_uris": "ca.valleyfield.espacecitoyen:/callback",
            "algorithm": "RS256"})
    key = secrets.token_urlsafe(24)
    get_access_token_model().objects.create(
        user=user, application=application, token=key, scope=scope,
        expires=timezone.now() + datetime.timedelta(hours=1))
    return key


@pytest.fixture
def site(db):
    """The demo site: FR and EN home pages, settings, departments, districts."""
    from hub import demo

    demo.load()
    return demo


@pytest.fixture
def departments(db):
    a, _ = Department.objects.get_or_create(slug="travaux-publics",
                                            defaults={"name": "Travaux publics"})
    b, _ = Department.objects.get_or_create(slug="environnement",
                                            defaults={"name": "Environnement"})
    return a, b


@pytest.fixture
def citizen(db):
    return make_user("citoyenne@example.com", first_name="Claire", last_name="Tremblay")


@pytest.fixture
def other_citizen(db):
    return make_user("voisin@example.com", first_name="Marc", last_name="Roy")


@pytest.fixture
def agent_a(db, departments):
    return make_user("agent.a@example.com", is_staff=True,
                     groups=[requetes_roles.DEPARTMENT_AGENTS], departments=[departments[0]])


@pytest.fixture
def agent_b(db, departments):
    return make_user("agent.b@example.com", is_staff=True,
                     groups=[requetes_roles.DEPARTMENT_AGENTS], departments=[departments[1]])


@pytest.fixture
def editor(db):
    return make_user("redaction@example.com", is_staff=True, groups=[roles.EDITORS])


@pytest.fixture
def administrator(db):
    user = make_user("admin.test@example.com", is_staff=True, is_superuser=True,
                     groups=[roles.ADMINISTRATORS])
    return user


@pytest.fixture
def citizen_client(client, citizen):
    client.force_login(citizen)
    return client


@pytest.fixture
def cached(site):
    """The public page cache switched on (tests run with it off), emptied around."""
    from django.core.cache import cache
    from django.test import override_settings

    cache.clear()
    with override_settings(HUB_PUBLIC_CACHE_SECONDS=60):
        yield
    cache.clear()
