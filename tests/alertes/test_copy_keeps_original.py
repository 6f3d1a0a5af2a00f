"""Copying an alert in the admin creates a new draft; the original is left as it was
(found by tests/test_csrf.py: the copy's POST saved over the original)."""

import pytest

from modules.alertes.models import Alert

pytestmark = pytest.mark.django_db

FORM = {"severity": "emergency", "title_fr": "Copie", "body_fr": "x", "sms_fr": "",
        "title_en": "", "body_en": "", "sms_en": "", "push_fr": "", "push_en": "",
        "voice_fr": "", "voice_en": "", "channels": ["email"]}


def test_copy_creates_a_new_alert(client, officer, topics):
    original = Alert.objects.create(title_fr="Fuite de gaz", body_fr="Évacuez.",
                                    severity="emergency", channels=["email"],
                                    created_by=officer)
    original.topics.set([topics["urgences"]])
    client.force_login(officer)
    page = client.get(f"/admin/snippets/alertes/alert/copy/{original.pk}/")
    assert page.status_code == 200
    form = page.context["form"]
    assert form.initial["title_fr"] == "Fuite de gaz"
    assert list(form.initial["topics"]) == [topics["urgences"]]
    response = client.post(f"/admin/snippets/alertes/alert/copy/{original.pk}/", FORM)
    assert response.status_code == 302, response.content.decode()[:3000]
    original.refresh_from_db()
    assert original.title_fr == "Fuite de gaz"
    assert Alert.objects.count() == 2
    assert Alert.objects.exclude(pk=original.pk).get().title_fr == "Copie"
