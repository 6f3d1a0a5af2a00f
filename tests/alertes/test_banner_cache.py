"""The emergency banner does not wait for the public page cache (nor the short cache of
``hub_banners`` results) to expire: sending, correcting or cancelling an alert makes
cached public pages stale at once."""

from __future__ import annotations

import pytest

from .test_public import published_alert


@pytest.fixture(autouse=True)
def banners_cached(cached, settings):
    settings.HUB_FRAGMENT_CACHE_SECONDS = 60  # the banner results are cached too


def test_an_emergency_shows_on_cached_pages_at_once(client, cached, officer, topics):
    before = client.get("/fr/")
    assert client.get("/fr/")["X-Hub-Cache"] == "hit"
    assert "Fuite de gaz" not in before.content.decode()
    published_alert(officer, topics, severity="emergency", title_fr="Fuite de gaz")
    after = client.get("/fr/")
    assert after["X-Hub-Cache"] == "miss"
    assert "Fuite de gaz" in after.content.decode()


def test_a_signed_in_resident_sees_a_new_emergency_at_once(client, officer, topics,
                                                          django_user_model):
    """Signed-in pages share the banners' short cache: sending still shows at once."""
    resident = django_user_model.objects.create_user(email="banniere@example.com",
                                                     password=None)
    client.force_login(resident)
    assert "Fuite de gaz" not in client.get("/fr/mon-espace/").content.decode()
    published_alert(officer, topics, severity="emergency", title_fr="Fuite de gaz")
    assert "Fuite de gaz" in client.get("/fr/mon-espace/").content.decode()


def test_a_draft_saved_does_not_empty_the_cache(client, cached, officer, topics):
    from modules.alertes.models import Alert

    client.get("/fr/")
    draft = Alert.objects.create(title_fr="Brouillon", body_fr="…", created_by=officer)
    draft.title_fr = "Brouillon modifié"
    draft.save(update_fields=["title_fr"])
    assert client.get("/fr/")["X-Hub-Cache"] == "hit"
