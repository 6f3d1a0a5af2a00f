"""Security baseline (issue 2, item 14): headers, cookies, sessions, lockout, redirects,
staff MFA and ``check --deploy`` on the production settings."""

from __future__ import annotations

import json
import os
import re
import secrets
import subprocess
import sys
from pathlib import Path

import pytest
from allauth.mfa.models import Authenticator
from django.conf import settings
from django.contrib.sessions.models import Session
from django.test import Client, override_settings
from django.urls import reverse

from hub.middleware import ADMIN_CSP

ROOT = Path(__file__).resolve().parent.parent
PASSWORD = "motdepasse-solide-42"  # tests/conftest.py make_user's default
LOGIN_URL = "/fr/compte/login/"


def production_env(**extra) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items()
           if k not in {"DJANGO_SETTINGS_MODULE", "HUB_REQUIRE_STAFF_MFA",
                        "SECURE_SSL_REDIRECT", "DEBUG", "SECRET_KEY", "ALLOWED_HOSTS"}}
    env.update({
        "DEBUG": "0",
        "SECRET_KEY": secrets.token_urlsafe(64),
        "ALLOWED_HOSTS": "citoyen.example.org",
        "DJANGO_SETTINGS_MODULE": "hub.settings",
        "VAR_DIR": str(ROOT / "var" / "test"),
    })
    env.update(extra)
    return env


@pytest.fixture(scope="module")
def production_settings() -> dict:
    """The values ``hub.settings`` computes with DEBUG=0, read in a fresh interpreter
    (the test process runs the development settings)."""
    names = [
        "SECURE_HSTS_SECONDS", "SECURE_HSTS_INCLUDE_SUBDOMAINS", "SECURE_HSTS_PRELOAD",
        "SECURE_SSL_REDIRECT", "SECURE_PROXY_SSL_HEADER", "SECURE_CONTENT_TYPE_NOSNIFF",
        "SECURE_REFERRER_POLICY", "X_FRAME_OPTIONS",
        "SESSION_COOKIE_SECURE", "SESSION_COOKIE_HTTPONLY", "SESSION_COOKIE_SAMESITE",
        "SESSION_COOKIE_NAME", "CSRF_COOKIE_SECURE", "CSRF_COOKIE_SAMESITE",
        "CSRF_COOKIE_NAME", "LANGUAGE_COOKIE_NAME", "LANGUAGE_COOKIE_SECURE",
        "HUB_REQUIRE_STAFF_MFA", "DEBUG",
    ]
    code = (
        "import json, hub.settings as s; "
        f"print(json.dumps({{n: getattr(s, n, None) for n in {names!r}}}))"
    )
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=production_env(),
                            capture_output=True, text=True, timeout=120, check=False)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


# --- 1. Headers ------------------------------------------------------------------------

def csp_directives(response) -> dict[str, list[str]]:
    header = response.headers["Content-Security-Policy"]
    directives = {}
    for part in header.split(";"):
        words = part.split()
        if words:
            directives[words[0]] = words[1:]
    return directives


def script_nonce(response) -> str:
    nonces = [w for w in csp_directives(response)["script-src"] if w.startswith("'nonce-")]
    assert len(nonces) == 1, response.headers["Content-Security-Policy"]
    return nonces[0]


def test_production_sends_hsts_for_a_year(production_settings):
    assert production_settings["SECURE_HSTS_SECONDS"] >= 31_536_000
    assert production_settings["SECURE_HSTS_INCLUDE_SUBDOMAINS"] is True
    assert production_settings["SECURE_SSL_REDIRECT"] is True
    assert production_settings["SECURE_PROXY_SSL_HEADER"] == ["HTTP_X_FORWARDED_PROTO", "https"]


@override_settings(SECURE_HSTS_SECONDS=31_536_000, SECURE_HSTS_INCLUDE_SUBDOMAINS=True)
def test_hsts_header_on_secure_responses(client, site):
    response = client.get("/fr/", secure=True)
    assert response.status_code == 200
    assert response.headers["Strict-Transport-Security"].startswith("max-age=31536000")
    assert "includeSubDomains" in response.headers["Strict-Transport-Security"]


@pytest.mark.parametrize("path", ["/fr/", "/fr/compte/login/", "/api/v1/modules/",
                                  "/api/v1/nope/", "/fr/page-inexistante/"])
