"""The `make run` console (issue 13): the worker is quiet at the default level, and an
email's verification link stands out, whole, in a banner (hub/mail.py)."""

import io
import logging
import os
import subprocess
import sys

import pytest
from django.core.mail import EmailMessage

from hub import mail
from hub import tasks as hub_tasks

LINK = ("http://127.0.0.1:8000/fr/compte/confirm-email/"
        "MQ:1vRrXy:Zx0aJk3hS9yq2f7V1mWb8cT4uE6pN5rL0oIiKkHhGgFfDdSsAa/")


def test_the_verification_link_stands_out_whole_in_the_console():
    stream = io.StringIO()
    backend = mail.ConsoleEmailBackend(stream=stream)
    # Quoted-printable (an accented body) cuts a long link with "=" in the raw message.
    body = f"Bonjour Élodie,\n\nPour confirmer votre adresse, ouvrez ce lien : {LINK}\n"
    backend.send_messages([EmailMessage("[Espace citoyen] Confirmez votre adresse courriel",
                                        body, "ville@example.com", ["elodie@example.com"])])
    printed = stream.getvalue()
    first = printed.splitlines()[:4]
    assert first[0] == mail.RULE and first[3] == mail.RULE
    assert first[1] == ("  COURRIEL à elodie@example.com : [Espace citoyen] Confirmez "
                        "votre adresse courriel")
    assert first[2] == f"  >>> LIEN À OUVRIR : {LINK}"
    assert "Subject:" in printed  # the message itself follows, as Django prints it


def test_any_other_email_is_one_line():
    stream = io.StringIO()
    backend = mail.ConsoleEmailBackend(stream=stream)
    backend.send_messages([EmailMessage("Avis d'ébullition", "Faites bouillir l'eau.\n"
                                        "Lire en ligne : http://127.0.0.1:8000/fr/alertes/3/",
                                        "ville@example.com", ["a@example.com"])])
    assert stream.getvalue().splitlines() == ["COURRIEL à a@example.com : Avis d'ébullition"]


def test_links_to_open_are_the_verification_and_reset_links_only():
    text = ("Votre requête : http://127.0.0.1:8000/fr/requetes/2026-000001/\n"
            "Confirmer : http://127.0.0.1:8000/fr/alertes/abonnement/courriel/abc.def/\n"
            "Mot de passe : http://127.0.0.1:8000/fr/compte/password/reset/key/1-set/\n"
            "Confirmer : http://127.0.0.1:8000/fr/alertes/abonnement/courriel/abc.def/")
    assert mail.action_links(text) == [
        "http://127.0.0.1:8000/fr/alertes/abonnement/courriel/abc.def/",
        "http://127.0.0.1:8000/fr/compte/password/reset/key/1-set/"]


def test_development_settings_print_emails_with_the_banner():
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "hub.settings"}
    env.pop("EMAIL_URL", None)
    env.pop("DEBUG", None)
    result = subprocess.run(
        [sys.executable, "-c", "import django; django.setup(); from django.conf import "
         "settings; print(settings.EMAIL_BACKEND)"],
        env=env, capture_output=True, text=True, timeout=120)
    assert result.stdout.strip() == "hub.mail.ConsoleEmailBackend", result.stderr


@pytest.fixture
def task_lines():
    handler_stream = io.StringIO()
    handler = logging.StreamHandler(handler_stream)
    handler.setLevel(logging.INFO)  # the default LOG_LEVEL
    logger = logging.getLogger("hub.tasks")
    old_level = logger.level
    logger.addHandler(handler)
    logger.setLevel(logging.DEBUG)
    yield lambda: [line for line in handler_stream.getvalue().splitlines()
                   if line.startswith("task=")]
    logger.removeHandler(handler)
    logger.setLevel(old_level)


@pytest.mark.django_db
def test_a_successful_task_is_a_debug_line_in_development_only(task_lines, settings):
    settings.DEBUG = True
    hub_tasks.record_heartbeat.enqueue("console-test")
    assert task_lines() == []  # make run: quiet at the default level
    settings.DEBUG = False
    result = hub_tasks.record_heartbeat.enqueue("console-test")
    assert [line for line in task_lines() if f"id={result.id}" in line]  # production


def test_the_worker_drops_its_own_task_lines_at_the_default_verbosity():
    from django_tasks_db.compat import TASKS_LOGGER

    from hub.management.commands.db_worker import Command

    tasks_logger, worker_logger = logging.getLogger(TASKS_LOGGER), logging.getLogger(
        "django_tasks_db")
    saved = tasks_logger.level, worker_logger.level
    try:
        command = Command(stdout=io.StringIO())
        command.configure_logging(1)
        assert tasks_logger.level == worker_logger.level == logging.WARNING
        assert "only warnings and failures" in command.stdout._out.getvalue()
        command.configure_logging(2)
        assert tasks_logger.level == worker_logger.level == logging.DEBUG
    finally:
        tasks_logger.setLevel(saved[0])
        worker_logger.setLevel(saved[1])
