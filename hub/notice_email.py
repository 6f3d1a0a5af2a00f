"""The hub's own way to tell a person something, when no enabled module implements
``hub_notify`` (alertes switched off): one plain email.

Why a row and a task: the row (:class:`hub.models.NoticeLog`) is written first, its
unique ``dedupe_key`` making the fallback idempotent (a key already logged is never sent
again, however many times the sender saves); the email leaves from a django-tasks task
that carries only the row's id, so SMTP never holds up a web request and a crashed
worker leaves a ``pending`` row to look at rather than a lost message.

The email itself is composed and sent by ``hub.notice_delivery`` (the task's body), so
this module, the task and the sending import each other in one direction only.

Without alertes there is no SMS: a contact with only a phone number is logged as "not
reachable" and a warning is written to the log.
"""

from __future__ import annotations

import logging
from typing import Any

from django.db import IntegrityError, transaction

from .models import NoticeLog, User

# ``notice`` below is a ``hub.notify.Notice``; it is not imported, even for typing:
# notify.py calls this module, and the import graph stays without a cycle.
Notice = Any

logger = logging.getLogger(__name__)


def _email_for(notice: Notice) -> str:
    recipient = notice.recipient
    if recipient.email:
        return recipient.email
    if recipient.user_id is not None:
        return (User.objects.filter(pk=recipient.user_id, is_active=True)
                .values_list("email", flat=True).first() or "")
    return ""


def send_fallback(notice: Notice) -> bool:
    """Log ``notice`` and send it as one plain email after the transaction commits.

    Returns True when an email is (or was already) on its way, False when the person has
    no email address the hub can write to.
    """
    from .tasks import send_notice_email

    email = _email_for(notice)
    user_id = notice.recipient.user_id
    if user_id is not None and not User.objects.filter(pk=user_id).exists():
        user_id = None  # the account was deleted since the notice was built
    state = NoticeLog.State.PENDING if email else NoticeLog.State.UNREACHABLE
    try:
        with transaction.atomic():
            log = NoticeLog.objects.create(
                dedupe_key=notice.dedupe_key[:255], user_id=user_id, email=email,
                language=notice.recipient.language, topic=notice.topic[:64],
                source=notice.source[:64], subject=notice.subject[:255], body=notice.body,
                url=notice.url[:500], state=state,
                error="" if email else "no email address, and no SMS without alertes")
    except IntegrityError:
        logger.info("Notice %s already logged: not sent again", notice.dedupe_key)
        return NoticeLog.objects.filter(dedupe_key=notice.dedupe_key[:255]).exclude(
            state=NoticeLog.State.UNREACHABLE).exists()
    if not email:
        logger.warning("Notice %s not sent: %s has no email address and no module "
                       "delivers text messages", notice.dedupe_key, notice.recipient.key)
        return False
    transaction.on_commit(lambda: send_notice_email.enqueue(log_id=log.pk))
    return True
