"""Account emails (address confirmation, password reset…) leave through a task, so a
mail server that is down or slow never turns sign-up or a password reset into a 500
after the account was written.

``queue(message)`` hands the rendered message to :func:`send_account_email`;
the task sends it and, when the server refuses the connection or answers a temporary
error, enqueues itself again after a growing delay (``HUB_EMAIL_RETRY_DELAY`` seconds,
doubled each time, at most an hour), ``HUB_EMAIL_RETRY_ATTEMPTS`` times in all (default
8: about four hours).  A message is sent at most once per successful attempt: a task is
retried only when the server did not accept it.

If the task queue itself cannot be reached (Redis down), the message is sent at once
instead; if that fails too, the visitor is told to try again in a few minutes (the
account stays as it is: they can ask for a new confirmation or reset email).
"""

from __future__ import annotations

import logging
import smtplib
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.core.mail import EmailMultiAlternatives, get_connection
from django.utils import timezone
from django.utils.translation import gettext as _
from django_tasks import task

logger = logging.getLogger(__name__)



def temporary(error: BaseException) -> bool:
    """Whether trying again later may work: the server could not be reached or hung up
    (``OSError``: refused, timed out, disconnected), or answered 4xx.  A 5xx (the address
    refused for good) is not retried."""
    if isinstance(error, smtplib.SMTPRecipientsRefused):
        return all(400 <= code < 500 for code, _text in error.recipients.values())
    if isinstance(error, smtplib.SMTPResponseException):
        return 400 <= error.smtp_code < 500
    return isinstance(error, OSError)


def serialize(message) -> dict[str, Any]:
    """A rendered ``EmailMessage`` as plain data (task arguments are JSON)."""
    return {
        "subject": str(message.subject), "body": str(message.body),
        "from_email": message.from_email, "to": list(message.to), "cc": list(message.cc),
        "bcc": list(message.bcc), "reply_to": list(message.reply_to),
        "headers": {str(k): str(v) for k, v in (message.extra_headers or {}).items()},
        "alternatives": [[str(content), mimetype] for content, mimetype in
                         getattr(message, "alternatives", [])],
        "content_subtype": getattr(message, "content_subtype", "plain"),
    }


def build(data: dict[str, Any]) -> EmailMultiAlternatives:
    message = EmailMultiAlternatives(
        subject=data["subject"], body=data["body"], from_email=data["from_email"],
        to=data["to"], cc=data.get("cc") or None, bcc=data.get("bcc") or None,
        reply_to=data.get("reply_to") or None, headers=data.get("headers") or None,
        connection=get_connection(fail_silently=False))
    for content, mimetype in data.get("alternatives", []):
        message.attach_alternative(content, mimetype)
    message.content_subtype = data.get("content_subtype", "plain")
    return message


def retry_delay(attempt: int) -> timedelta:
    base = float(getattr(settings, "HUB_EMAIL_RETRY_DELAY", 60))
    return timedelta(seconds=min(base * 2 ** (attempt - 1), 3600))


def max_attempts() -> int:
    return int(getattr(settings, "HUB_EMAIL_RETRY_ATTEMPTS", 8))


def send(data: dict[str, Any], attempt: int) -> str:
    """The task's body: send, or schedule the next attempt.  Returns what happened."""
    from django_tasks import DEFAULT_TASK_BACKEND_ALIAS, task_backends


    recipients = ", ".join(data["to"])
    try:
        build(data).send()
    except Exception as error:
        backend = task_backends[DEFAULT_TASK_BACKEND_ALIAS]
        if not temporary(error) or attempt >= max_attempts() or not backend.supports_defer:
            logger.error("Account email to %s not sent after %s attempts: %s", recipients,
                         attempt, type(error).__name__)
            raise
        when = timezone.now() + retry_delay(attempt)
        send_account_email.using(run_after=when).enqueue(data, attempt + 1)
        logger.warning("Account email to %s not sent (%s): attempt %s at %s", recipients,
                       type(error).__name__, attempt + 1, when.isoformat())
        return "retry"
    logger.info("Account email sent to %s (attempt %s)", recipients, attempt)
    return "sent"


@task()
def send_account_email(message: dict, attempt: int = 1) -> str:
    """Send an account email (confirmation, password reset) rendered by allauth; tried
    again later while the mail server is down."""
    return send(message, attempt)


def queue(message, request=None) -> bool:
    """Hand ``message`` to the task queue; True when it is queued or sent."""

    data = serialize(message)
    try:
        send_account_email.enqueue(data, 1)
        return True
    except Exception:
        logger.warning("Task queue unreachable: the account email is sent at once",
                       exc_info=True)
    try:
        build(data).send()
        return True
    except Exception:
        logger.exception("Account email to %s could not be sent nor queued",
                         ", ".join(data["to"]))
    if request is not None and hasattr(request, "_messages"):
        messages.error(request, _("We could not send you the email right now. Please "
                                  "ask for it again in a few minutes."))
    return False
