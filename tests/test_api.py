"""The hub's API end to end: ``/api/v1/me/`` (session and OAuth2 bearer token, PATCH, bad input,
CSRF), ``/api/v1/modules/``, the OpenAPI schema and its docs page, JSON 404s, and the
public Wagtail API v2 (pages with ``?locale=``, images, documents)."""

from __future__ import annotations

import json
import re

import pytest
import yaml
from django.core.cache import cache
from django.test import Client, override_settings
from openapi_spec_validator import validate

from hub.models import User
from tests.conftest import bearer

ME = "/api/v1/me/"
MODULES = "/api/v1/modules/"
HUB_MODULES = ["requetes", "alertes", "actualites", "liens_services"]


@pytest.fixture(autouse=True)
def _clean_cache():
    cache.clear()  # throttling and rate-limit counters
    yield
    cache.clear()


@pytest.fixture
def token(citizen):
    return bearer(citizen)


@pytest.fixture
def token_client(token):
    return Client(HTTP_AUTHORIZATION=f"Bearer {token}")


def patch(client, data, **extra):
    return client.patch(ME, json.dumps(data), content_type="application/json", **extra)


def assert_json(response):
    assert response["Content-Type"].startswith("application/json"), response["Content-Type"]
    return response.json()


def snapshot(user):
    user.refresh_from_db()
    return {field: getattr(user, field) for field in (
        "email", "first_name", "last_name", "phone", "preferred_language", "civic_address",
        "postal_code", "is_staff", "is_superuser")}


# --- /api/v1/me/ ---------------------------------------------------------------------------

@pytest.mark.django_db
@pytest.mark.parametrize("method", ["get", "patch"])
def test_me_anonymous_is_refused_in_json(client, method):
    response = getattr(client, method)(ME, content_type="application/json")
    assert response.status_code in (401, 403)
    assert "detail" in assert_json(response)


@pytest.mark.django_db
def test_me_with_a_bad_token_is_401(client, citizen):
    response = client.get(ME, HTTP_AUTHORIZATION="Bearer pas-un-jeton")
    assert response.status_code == 401
    assert response["WWW-Authenticate"].split()[0] == "Bearer"
    assert "detail" in assert_json(response)
    response = patch(client, {"first_name": "Pirate"}, HTTP_AUTHORIZATION="Bearer faux")
    assert response.status_code == 401
    assert snapshot(citizen)["first_name"] == "Claire"
    response = client.get(ME, HTTP_AUTHORIZATION="Bearer")
    assert response.status_code == 401


@pytest.mark.django_db
def test_drf_token_scheme_is_gone(citizen):
    """DRF's "Token" scheme had no endpoint to obtain a token (issue 13): the API takes
    OAuth2 bearer tokens only; a DRF token, even one stored for the user, is refused."""
    from django.apps import apps

    key = "0" * 40
    if apps.is_installed("rest_framework.authtoken"):
        from rest_framework.authtoken.models import Token

        key = Token.objects.create(user=citizen).key
    response = Client().get(ME, HTTP_AUTHORIZATION=f"Token {key}")
    assert response.status_code == 401
    assert response["WWW-Authenticate"].split()[0] == "Bearer"


@pytest.mark.django_db
def test_me_with_session(citizen_client, citizen, other_citizen, departments):
    departments[0].agents.add(citizen)
    response = citizen_client.get(ME)
    assert response.status_code == 200
    data = assert_json(response)
    assert data == {
        "id": citizen.pk, "email": "citoyenne@example.com", "first_name": "Claire",
        "last_name": "Tremblay", "phone": "", "preferred_language": "fr",
        "civic_address": "", "postal_code": "", "is_staff": False,
        "departments": ["travaux-publics"],
    }
    assert other_citizen.email not in response.content.decode()


@pytest.mark.django_db
def test_me_with_token_is_own_data_only(token_client, citizen, other_citizen):
    data = assert_json(token_client.get(ME))
    assert data["email"] == citizen.email
    other = Client(HTTP_AUTHORIZATION=f"Bearer {bearer(other_citizen)}")
    assert assert_json(other.get(ME))["email"] == other_citizen.email


@pytest.mark.django_db
def test_me_is_not_cached_publicly(citizen_client):
    response = citizen_client.get(ME)
    assert "Cookie" in response.get("Vary", "") or "Authorization" in response.get("Vary", "")


