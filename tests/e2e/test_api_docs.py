"""``/api/docs/`` in Debian's Chromium (issue 13, mobile developers): the page explains how
an app signs in, and its "Authorize" button really signs in with the authorization code
flow and PKCE through the hub's provider — a public client whose redirect URI is the docs'
own ``oauth2-redirect.html``, the consent screen in a popup, the code exchanged by Swagger
UI — after which a call to ``/api/v1/me/`` carries the bearer token.  Every asset is local
and the page's Content Security Policy lets all of it through (no violation logged)."""

import re

import pytest

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True, serialized_rollback=True)]

EMAIL = "marc.leduc@example.com"
PASSWORD = "Un-mot-de-passe-solide-2024"


def test_docs_explain_sign_in_and_authorize_signs_in_with_pkce(context, page, demo_site):
    from oauth2_provider.models import get_access_token_model, get_application_model
    from playwright.sync_api import expect

    from tests.conftest import make_user

    resident = make_user(EMAIL, password=PASSWORD, first_name="Marc", last_name="Leduc")
    application = get_application_model().objects.create(
        name="Documentation de l'API", client_type="public",
        authorization_grant_type="authorization-code", algorithm="RS256",
        redirect_uris=f"{demo_site.url}/api/docs/oauth2-redirect.html")

    violations, remote = [], []
    context.on("console", lambda message: violations.append(message.text)
               if "Content Security Policy" in message.text else None)
    context.on("request", lambda request: remote.append(request.url)
               if not request.url.startswith((demo_site.url, "data:", "blob:")) else None)

    # Signed in to the portal first (the popup shares the browser's session).
    page.goto("/fr/compte/login/")
    page.locator("input[name=login]").fill(EMAIL)
    page.locator("input[name=password]").fill(PASSWORD)
    page.locator("form.form button[type=submit]").click()
    expect(page).not_to_have_url(re.compile(r"/compte/login/"))

    # The docs: the step-by-step sign-in explanation, in French, at the top.
    page.goto("/api/docs/")
    info = page.locator(".information-container")
    expect(info.get_by_role("heading", name="Se connecter depuis une application, "
                                            "étape par étape")).to_be_visible()
    expect(info).to_contain_text("code_challenge_method=S256")
    expect(info).to_contain_text("grant_type=refresh_token")
    expect(info.locator("table")).to_contain_text("requetes:read")

    # "Authorize": the oauth2 scheme with its authorizationCode flow and its URLs.
    page.locator(".auth-wrapper button.authorize").click()
    dialog = page.locator(".dialog-ux .modal-ux")
    expect(dialog).not_to_contain_text("tokenAuth")
    oauth = dialog.locator(".auth-container", has_text="OAuth2")
    expect(oauth).to_contain_text("oauth2 (OAuth2, authorizationCode with PKCE)")
    expect(oauth).to_contain_text("Authorization URL: /o/authorize/")
    expect(oauth).to_contain_text("Token URL: /o/token/")
    expect(oauth).to_contain_text("Consulter vos requêtes")  # the scopes, in French
    oauth.locator("input[id^=client_id]").fill(application.client_id)
    oauth.get_by_text("select all").click()
    with context.expect_page() as opened:
        oauth.locator("button.modal-btn.authorize").click()
    popup = opened.value
    # The hub's consent screen, in the popup, for the docs' client.
    expect(popup).to_have_url(re.compile(r"/o/authorize/\?.*code_challenge_method=S256"))
    popup.get_by_role("button", name="Accepter").click()
    # The redirect page closes the popup itself, sometimes before click() returns: the
    # close event is then already handled and waiting for it would wait forever.
    if not popup.is_closed():
        popup.wait_for_event("close")

    # Back in the docs: signed in ("Logout" offered), a token was issued for the resident.
    expect(oauth.locator("button", has_text="Logout")).to_be_visible()
    token = get_access_token_model().objects.get(user=resident, application=application)
    assert "requetes:read" in token.scope.split()
    access = page.evaluate(
        "() => ui.authSelectors.authorized().toJS().oauth2.token.access_token")
    assert access
    me = page.evaluate("""async (token) => {
        const answer = await fetch('/api/v1/me/', {headers: {Authorization: 'Bearer ' + token},
                                                   credentials: 'omit'});
        return [answer.status, await answer.json()];
    }""", access)
    assert me[0] == 200 and me[1]["email"] == EMAIL
    assert violations == []
    assert remote == []
