"""The admin: officers write, approve, send; others cannot."""

from django.utils import timezone

from modules.alertes.models import Alert, Delivery

from .conftest import make_subscriber


def make_draft(officer, topics, severity="emergency", **extra):
    alert = Alert.objects.create(title_fr="Fuite de gaz", body_fr="Évacuez.", severity=severity,
                                 sms_fr="Fuite de gaz: evacuez", channels=["email"],
                                 created_by=officer, **extra)
    alert.topics.set([topics["deneigement"]])
    return alert


def test_officer_sends_an_emergency_from_the_report(client, officer, topics,
                                                    django_capture_on_commit_callbacks):
    make_subscriber(email="r@example.com", topics=[topics["deneigement"]])
    alert = make_draft(officer, topics)
    client.force_login(officer)
    assert client.get("/admin/alertes/envois/").status_code == 200
    page = client.get(f"/admin/alertes/{alert.pk}/rapport/")
    assert page.status_code == 200
    assert "1 adresse" in page.content.decode()
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(f"/admin/alertes/{alert.pk}/action/", {"action": "send"})
    assert response.status_code == 302
    alert.refresh_from_db()
    assert alert.status == "sent" and alert.sent_by == officer
    assert Delivery.objects.get().status == "sent"
    page = client.get(f"/admin/alertes/{alert.pk}/rapport/").content.decode()
    assert "r@example.com" not in page  # the report counts, it does not list addresses


def test_non_officers_cannot_send(client, citizen, agent_a, editor, officer, topics):
    make_subscriber(email="r@example.com", topics=[topics["deneigement"]])
    alert = make_draft(officer, topics)
    for user in (agent_a, editor):
        client.force_login(user)
        client.post(f"/admin/alertes/{alert.pk}/action/", {"action": "send"})
        assert client.get(f"/admin/alertes/{alert.pk}/rapport/").status_code == 302
    client.force_login(citizen)
    response = client.post(f"/admin/alertes/{alert.pk}/action/", {"action": "send"})
    assert response.status_code == 302 and "login" in response["Location"]
    alert.refresh_from_db()
    assert alert.status == "draft" and not Delivery.objects.exists()


def test_empty_audience_warning_from_the_admin(client, officer, topics):
    alert = make_draft(officer, topics)
    client.force_login(officer)
    response = client.post(f"/admin/alertes/{alert.pk}/action/", {"action": "send"},
                           follow=True)
    assert response.status_code == 200
    alert.refresh_from_db()
    assert alert.status == "draft" and not Delivery.objects.exists()


def test_officer_writes_an_alert_in_the_admin(client, officer, topics):
    client.force_login(officer)
    assert client.get("/admin/snippets/alertes/alert/").status_code == 200
    assert client.get("/admin/snippets/alertes/alert/add/").status_code == 200
    response = client.post("/admin/snippets/alertes/alert/add/", {
        "severity": "notice", "title_fr": "Collecte reportée", "body_fr": "Demain.",
        "sms_fr": "ê" * 700, "title_en": "", "body_en": "", "sms_en": "", "push_fr": "",
        "push_en": "", "voice_fr": "", "voice_en": "", "topics": [topics["loisirs"].pk],
        "channels": ["email", "sms"]})
    assert response.status_code == 200 and not Alert.objects.exists()  # 11 segments
    response = client.post("/admin/snippets/alertes/alert/add/", {
        "severity": "notice", "title_fr": "Collecte reportée", "body_fr": "Demain.",
        "sms_fr": "Collecte demain", "title_en": "", "body_en": "", "sms_en": "",
        "push_fr": "", "push_en": "", "voice_fr": "", "voice_en": "",
        "topics": [topics["loisirs"].pk], "channels": ["email", "sms"]})
    assert response.status_code == 302
    alert = Alert.objects.get()
    assert alert.created_by == officer and alert.channels == ["email", "sms"]
    assert alert.status == "draft" and alert.sent_at is None
    alert.status = "sent"
    alert.sent_at = timezone.now()
    alert.save()