@pytest.mark.django_db
def test_me_patch_updates(token_client, citizen):
    response = patch(token_client, {"first_name": "Clara", "phone": "+1 450 370-4820",
                                    "preferred_language": "en",
                                    "civic_address": "61 rue Sainte-Cécile",
                                    "postal_code": "j6t2m2"})
    assert response.status_code == 200, response.content
    data = assert_json(response)
    assert data["first_name"] == "Clara"
    assert data["postal_code"] == "J6T 2M2"
    state = snapshot(citizen)
    assert state["first_name"] == "Clara"
    assert state["last_name"] == "Tremblay"  # PATCH is partial
    assert state["phone"] == "+1 450 370-4820"
    assert state["preferred_language"] == "en"
    assert state["civic_address"] == "61 rue Sainte-Cécile"
    assert state["postal_code"] == "J6T 2M2"


@pytest.mark.django_db
def test_me_patch_empty_object_changes_nothing(token_client, citizen):
    before = snapshot(citizen)
    response = patch(token_client, {})
    assert response.status_code == 200
    assert snapshot(citizen) == before


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"phone": "pas un numéro"}, "phone"),
        ({"phone": "12"}, "phone"),
        ({"preferred_language": "de"}, "preferred_language"),
        ({"preferred_language": 1}, "preferred_language"),
        ({"postal_code": "12345"}, "postal_code"),
        ({"postal_code": "D6T 2M2"}, "postal_code"),
        ({"first_name": ["Clara"]}, "first_name"),
        ({"first_name": {"fr": "Clara"}}, "first_name"),
        ({"first_name": None}, "first_name"),
        ({"first_name": "x" * 200}, "first_name"),
        ({"phone": True}, "phone"),
        ({"civic_address": ["61 rue Sainte-Cécile"]}, "civic_address"),
        ({"first_name": "Clara", "phone": "abc"}, "phone"),  # all or nothing
    ],
    ids=["phone-letters", "phone-short", "language-unknown", "language-int", "zip",
         "postal-letter-d", "list", "object", "null", "too-long", "bool", "address-list",
         "partly-valid"],
)
@pytest.mark.django_db
def test_me_patch_bad_input_is_400_naming_the_field(token_client, citizen, data, field):
    before = snapshot(citizen)
    response = patch(token_client, data)
    assert response.status_code == 400
    errors = assert_json(response)
    assert field in errors, errors
    assert isinstance(errors[field], list) and errors[field]
    assert snapshot(citizen) == before


@pytest.mark.django_db
def test_me_patch_read_only_fields_are_ignored(token_client, citizen, departments):
    response = patch(token_client, {"email": "pirate@example.com", "is_staff": True,
                                    "is_superuser": True, "id": 999,
                                    "departments": ["travaux-publics"],
                                    "first_name": "Clara"})
    assert response.status_code == 200
    data = assert_json(response)
    assert data["email"] == "citoyenne@example.com"
    assert data["is_staff"] is False and data["id"] == citizen.pk
    state = snapshot(citizen)
    assert state["email"] == "citoyenne@example.com"
    assert not state["is_staff"] and not state["is_superuser"]
    assert state["first_name"] == "Clara"
    assert not citizen.departments.exists()
    assert not User.objects.filter(email="pirate@example.com").exists()


@pytest.mark.parametrize(
    ("body", "content_type", "status", "words"),
    [
        ("first_name=Clara", "text/plain", 415, "text/plain"),
        ("first_name=Clara", "application/x-www-form-urlencoded", 415, "urlencoded"),
        ('{"first_name": "Clara"', "application/json", 400, "JSON"),
        ("not json at all", "application/json", 400, "JSON"),
        ('["first_name", "Clara"]', "application/json", 400, "dict"),
        ('"Clara"', "application/json", 400, "dict"),
        ("", "application/json", 200, ""),
        (b"\xff\xfe\x00garbage", "application/json", 400, ""),
    ],
    ids=["text-plain", "form-encoded", "truncated-json", "not-json", "array", "string",
         "empty-body", "binary"],
)
@pytest.mark.django_db
def test_me_patch_non_json_body_is_4xx_json(token_client, citizen, body, content_type,
                                            status, words):
    before = snapshot(citizen)
    response = token_client.patch(ME, body, content_type=content_type)
    assert response.status_code == status, response.content
    data = assert_json(response)
    if words:
        assert words.lower() in json.dumps(data).lower(), data
    assert snapshot(citizen) == before


@pytest.mark.django_db
def test_me_other_methods_are_405_json(token_client):
    for method in ("put", "delete", "post"):
        response = getattr(token_client, method)(ME, "{}", content_type="application/json")
        assert response.status_code == 405, method
        assert "detail" in assert_json(response)


