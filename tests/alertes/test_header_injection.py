"""CR/LF in alert titles and notice subjects (issue 12, item 14): the admin refuses a
title with a line break; whatever a title or subject holds, the email's Subject is one
line and no header can be injected (checked on the bytes a real SMTP server received)."""

from __future__ import annotations

from email import message_from_bytes, policy

import pytest

from hub.models import NoticeLog
from hub.notice_delivery import compose
from modules.alertes import services
from modules.alertes.models import Alert

from .conftest import make_subscriber

pytestmark = pytest.mark.django_db

INJECTIONS = ["Fuite de gaz\r\nBcc: victime@example.com",
              "Fuite de gaz\nBcc: victime@example.com",
              "Fuite de gaz\rBcc: victime@example.com",
              "Fuite de gaz\u2028Bcc: victime@example.com"]

FORM = {"severity": "notice", "body_fr": "Demain.", "sms_fr": "Collecte demain",
        "title_en": "", "body_en": "", "sms_en": "", "push_fr": "", "push_en": "",
        "voice_fr": "", "voice_en": "", "channels": ["email"]}


@pytest.mark.parametrize("title", INJECTIONS)
@pytest.mark.parametrize("field", ["title_fr", "title_en"])
def test_admin_refuses_a_title_with_a_line_break(client, officer, topics, field, title):
    client.force_login(officer)
    data = {**FORM, "title_fr": "Collecte reportée", "topics": [topics["loisirs"].pk],
            field: title}
    response = client.post("/admin/snippets/alertes/alert/add/", data)
    assert response.status_code == 200  # the form again, with the error
    assert "Un titre tient sur une ligne" in response.content.decode()
    assert not Alert.objects.exists()


def one_header(raw: bytes, name: str) -> list[str]:
    return message_from_bytes(raw, policy=policy.default).get_all(name) or []


@pytest.mark.parametrize("title", INJECTIONS)
def test_an_alert_email_subject_is_one_line(smtp, officer, topics, title,
                                            django_capture_on_commit_callbacks):
    """A title saved with a line break (older data, an import, the shell) still sends:
    one Subject line, no Bcc, the subscriber the only recipient."""
    make_subscriber(email="r@example.com", topics=[topics["urgences"]])
    alert = Alert.objects.create(title_fr=title, body_fr="Évacuez.", severity="emergency",
                                 sms_fr="Fuite", channels=["email"], created_by=officer)
    alert.topics.set([topics["urgences"]])
    with django_capture_on_commit_callbacks(execute=True):
        services.send(alert, officer)
    assert alert.deliveries.get().status == "sent", alert.deliveries.get().__dict__
    (envelope,) = smtp.messages
    assert envelope.rcpt_tos == ["r@example.com"]
    raw = envelope.original_content
    assert one_header(raw, "Bcc") == []
    (subject,) = one_header(raw, "Subject")
    assert "\n" not in subject and "\r" not in subject
    assert subject == "Fuite de gaz Bcc: victime@example.com"


@pytest.mark.parametrize("subject", INJECTIONS)
def test_a_notice_email_subject_is_one_line(subject):
    log = NoticeLog(dedupe_key="x", email="r@example.com", subject=subject, body="Bonjour",
                    language="fr")
    raw = compose(log).message().as_bytes()
    assert one_header(raw, "Bcc") == []
    (line,) = one_header(raw, "Subject")
    assert line == "Fuite de gaz Bcc: victime@example.com"