def test_headers_on_every_response(client, site, path):
    response = client.get(path)
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Referrer-Policy"] == "strict-origin-when-cross-origin"
    assert response.headers["X-Frame-Options"] == "DENY"
    assert response.headers["Cross-Origin-Opener-Policy"] == "same-origin"
    assert "Permissions-Policy" in response.headers
    directives = csp_directives(response)
    assert directives["frame-ancestors"] == ["'none'"]
    assert directives["object-src"] == ["'none'"]
    assert directives["base-uri"] == ["'none'"]


def test_public_csp_has_a_fresh_nonce_per_response(client, site, citizen):
    """A page using a nonce (the report form's inline script) gets a fresh one each
    time; a page without inline script has none in its policy (it may be cached:
    tests/test_csp_cache.py)."""
    from modules.requetes.models import Category

    Category.objects.get_or_create(service_code="eclairage", defaults={
        "name_fr": "Éclairage", "name_en": "Lighting", "department": site_department()})
    home = client.get("/fr/")
    assert home.status_code == 200 and "'nonce-" not in home["Content-Security-Policy"]
    client.force_login(citizen)
    first = client.get("/fr/requetes/nouvelle/eclairage/")
    second = client.get("/fr/requetes/nouvelle/eclairage/")
    assert first.status_code == second.status_code == 200
    for response in (home, first):
        directives = csp_directives(response)
        assert "'unsafe-inline'" not in directives["script-src"]
        assert "'unsafe-eval'" not in directives["script-src"]
        assert "'unsafe-inline'" not in directives.get("style-src", [])
    assert script_nonce(first) != script_nonce(second)
    assert re.fullmatch(r"'nonce-[A-Za-z0-9+/=_-]{16,}'", script_nonce(first))


def site_department():
    from hub.models import Department

    return Department.objects.get_or_create(slug="travaux-publics",
                                            defaults={"name": "Travaux publics"})[0]


def test_admin_gets_the_relaxed_documented_policy(client, administrator):
    client.force_login(administrator)
    response = client.get("/admin/")
    assert response.status_code == 200
    directives = csp_directives(response)
    assert directives == ADMIN_CSP
    assert "'unsafe-inline'" in directives["script-src"]
    assert directives["object-src"] == ["'none'"]
    # The admin still cannot be framed by another site (the preview frames itself).
    assert directives["frame-ancestors"] == ["'self'"]


def test_inline_scripts_in_templates_carry_the_nonce():
    """The public policy refuses inline scripts without the response's nonce: every
    ``<script>`` with a body in our templates must say ``nonce="{{ request.csp_nonce }}"``."""
    offenders = []
    for folder in ("hub", "theme", "modules"):
        for template in (ROOT / folder).rglob("templates/**/*.html"):
            text = template.read_text(encoding="utf-8")
            for match in re.finditer(r"<script\b([^>]*)>(.*?)</script>", text, re.S):
                attrs, body = match.groups()
                if "src=" in attrs and not body.strip():
                    continue
                if 'nonce="{{ request.csp_nonce }}"' not in attrs:
                    offenders.append(f"{template.relative_to(ROOT)}: <script{attrs}>")
    assert not offenders, "inline <script> without the CSP nonce:\n" + "\n".join(offenders)


def test_admin_sends_anonymous_visitors_to_the_real_sign_in_page(client, db):
    response = client.get("/admin/")
    assert response.status_code == 302
    location = response.headers["Location"]
    assert location.split("?")[0] == reverse("account_login")
    assert client.get(location).status_code == 200


def test_wagtail_login_form_is_replaced_by_the_one_sign_in(client, citizen):
    response = client.get("/admin/login/?next=/admin/pages/")
    assert response.status_code == 302
    assert response.headers["Location"] == "/fr/compte/login/?next=%2Fadmin%2Fpages%2F"
    hostile = client.get("/admin/login/?next=https://evil.example/")
    assert hostile.headers["Location"] == "/fr/compte/login/?next=%2Fadmin%2F"
    client.force_login(citizen)
    assert client.get("/admin/login/").headers["Location"] == "/admin/"


# --- 2. Cookies ------------------------------------------------------------------------