@pytest.mark.django_db
def test_me_session_patch_enforces_csrf(citizen):
    client = Client(enforce_csrf_checks=True)
    client.force_login(citizen)
    assert client.get(ME).status_code == 200  # reads need no token

    response = patch(client, {"first_name": "Pirate"})
    assert response.status_code == 403
    assert "csrf" in json.dumps(assert_json(response)).lower()
    assert snapshot(citizen)["first_name"] == "Claire"

    # With the token from a page the user loaded, the same request goes through.
    client.get("/fr/compte/profil/")
    csrf = client.cookies["csrftoken"].value
    response = patch(client, {"first_name": "Clara"}, HTTP_X_CSRFTOKEN=csrf)
    assert response.status_code == 200, response.content
    assert snapshot(citizen)["first_name"] == "Clara"


@pytest.mark.django_db
def test_me_token_patch_needs_no_csrf(token, citizen):
    client = Client(enforce_csrf_checks=True, HTTP_AUTHORIZATION=f"Bearer {token}")
    response = patch(client, {"first_name": "Clara"})
    assert response.status_code == 200
    assert snapshot(citizen)["first_name"] == "Clara"


@pytest.mark.django_db
def test_me_inactive_user_token_is_refused(token, citizen):
    citizen.is_active = False
    citizen.save()
    response = Client(HTTP_AUTHORIZATION=f"Bearer {token}").get(ME)
    assert response.status_code == 401


# --- /api/v1/modules/ ----------------------------------------------------------------------

@pytest.mark.django_db
def test_modules_lists_enabled_modules_in_order(client):
    response = client.get(MODULES)
    assert response.status_code == 200
    modules = assert_json(response)
    slugs = [m["slug"] for m in modules]
    assert set(HUB_MODULES) <= set(slugs)
    assert slugs[-1] == "throwaway"  # order 99
    assert [m["order"] for m in modules] == sorted(m["order"] for m in modules)
    for module in modules:
        assert set(module) >= {"slug", "name", "name_fr", "name_en", "description_fr",
                               "description_en", "icon", "order", "version"}
        assert module["name_fr"] and module["name_en"]
    by_slug = {m["slug"]: m for m in modules}
    assert by_slug["throwaway"]["name_fr"] == "Module jetable"
    assert by_slug["throwaway"]["name_en"] == "Throwaway module"


@pytest.mark.django_db
def test_modules_name_follows_the_language(client):
    fr = {m["slug"]: m["name"] for m in client.get(MODULES).json()}
    assert fr["throwaway"] == "Module jetable"
    en = {m["slug"]: m["name"]
          for m in client.get(MODULES, HTTP_ACCEPT_LANGUAGE="en-CA,en;q=0.9").json()}
    assert en["throwaway"] == "Throwaway module"
    fr2 = {m["slug"]: m["name"]
           for m in client.get(MODULES, HTTP_ACCEPT_LANGUAGE="fr-CA,fr;q=0.9").json()}
    assert fr2["throwaway"] == "Module jetable"
    # Unknown language: French, the default.
    de = {m["slug"]: m["name"] for m in client.get(MODULES, HTTP_ACCEPT_LANGUAGE="de").json()}
    assert de["throwaway"] == "Module jetable"
    # The language cookie set by the site's language switch counts too.
    client.cookies["ec_language"] = "en"
    assert {m["slug"]: m["name"] for m in client.get(MODULES).json()}["throwaway"] == \
        "Throwaway module"


@pytest.mark.django_db
def test_modules_without_a_disabled_module(client):
    with override_settings(HUB_DISABLED_MODULES=["alertes"]):
        slugs = [m["slug"] for m in client.get(MODULES).json()]
        assert "alertes" not in slugs
        assert {"requetes", "actualites", "liens_services", "throwaway"} <= set(slugs)
    slugs = [m["slug"] for m in client.get(MODULES).json()]
    assert "alertes" in slugs


@pytest.mark.django_db
def test_modules_is_read_only(client, citizen_client):
    assert client.post(MODULES, "{}", content_type="application/json").status_code in (
        403, 405)
    response = citizen_client.post(MODULES, "{}", content_type="application/json")
    assert response.status_code in (403, 405)
    assert_json(response)


@pytest.mark.django_db
def test_api_root_is_public_and_lists_routes(client):
    response = client.get("/api/v1/")
    assert response.status_code == 200
    data = assert_json(response)
    assert "throwaway-ping" in data


# --- Schema and docs -----------------------------------------------------------------------

