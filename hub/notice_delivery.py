"""The fallback email of one logged notice (``hub.notice_email`` logs and enqueues it;
the ``hub.tasks.send_notice_email`` task calls :func:`send_logged` with the row's id).
Only the row is read: no import of the notify interface or of the tasks."""

from __future__ import annotations

import logging
import re

from django.conf import settings
from django.core.mail import EmailMessage
from django.db import transaction
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from .models import NoticeLog

# The fallback's one log name, whichever step writes (logging and sending).
logger = logging.getLogger("hub.notice_email")


def compose(log: NoticeLog) -> EmailMessage:
    """The plain email for a logged notice, in the notice's language."""
    with translation.override(log.language):
        body = log.body.rstrip()
        if log.url:
            body += "\n\n" + _("Details: %(url)s") % {"url": log.url}
        body += "\n\n-- \n" + _("Espace citoyen: this message was sent to you because of "
                                "a service you use.") + "\n"
        return EmailMessage(subject=re.sub(r"[\r\n]+", " ", log.subject), body=body,
                            from_email=settings.DEFAULT_FROM_EMAIL, to=[log.email],
                            headers={"Content-Language": log.language})


def send_logged(log_id: int) -> str:
    """Send the email of one ``pending`` row, once: the row is locked while it is sent,
    and a row already sent (a task run twice) is left alone.  Returns the final state."""
    with transaction.atomic():
        log = NoticeLog.objects.select_for_update().filter(pk=log_id).first()
        if log is None or log.state != NoticeLog.State.PENDING:
            return log.state if log else ""
        try:
            compose(log).send()
        except Exception as error:  # SMTP refused, server down…: keep why, for review
            logger.exception("Notice %s: the email could not be sent", log.dedupe_key)
            log.state = NoticeLog.State.FAILED
            log.error = f"{type(error).__name__}: {error}"[:2000]
        else:
            log.state = NoticeLog.State.SENT
            log.sent_at = timezone.now()
        log.save(update_fields=["state", "error", "sent_at"])
        return log.state