def test_production_cookies(production_settings):
    s = production_settings
    assert s["DEBUG"] is False
    assert s["SESSION_COOKIE_SECURE"] is True
    assert s["SESSION_COOKIE_HTTPONLY"] is True
    assert s["SESSION_COOKIE_SAMESITE"] in {"Lax", "Strict"}
    assert s["CSRF_COOKIE_SECURE"] is True
    assert s["CSRF_COOKIE_SAMESITE"] in {"Lax", "Strict"}
    # __Host- : Secure, no Domain, Path=/ — bound to this exact host.
    assert s["SESSION_COOKIE_NAME"].startswith("__Host-")
    assert s["CSRF_COOKIE_NAME"].startswith("__Host-")
    assert s["LANGUAGE_COOKIE_NAME"].startswith(("__Secure-", "__Host-"))
    assert s["LANGUAGE_COOKIE_SECURE"] is True


@override_settings(SESSION_COOKIE_SECURE=True, SESSION_COOKIE_NAME="__Host-sessionid",
                   CSRF_COOKIE_SECURE=True, CSRF_COOKIE_NAME="__Host-csrftoken")
def test_cookies_set_at_sign_in_have_the_production_attributes(citizen):
    client = Client(enforce_csrf_checks=False)
    client.get(LOGIN_URL, secure=True)
    response = client.post(LOGIN_URL, {"login": citizen.email, "password": PASSWORD},
                           secure=True)
    assert response.status_code == 302
    session = response.cookies["__Host-sessionid"]
    assert session["secure"] and session["httponly"]
    assert session["samesite"] == "Lax"
    assert session["path"] == "/" and not session["domain"]
    csrf = client.cookies["__Host-csrftoken"]
    assert csrf["secure"] and csrf["samesite"] == "Lax"
    assert csrf["path"] == "/" and not csrf["domain"]


# --- 3. Sessions -----------------------------------------------------------------------

def sign_in(client, email, password=PASSWORD, **extra):
    return client.post(LOGIN_URL, {"login": email, "password": password, **extra})


def is_signed_in(client) -> bool:
    return client.get("/fr/mon-espace/").status_code == 200


def test_session_key_rotates_at_sign_in(client, citizen):
    client.get(LOGIN_URL)
    client.session.save()  # an anonymous session exists before sign-in
    session = client.session
    session["before"] = "sign-in"
    session.save()
    before = client.cookies[settings.SESSION_COOKIE_NAME].value
    response = sign_in(client, citizen.email)
    assert response.status_code == 302
    after = client.cookies[settings.SESSION_COOKIE_NAME].value
    assert after != before
    assert not Session.objects.filter(session_key=before).exists()
    assert is_signed_in(client)


def test_password_change_revokes_other_sessions(citizen):
    here, elsewhere = Client(), Client()
    assert sign_in(here, citizen.email).status_code == 302
    assert sign_in(elsewhere, citizen.email).status_code == 302
    assert is_signed_in(here) and is_signed_in(elsewhere)

    response = here.post("/fr/compte/password/change/", {
        "oldpassword": PASSWORD,
        "password1": "un-nouveau-secret-2025",
        "password2": "un-nouveau-secret-2025",
    })
    assert response.status_code == 302, response.content.decode()[:2000]
    assert is_signed_in(here), "the session that changed the password stays signed in"
    assert not is_signed_in(elsewhere), "other sessions are revoked"


def test_deactivation_revokes_every_session(citizen, other_citizen):
    first, second, neighbour = Client(), Client(), Client()
    first.force_login(citizen)
    second.force_login(citizen)
    neighbour.force_login(other_citizen)
    count = Session.objects.count()

    citizen.is_active = False
    citizen.save()

    assert Session.objects.count() == count - 2
    assert not is_signed_in(first) and not is_signed_in(second)
    assert is_signed_in(neighbour)


def test_saving_an_inactive_or_active_account_keeps_sessions(citizen):
    client = Client()
    client.force_login(citizen)
    citizen.first_name = "Claire-Anne"
    citizen.save()
    assert is_signed_in(client)


def test_deletion_revokes_sessions(citizen, other_citizen):
    client, neighbour = Client(), Client()
    client.force_login(citizen)
    neighbour.force_login(other_citizen)
    key = client.session.session_key

    citizen.delete()  # e.g. from the admin

    assert not Session.objects.filter(session_key=key).exists()
    assert not is_signed_in(client)
    assert is_signed_in(neighbour)


def test_own_account_deletion_revokes_other_sessions(citizen):
    here, elsewhere = Client(), Client()
    here.force_login(citizen)
    elsewhere.force_login(citizen)
    response = here.post("/fr/compte/supprimer/", {"password": PASSWORD, "confirm": "on"})
    assert response.status_code == 302, response.content.decode()[:3000]
    assert not is_signed_in(elsewhere)
    assert not Session.objects.exists()