@pytest.mark.django_db
def test_schema_is_valid_openapi_3(client):
    response = client.get("/api/schema/")
    assert response.status_code == 200
    spec = yaml.safe_load(response.content)
    validate(spec)
    assert spec["openapi"].startswith("3.")
    assert "/api/v1/me/" in spec["paths"]
    assert {"get", "patch"} <= set(spec["paths"]["/api/v1/me/"])
    assert "put" not in spec["paths"]["/api/v1/me/"]
    assert "/api/v1/modules/" in spec["paths"]
    assert not [p for p in spec["paths"] if not p.startswith("/api/v1/")]
    schemes = spec["components"]["securitySchemes"]
    # OAuth2 bearer tokens (apps) and the session (the site); DRF's "Token" scheme, which
    # had no endpoint to obtain a token, is gone (issue 13).
    assert set(schemes) == {"cookieAuth", "oauth2"}


@pytest.mark.django_db
def test_schema_as_json(client):
    response = client.get("/api/schema/?format=json")
    assert response.status_code == 200
    spec = json.loads(response.content)
    validate(spec)
    assert "/api/v1/me/" in spec["paths"]
    assert "/api/v1/modules/" in spec["paths"]


@pytest.mark.django_db
def test_schema_leaves_out_disabled_module_routes(client):
    spec = yaml.safe_load(client.get("/api/schema/").content)
    assert any("throwaway-ping" in p for p in spec["paths"])
    with override_settings(HUB_DISABLED_MODULES=["throwaway"]):
        spec = yaml.safe_load(client.get("/api/schema/").content)
        assert not any("throwaway-ping" in p for p in spec["paths"])


@pytest.mark.django_db
def test_docs_render_without_any_cdn(client):
    response = client.get("/api/docs/")
    assert response.status_code == 200
    html = response.content.decode()
    assert "swagger" in html.lower()
    assert not re.search(r"""(?:src|href)\s*=\s*["']?(?:https?:)?//""", html), html
    assert "cdn" not in html.lower()
    assets = re.findall(r"""(?:src|href)\s*=\s*["']([^"']+)["']""", html)
    assert assets
    for url in assets:
        assert url.startswith(("/static/", "/api/")), url
    assert "/api/schema/" in html
    # Every asset is actually served (whitenoise, from the sidecar package).
    for url in assets:
        if url.startswith("/static/"):
            assert client.get(url).status_code == 200, url
    policy = response.get("Content-Security-Policy", "")
    assert "https:" not in policy and "cdn" not in policy


# --- JSON 404s -----------------------------------------------------------------------------

@pytest.mark.parametrize("url", ["/api/", "/api/v1/nope/", "/api/v1/me/extra/",
                                 "/api/v3/pages/", "/api/v1/modules/requetes/",
                                 "/api/v1/throwaway-ping/1/", "/api/v2/nope/"])
@pytest.mark.django_db
def test_unknown_api_route_is_json_404(client, url):
    response = client.get(url)
    assert response.status_code == 404, url
    data = assert_json(response)
    assert "detail" in data or "message" in data


@pytest.mark.django_db
def test_unknown_api_route_is_json_404_for_writes(client):
    response = client.post("/api/v1/nope/", "{}", content_type="application/json")
    assert response.status_code in (403, 404, 405)
    assert_json(response)


# --- Wagtail API v2 ------------------------------------------------------------------------

@pytest.mark.django_db
def test_wagtail_pages_by_locale(client, site):
    response = client.get("/api/v2/pages/?locale=en")
    assert response.status_code == 200
    data = assert_json(response)
    assert data["meta"]["total_count"] >= 1
    types = {item["meta"]["type"] for item in data["items"]}
    assert "hub.HomePage" in types
    assert {item["meta"]["locale"] for item in data["items"]} == {"en"}

    fr = client.get("/api/v2/pages/?locale=fr&type=hub.HomePage").json()
    en = client.get("/api/v2/pages/?locale=en&type=hub.HomePage").json()
    assert fr["meta"]["total_count"] == en["meta"]["total_count"] == 1
    assert fr["items"][0]["id"] != en["items"][0]["id"]


@pytest.mark.django_db
def test_wagtail_pages_by_type(client, site):
    response = client.get("/api/v2/pages/?type=hub.HomePage")
    assert response.status_code == 200
    items = assert_json(response)["items"]
    assert items and all(item["meta"]["type"] == "hub.HomePage" for item in items)


@pytest.mark.django_db
def test_wagtail_pages_bad_filters_are_400_json(client, site):
    for url in ("/api/v2/pages/?type=nope.Nope", "/api/v2/pages/?locale=xx",
                "/api/v2/pages/?limit=abc"):
        response = client.get(url)
        assert response.status_code in (400, 404), url
        assert_json(response)


@pytest.mark.parametrize("url", ["/api/v2/pages/", "/api/v2/images/", "/api/v2/documents/"])
@pytest.mark.django_db
def test_wagtail_api_is_public(client, site, url):
    response = client.get(url)
    assert response.status_code == 200
    assert "items" in assert_json(response)
