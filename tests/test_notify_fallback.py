"""The hub's email fallback for ``hub_notify`` (hub.notice_email): with alertes switched
off at run time, a notice reaches the person as one plain email over real SMTP (the local
aiosmtpd server), once per ``dedupe_key``, from a task; with alertes on, the hub sends
nothing itself (never both)."""

import logging
from email import message_from_bytes
from email.header import decode_header, make_header

import pytest
from django.core.management import call_command
from django.db import transaction
from django.test import override_settings

from hub.models import NoticeLog
from hub.notify import Notice, Recipient, deliver_notice, notify
from tests.alertes.conftest import smtp  # noqa: F401  (the aiosmtpd server fixture)
from tests.conftest import make_user

pytestmark = pytest.mark.django_db

DB_TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend", "QUEUES": ["default"]}}


@pytest.fixture
def alertes_off(settings):
    settings.HUB_DISABLED_MODULES = ["alertes"]


def _notice(recipient, key="test:event:1", **extra):
    with_language = {"fr": ("Votre requête a été reçue", "Nous avons reçu votre requête."),
                     "en": ("Your request was received", "We received your request.")}
    subject, body = with_language[recipient.language]
    return Notice(recipient=recipient, topic="requests", subject=subject, body=body,
                  url="https://ville.example/fr/requetes/R-1/", dedupe_key=key,
                  source="requetes", **extra)


def _parsed(envelope):
    message = message_from_bytes(envelope.content)
    subject = str(make_header(decode_header(message["Subject"])))
    part = next(part for part in message.walk() if part.get_content_type() == "text/plain")
    return message, subject, part.get_payload(decode=True).decode(
        part.get_content_charset() or "utf-8")


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_one_plain_email_after_commit_and_never_twice(smtp, alertes_off, settings):  # noqa: F811
    settings.DEFAULT_FROM_EMAIL = "Ville de Valleyfield <no-reply@ville.example>"
    citizen = make_user("claire@example.com", preferred_language="fr")
    notice = _notice(Recipient.for_user(citizen))
    with transaction.atomic():
        notify(notice)
        assert smtp.messages == []  # nothing before the commit
        assert not NoticeLog.objects.exists()
    assert len(smtp.messages) == 1
    envelope = smtp.messages[0]
    assert envelope.rcpt_tos == ["claire@example.com"]
    assert envelope.mail_from == "no-reply@ville.example"
    message, subject, body = _parsed(envelope)
    assert subject == "Votre requête a été reçue"
    assert "Nous avons reçu votre requête." in body
    assert "Détails\u00a0: https://ville.example/fr/requetes/R-1/" in body
    assert message["Content-Language"] == "fr"
    log = NoticeLog.objects.get()
    assert (log.state, log.user_id, log.email) == ("sent", citizen.pk, "claire@example.com")

    with transaction.atomic():  # the same change saved again
        notify(notice)
    assert len(smtp.messages) == 1
    assert NoticeLog.objects.count() == 1


def test_contact_without_account_gets_the_email_in_their_language(
        smtp, alertes_off, django_capture_on_commit_callbacks):  # noqa: F811
    contact = Recipient(email="caller@example.com", language="en")
    with django_capture_on_commit_callbacks(execute=True):
        notify(_notice(contact, key="test:event:2"))
    assert len(smtp.messages) == 1
    _message, subject, body = _parsed(smtp.messages[0])
    assert subject == "Your request was received"
    assert "Details: https://ville.example/fr/requetes/R-1/" in body
    assert "Espace citoyen: this message was sent to you" in body


def test_phone_only_contact_is_logged_not_reachable_with_a_warning(
        smtp, alertes_off, caplog, django_capture_on_commit_callbacks):  # noqa: F811
    contact = Recipient(phone="+14505550123", language="fr")
    with caplog.at_level(logging.WARNING, logger="hub.notice_email"), \
            django_capture_on_commit_callbacks(execute=True):
        notify(_notice(contact, key="test:event:3"))
    assert smtp.messages == []
    log = NoticeLog.objects.get(dedupe_key="test:event:3")
    assert log.state == "unreachable" and log.email == ""
    assert "no email address" in log.error
    assert "test:event:3" in caplog.text and "text messages" in caplog.text
    assert deliver_notice(_notice(contact, key="test:event:3")) is False


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_the_email_leaves_from_a_task_not_the_request(smtp, alertes_off):  # noqa: F811
    """With the database task backend the notice only queues a task: SMTP is spoken by
    the worker (``manage.py db_worker``), never inside the sender's request."""
    from django_tasks_db.models import DBTaskResult

    citizen = make_user("marc@example.com")
    with override_settings(TASKS=DB_TASKS):
        with transaction.atomic():
            notify(_notice(Recipient.for_user(citizen), key="test:event:4"))
        assert smtp.messages == []
        assert NoticeLog.objects.get().state == "pending"
        assert DBTaskResult.objects.filter(task_path="hub.tasks.send_notice_email").count() == 1
        call_command("db_worker", "--batch", "--no-startup-delay", "--no-reload")
    assert len(smtp.messages) == 1
    assert NoticeLog.objects.get().state == "sent"


def test_smtp_refusal_is_kept_as_failed_not_raised(alertes_off, settings, caplog,
                                                   django_capture_on_commit_callbacks):
    """A down SMTP server never breaks the sender: the row says why."""
    from tests.alertes.conftest import free_port

    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", free_port()  # nobody listens
    settings.EMAIL_TIMEOUT = 2
    with caplog.at_level(logging.ERROR), django_capture_on_commit_callbacks(execute=True):
        notify(_notice(Recipient(email="x@example.com"), key="test:event:5"))
    log = NoticeLog.objects.get(dedupe_key="test:event:5")
    assert log.state == "failed" and "Connection" in log.error


def test_hook_hub_notify(
        smtp, settings, django_capture_on_commit_callbacks):  # noqa: F811
    """alertes implements hub_notify: it takes the notice (its outbox, its channels) and
    the hub's fallback writes nothing and sends nothing."""
    from hub.plugins.manager import hooks

    settings.HUB_DISABLED_MODULES = []
    assert [impl.plugin_name for impl in hooks().hub_notify.get_hookimpls()] == ["alertes"]
    citizen = make_user("lea@example.com")
    with django_capture_on_commit_callbacks(execute=True):
        notify(_notice(Recipient.for_user(citizen), key="test:event:6"))
    assert not NoticeLog.objects.exists()
    assert len(smtp.messages) == 1  # alertes' email, from its outbox; none from the hub
    assert "Détails\u00a0:" not in _parsed(smtp.messages[0])[2]