# --- 4. Lockout ------------------------------------------------------------------------

@pytest.fixture
def fresh_axes(db):
    from axes.models import AccessAttempt, AccessFailureLog
    from django.core.cache import cache

    AccessAttempt.objects.all().delete()
    AccessFailureLog.objects.all().delete()
    cache.clear()  # allauth's rate limits live in the cache
    yield
    cache.clear()


def test_axes_and_allauth_are_wired():
    assert settings.AUTHENTICATION_BACKENDS[0] == "axes.backends.AxesStandaloneBackend"
    middleware = settings.MIDDLEWARE
    assert middleware.index("axes.middleware.AxesMiddleware") > middleware.index(
        "django.contrib.auth.middleware.AuthenticationMiddleware")


def test_lockout_after_the_failure_limit_even_with_the_right_password(client, citizen,
                                                                      fresh_axes):
    limit = settings.AXES_FAILURE_LIMIT
    for attempt in range(limit - 1):
        response = sign_in(client, citizen.email, "mauvais-mot-de-passe")
        assert response.status_code == 200, attempt
        assert "_auth_user_id" not in client.session
    response = sign_in(client, citizen.email, "mauvais-mot-de-passe")
    assert response.status_code == 429  # the limit-th failure locks

    response = sign_in(client, citizen.email, PASSWORD)
    assert response.status_code == 429
    assert "Too many failed sign-in attempts" in response.content.decode() or \
        "Trop de" in response.content.decode()
    assert "_auth_user_id" not in client.session
    assert not is_signed_in(client)

    # The address in another case is the same account for the count.
    response = sign_in(Client(), citizen.email.upper(), PASSWORD)
    assert response.status_code == 429


def test_lockout_does_not_spill_over_to_other_accounts(client, citizen, other_citizen,
                                                       fresh_axes):
    for _ in range(settings.AXES_FAILURE_LIMIT):
        sign_in(client, citizen.email, "mauvais-mot-de-passe")
    assert sign_in(Client(), other_citizen.email).status_code == 302


def normalise(response) -> str:
    """The page without what legitimately differs: the echoed address, tokens, nonces."""
    text = response.content.decode()
    text = re.sub(r'name="csrfmiddlewaretoken" value="[^"]+"', "", text)
    text = re.sub(r'nonce="[^"]*"', "", text)
    text = re.sub(r'value="[^"]*@[^"]*"', "", text)
    return text


def test_same_answer_for_unknown_account_and_wrong_password(citizen, fresh_axes):
    unknown = sign_in(Client(), "personne@example.com", "mauvais-mot-de-passe")
    wrong = sign_in(Client(), citizen.email, "mauvais-mot-de-passe")
    assert unknown.status_code == wrong.status_code == 200
    assert normalise(unknown) == normalise(wrong)


def test_same_lockout_for_unknown_account_and_existing_one(citizen, fresh_axes):
    unknown_client, known_client = Client(), Client()
    for _ in range(settings.AXES_FAILURE_LIMIT):
        unknown = sign_in(unknown_client, "personne@example.com", "mauvais-mot-de-passe")
        known = sign_in(known_client, citizen.email, "mauvais-mot-de-passe")
        assert unknown.status_code == known.status_code
    assert unknown.status_code == known.status_code == 429
    assert normalise(unknown) == normalise(known)


# --- 5. Open redirect ------------------------------------------------------------------

@pytest.mark.parametrize("target", [
    "https://evil.example/", "//evil.example/", "///evil.example/", "https:evil.example",
    "\\\\evil.example", "/\\evil.example", "http://testserver.evil.example/",
    "javascript:alert(1)",
])
def test_no_open_redirect_through_next(client, citizen, target, fresh_axes):
    response = client.post(f"{LOGIN_URL}?next={target}",
                           {"login": citizen.email, "password": PASSWORD, "next": target})
    assert response.status_code == 302
    location = response.headers["Location"]
    assert location.startswith("/") and not location.startswith(("//", "/\\"))
    assert "evil" not in location
    assert location == reverse("hub:mon_espace")


def test_local_next_is_followed(client, citizen, fresh_axes):
    response = client.post(f"{LOGIN_URL}?next=/fr/compte/profil/",
                           {"login": citizen.email, "password": PASSWORD,
                            "next": "/fr/compte/profil/"})
    assert response.status_code == 302
    assert response.headers["Location"] == "/fr/compte/profil/"


# --- 6. Staff MFA ----------------------------------------------------------------------

