"""schemathesis against ``/api/v1/`` (the committed docs/openapi.yaml) and Open311
(docs/open311.yaml): generated calls, valid and not, as a real resident holding a real
OAuth2 bearer token with every scope, and as an Open311 client with a real API key.

Each answer must not be a server error, and its body must conform to the schema (where
the schema describes that status).  The run is bounded and deterministic (a few
examples per operation, derandomized), so it belongs to ``make test``; a failure prints
the curl command that reproduces it."""

from __future__ import annotations

import datetime
import os
import secrets
import time
import uuid
from pathlib import Path

import pytest
import schemathesis
import yaml
from django.core.cache import cache
from django.core.signals import request_finished, request_started
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from oauth2_provider.models import get_access_token_model, get_application_model
from oauth2_provider.scopes import get_scopes_backend
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
)

from modules.requetes import services as requetes_services
from modules.requetes.models import Category, Question
from tests.requetes.conftest import INSIDE

DOCS = Path(__file__).resolve().parent.parent / "docs"
EXAMPLES = int(os.environ.get("HUB_FUZZ_EXAMPLES", "6"))
CHECKS = [not_a_server_error, content_type_conformance, response_schema_conformance]
BUDGET_SECONDS = 90  # the whole file; it takes about 20 to 40 s on a loaded machine


def _load(name: str):
    return schemathesis.openapi.from_dict(
        yaml.safe_load((DOCS / name).read_text(encoding="utf-8")))


@pytest.fixture
def world(citizen, other_citizen, departments, administrator):
    """A resident with a request of their own, another resident's request, the
    categories, and the credentials: a bearer token with every scope, an Open311 key."""
    lighting = Category.objects.create(
        service_code="eclairage", name_fr="Éclairage de rue", name_en="Street lighting",
        department=departments[0], service_level_days=5)
    Question.objects.create(category=lighting, code="poteau", label_fr="Numéro du poteau",
                            label_en="Pole number", datatype="number", required=True,
                            sort_order=0)
    mine = requetes_services.create_request(
        actor=citizen, category=lighting, description="Lampadaire éteint",
        latitude=INSIDE[0], longitude=INSIDE[1], answers={"poteau": "12"})
    theirs = requetes_services.create_request(
        actor=other_citizen, category=lighting, description="Pas à moi",
        latitude=INSIDE[0], longitude=INSIDE[1], answers={"poteau": "9"})
    application = get_application_model().objects.create(
        name="Application mobile", client_type="public",
        authorization_grant_type="authorization-code",
        redirect_uris="ca.valleyfield.espacecitoyen:/callback", algorithm="RS256")
    token = secrets.token_urlsafe(24)
    get_access_token_model().objects.create(
        user=citizen, application=application, token=token,
        scope=" ".join(get_scopes_backend().get_all_scopes()),
        expires=timezone.now() + datetime.timedelta(hours=1))
    key, raw_key = requetes_services.issue_api_key(
        actor=administrator, name="Fuzzing", can_post_updates=True)
    by_client = requetes_services.create_open311_request(
        api_key=key, category=lighting, description="Nid-de-poule", latitude=INSIDE[0],
        longitude=INSIDE[1], answers={"poteau": "3"}, submission_key=uuid.uuid4())
    return {
        "bearer": token, "api_key": raw_key,
        "known": {
            "reference": [mine.reference, theirs.reference],
            "service_request_id": [mine.reference, theirs.reference],
            "service_code": ["eclairage"],
            "token": [str(by_client.submission_key)],
        },
    }


@pytest.fixture
def wsgi_app():
    """The project's WSGI application, called in-process.  As Django's test client does,
    the per-request ``close_old_connections`` is held off: the test's transaction lives on
    the connection that the requests use."""
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    try:
        yield get_wsgi_application()
    finally:
        request_started.connect(close_old_connections)
        request_finished.connect(close_old_connections)


def _run(schema, world, app, *, headers=None, form_key=False) -> list[str]:
    problems: dict[tuple, str] = {}
    known = world["known"]
    for result in schema.get_all_operations():
        operation = result.ok()

        @given(case=operation.as_strategy(), use_known=st.booleans())
        @settings(max_examples=EXAMPLES, derandomize=True, deadline=None, database=None,
                  suppress_health_check=list(HealthCheck), print_blob=False)
        def check(case, use_known):
            cache.clear()  # throttles
            if use_known and case.path_parameters:
                for name in case.path_parameters:
                    if name in known:
                        case.path_parameters[name] = known[name][0]
            if form_key and isinstance(case.body, dict):
                case.body["api_key"] = world["api_key"]
                if use_known:
                    case.body.setdefault("service_code", "eclairage")
            response = case.call(app=app, headers=headers)
            try:
                case.validate_response(response, checks=CHECKS)
            except BaseException as error:  # every failure of the run, not only the first
                text = str(error)
                problems.setdefault(
                    (case.operation.label, response.status_code, tuple(text.splitlines()[2:3])),
                    f"{case.operation.label} → {response.status_code}: {text[:1500]}")

        check()
    return list(problems.values())


@pytest.mark.django_db
def test_api_v1_never_answers_500_and_conforms(world, wsgi_app):
    started = time.monotonic()
    problems = _run(_load("openapi.yaml"), world, wsgi_app,
                    headers={"Authorization": f"Bearer {world['bearer']}"})
    assert not problems, "\n\n".join(problems)
    assert time.monotonic() - started < BUDGET_SECONDS


@pytest.mark.django_db
def test_open311_never_answers_500_and_conforms(world, wsgi_app):
    started = time.monotonic()
    problems = _run(_load("open311.yaml"), world, wsgi_app, form_key=True)
    assert not problems, "\n\n".join(problems)
    assert time.monotonic() - started < BUDGET_SECONDS
