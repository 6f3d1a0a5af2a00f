"""Surge-proof public pages: anonymous GETs cached, never for signed-in users or
personal data, invalidated when content changes."""

from django.test import override_settings
from wagtail.models import Site

from hub.cache import invalidate_public_cache
from hub.models import HomePage, SiteSettings


def test_anonymous_home_page_is_cached_and_public(client, cached):
    first = client.get("/fr/")
    assert first["X-Hub-Cache"] == "miss"
    assert "public" in first["Cache-Control"] and "max-age=60" in first["Cache-Control"]
    assert "Cookie" in first["Vary"] and "Accept-Language" in first["Vary"]
    second = client.get("/fr/")
    assert second["X-Hub-Cache"] == "hit"
    assert second.content == first.content
    # the page's CSP nonce and its header stay consistent in the cached copy
    assert second["Content-Security-Policy"] == first["Content-Security-Policy"]


def test_public_api_is_cached(client, cached):
    client.get("/api/v1/modules/")
    assert client.get("/api/v1/modules/")["X-Hub-Cache"] == "hit"


def test_a_hit_answers_the_same_bytes_and_headers_as_the_miss(client, cached):
    """The cache keeps the rendered response only (not the API's data nor a page's
    context): what a hit sends must still be byte for byte what the miss sent."""
    for path in ("/api/v1/modules/", "/fr/"):
        miss = client.get(path)
        hit = client.get(path)
        assert (miss["X-Hub-Cache"], hit["X-Hub-Cache"]) == ("miss", "hit")
        assert hit.content == miss.content and hit.status_code == 200
        headers = {k: v for k, v in miss.items() if k != "X-Hub-Cache"}
        assert {k: v for k, v in hit.items() if k != "X-Hub-Cache"} == headers
        assert not hasattr(hit, "data") and not hasattr(hit, "context_data")


def test_languages_and_query_strings_have_their_own_entries(client, cached):
    client.get("/fr/")
    assert client.get("/en/")["X-Hub-Cache"] == "miss"
    client.get("/fr/recherche/?q=neige")
    assert client.get("/fr/recherche/?q=pluie")["X-Hub-Cache"] == "miss"


def test_signed_in_visitors_are_never_served_or_stored(client, cached, citizen):
    client.get("/fr/")  # stored for anonymous visitors
    client.force_login(citizen)
    response = client.get("/fr/")
    assert "X-Hub-Cache" not in response
    assert "private" in response["Cache-Control"]
    assert "Se déconnecter" in response.content.decode()  # their own header, not the cache


def test_private_pages_and_cookie_setting_responses_are_not_cached(client, cached, citizen):
    login = client.get("/fr/compte/login/")
    assert "X-Hub-Cache" not in login  # sets a CSRF cookie: never shared
    client.force_login(citizen)
    assert "X-Hub-Cache" not in client.get("/fr/mon-espace/")
    assert "X-Hub-Cache" not in client.get("/api/v1/me/")


def test_a_request_with_a_token_is_not_served_from_cache(client, cached):
    client.get("/api/v1/modules/")
    response = client.get("/api/v1/modules/", HTTP_AUTHORIZATION="Token nope")
    assert "X-Hub-Cache" not in response


def test_publishing_a_page_invalidates(client, cached):
    client.get("/fr/")
    home = HomePage.objects.get(locale__language_code="fr")
    home.title = "Accueil renouvelé"
    home.save_revision().publish()
    response = client.get("/fr/")
    assert response["X-Hub-Cache"] == "miss"
    assert "Accueil renouvelé" in response.content.decode()


def test_saving_city_settings_invalidates(client, cached):
    client.get("/fr/")
    settings_obj = SiteSettings.for_site(Site.objects.get(is_default_site=True))
    settings_obj.emergency_banner_fr = "Fermeture complète du pont Salaberry"
    settings_obj.save()
    assert "Fermeture complète du pont Salaberry" in client.get("/fr/").content.decode()


def test_modules_can_invalidate(client, cached):
    client.get("/fr/")
    invalidate_public_cache()
    assert client.get("/fr/")["X-Hub-Cache"] == "miss"


def test_disabling_a_module_invalidates(client, cached):
    assert "Tuile jetable" in client.get("/fr/").content.decode()
    with override_settings(HUB_DISABLED_MODULES=["throwaway"]):
        assert "Tuile jetable" not in client.get("/fr/").content.decode()


def test_post_is_never_cached(client, cached):
    assert "X-Hub-Cache" not in client.post("/api/v1/modules/")


def test_not_found_is_not_cached(client, cached):
    client.get("/fr/nulle-part/")
    assert "X-Hub-Cache" not in client.get("/fr/nulle-part/")