def test_production_requires_staff_mfa(production_settings):
    assert production_settings["HUB_REQUIRE_STAFF_MFA"] is True
    assert "hub.middleware.StaffMFARequiredMiddleware" in settings.MIDDLEWARE
    order = settings.MIDDLEWARE
    assert order.index("hub.middleware.StaffMFARequiredMiddleware") > order.index(
        "allauth.account.middleware.AccountMiddleware")


@override_settings(HUB_REQUIRE_STAFF_MFA=True)
@pytest.mark.parametrize("role", ["editor", "administrator", "agent_a"])
def test_staff_without_totp_is_sent_to_activation(db, client, request, role):
    user = request.getfixturevalue(role)
    client.force_login(user)
    response = client.get("/admin/")
    assert response.status_code == 302
    assert response.headers["Location"] == reverse("mfa_activate_totp")
    follow = client.get(response.headers["Location"], follow=True)
    text = follow.content.decode()
    assert "two-factor" in text or "deux facteurs" in text or "double" in text.lower()


def add_totp(user) -> Authenticator:
    return Authenticator.objects.create(user=user, type=Authenticator.Type.TOTP,
                                        data={"secret": "JBSWY3DPEHPK3PXP"})


def record_mfa(client, user, authenticator) -> None:
    """What allauth stores in the session once the TOTP code was accepted."""
    from allauth.account.internal.flows.login import (
        _AUTHENTICATION_METHODS_USER_SESSION_KEY,
        AUTHENTICATION_METHODS_SESSION_KEY,
    )

    session = client.session
    session[_AUTHENTICATION_METHODS_USER_SESSION_KEY] = str(user.pk)
    session[AUTHENTICATION_METHODS_SESSION_KEY] = [
        {"method": "password", "at": 1.0, "email": user.email},
        {"method": "mfa", "at": 2.0, "id": authenticator.pk, "type": "totp"},
    ]
    session.save()


@override_settings(HUB_REQUIRE_STAFF_MFA=True)
def test_staff_with_totp_reaches_the_admin(client, administrator):
    authenticator = add_totp(administrator)
    client.force_login(administrator)
    record_mfa(client, administrator, authenticator)
    assert client.get("/admin/").status_code == 200


@override_settings(HUB_REQUIRE_STAFF_MFA=True)
def test_staff_session_without_second_factor_is_asked_for_a_code(client, administrator):
    """A password-only session (e.g. Wagtail's page-privacy login form) does not open the
    admin, even for an account that has TOTP: allauth asks for the code.  Wagtail's
    /admin/login/ no longer signs anybody in: it redirects to the one sign-in."""
    add_totp(administrator)
    response = client.post("/admin/login/", {"username": administrator.email,
                                             "password": PASSWORD})
    assert response.status_code == 302
    assert "_auth_user_id" not in client.session
    client.post("/fr/_util/login/", {"username": administrator.email, "password": PASSWORD})
    if "_auth_user_id" not in client.session:
        client.force_login(administrator)  # same password-only session, without MFA
    response = client.get("/admin/pages/")
    assert response.status_code == 302
    assert response.headers["Location"] == (
        reverse("mfa_reauthenticate") + "?next=%2Fadmin%2Fpages%2F")


@override_settings(HUB_REQUIRE_STAFF_MFA=True)
def test_staff_sign_in_through_allauth_asks_for_the_totp_code(client, editor, fresh_axes):
    add_totp(editor)
    response = sign_in(client, editor.email)
    assert response.status_code == 302
    assert response.headers["Location"] == reverse("mfa_authenticate")
    assert client.get("/admin/").status_code == 302
    assert "_auth_user_id" not in client.session


@override_settings(HUB_REQUIRE_STAFF_MFA=True)
def test_mfa_rule_leaves_citizens_and_public_pages_alone(client, citizen, administrator):
    client.force_login(citizen)
    assert client.get("/admin/").status_code == 302
    assert client.get("/admin/").headers["Location"] != reverse("mfa_activate_totp")
    client.force_login(administrator)
    assert client.get("/fr/mon-espace/").status_code == 200


@override_settings(HUB_REQUIRE_STAFF_MFA=False)
def test_without_the_setting_staff_reach_the_admin(client, administrator):
    client.force_login(administrator)
    assert client.get("/admin/").status_code == 200


# --- 7. check --deploy -----------------------------------------------------------------

def test_check_deploy_passes_on_production_settings():
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT, env=production_env(), capture_output=True, text=True, timeout=180,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout
