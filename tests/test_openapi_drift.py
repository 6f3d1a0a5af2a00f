"""The committed OpenAPI schema (docs/openapi.yaml) is the API's contract for mobile apps
and partners: it must be what the code generates.  When this test fails, the API changed
without its contract: run ``make schema`` and commit docs/openapi.yaml with the change."""

from __future__ import annotations

import difflib
from pathlib import Path

import pytest
import yaml
from django.core.management import call_command
from django.test import override_settings
from openapi_spec_validator import validate

COMMITTED = Path(__file__).resolve().parent.parent / "docs" / "openapi.yaml"
REGENERATE = ("docs/openapi.yaml is out of date with the API: run `make schema` "
              "(manage.py spectacular --lang fr --validate --fail-on-warn "
              "--file docs/openapi.yaml) and commit the result.")


def generate(path: Path) -> str:
    # The same command as `make schema`; the test-only "throwaway" module is left out,
    # as it is not installed in a deployment.
    with override_settings(HUB_DISABLED_MODULES=["throwaway"]):
        call_command("spectacular", "--lang", "fr", "--validate", "--fail-on-warn",
                     "--file", str(path))
    return path.read_text(encoding="utf-8")


def drift(committed: str, generated: str) -> str | None:
    """None when both are the same; otherwise the failure message with the diff."""
    if generated == committed:
        return None
    diff = "".join(difflib.unified_diff(
        committed.splitlines(keepends=True), generated.splitlines(keepends=True),
        "docs/openapi.yaml (committed)", "generated from the code", n=2))
    return f"{REGENERATE}\n\n{diff[:6000]}"


@pytest.mark.django_db
def test_committed_schema_matches_the_code(tmp_path):
    assert COMMITTED.exists(), REGENERATE
    message = drift(COMMITTED.read_text(encoding="utf-8"), generate(tmp_path / "openapi.yaml"))
    if message:
        pytest.fail(message)


def test_committed_schema_is_valid_openapi_3():
    spec = yaml.safe_load(COMMITTED.read_text(encoding="utf-8"))
    validate(spec)
    assert "/api/v1/requests/" in spec["paths"]
    assert not any("throwaway" in p for p in spec["paths"])


def test_drift_is_caught():
    """The comparison can fail: a committed schema that lacks a path the code has is
    reported with the command that regenerates it and the missing lines."""
    current = COMMITTED.read_text(encoding="utf-8")
    lines = current.splitlines(keepends=True)
    start = lines.index("  /api/v1/me/:\n")
    end = next(i for i in range(start + 1, len(lines)) if lines[i].startswith("  /"))
    stale = "".join(lines[:start] + lines[end:])
    message = drift(stale, current)
    assert message is not None
    assert "run `make schema`" in message
    assert "+  /api/v1/me/:" in message
    assert drift(current, current) is None


def test_the_subscription_is_one_object_not_a_list():
    """GET /api/v1/alert-subscription/ answers the resident's one subscription (an
    object): the schema said an array (found by tests/test_api_fuzzing.py)."""
    spec = yaml.safe_load(COMMITTED.read_text(encoding="utf-8"))
    answer = spec["paths"]["/api/v1/alert-subscription/"]["get"]["responses"]["200"]
    assert answer["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/Subscription"}


def test_my_requests_are_a_list():
    """GET /api/v1/requests/ answers a list of the resident's requests: the schema said
    one object (found by tests/test_api_fuzzing.py)."""
    spec = yaml.safe_load(COMMITTED.read_text(encoding="utf-8"))
    answer = spec["paths"]["/api/v1/requests/"]["get"]["responses"]["200"]
    assert answer["content"]["application/json"]["schema"] == {
        "type": "array", "items": {"type": "object"}}
