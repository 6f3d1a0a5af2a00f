"""The API: public alerts and topics, the citizen's own subscription."""

from django.utils import timezone

from modules.alertes import services
from modules.alertes.models import Alert


def test_public_alerts_and_topics(client, topics):
    alert = Alert.objects.create(title_fr="Avis", title_en="Notice", body_fr="x",
                                 status="sent", sent_at=timezone.now())
    Alert.objects.create(title_fr="Brouillon", body_fr="x")
    data = client.get("/api/v1/alerts/?active=1", HTTP_ACCEPT_LANGUAGE="en").json()
    rows = data["results"] if isinstance(data, dict) else data
    assert [row["id"] for row in rows] == [alert.pk] and rows[0]["active"] is True
    assert client.get(f"/api/v1/alerts/{alert.pk}/").json()["status"] == "sent"
    draft = Alert.objects.get(title_fr="Brouillon")
    assert client.get(f"/api/v1/alerts/{draft.pk}/").status_code == 404
    topics_data = client.get("/api/v1/alert-topics/").json()
    rows = topics_data["results"] if isinstance(topics_data, dict) else topics_data
    assert {row["slug"] for row in rows} >= {"urgences", "deneigement"}


def test_my_subscription_is_mine_only(client, citizen, other_citizen, topics):
    assert client.get("/api/v1/alert-subscription/").status_code == 401
    subscriber = services.subscriber_for(citizen)
    subscriber.addresses.create(channel="email", value="claire@example.com")
    client.force_login(citizen)
    data = client.get("/api/v1/alert-subscription/").json()
    assert data["addresses"][0]["address"] == "claire@example.com"
    client.force_login(other_citizen)
    assert "claire@example.com" not in client.get("/api/v1/alert-subscription/").content.decode()
