"""Composing and sending an alert: the text checks, an officer's emergency "send now"
(which bypasses the approval workflow and is written in the alert's history), the send
once Wagtail has published an approved alert, updates and cancellations, and the "send a
test to me" outside the outbox.
"""

from __future__ import annotations

import logging
from datetime import datetime

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from .. import sms as sms_length
from ..channels import DeliveryError, available_channels
from ..models import (
    Alert,
    Delivery,
)
from .outbox import (
    _in_chunks,
    alert_channels,
    build_in_chunks,
    build_outbox,
    enqueue_deliveries,
    has_audience,
)
from .subscriptions import subscriber_for

logger = logging.getLogger(__name__)


class AlertError(ValidationError):
    """An alert cannot be sent as it is (the message says why)."""


def can_send(user) -> bool:
    return bool(user and user.is_active and user.has_perm("alertes.send_alert"))


def check_texts(alert: Alert) -> list[str]:
    """Raise ``AlertError`` for an SMS text over ``MAX_SEGMENTS``; return warnings."""
    warnings = []
    for language in ("fr", "en"):
        text = getattr(alert, f"sms_{language}")
        if not text:
            continue
        length = sms_length.measure(text)
        if length.segments > sms_length.MAX_SEGMENTS:
            raise AlertError(_("The %(language)s SMS text takes %(segments)d segments; the "
                               "limit is %(max)d.") % {
                "language": language.upper(), "segments": length.segments,
                "max": sms_length.MAX_SEGMENTS})
        if length.encoding == "UCS-2":
            warnings.append(_("The %(language)s SMS text uses UCS-2 (%(segments)d segments) "
                              "because of %(chars)s.") % {
                "language": language.upper(), "segments": length.segments,
                "chars": " ".join(length.non_gsm)})
    return warnings


def send(alert: Alert, user, *, now: datetime | None = None) -> int:
    """An officer's "send now": emergencies only, bypassing the approval workflow, and
    written in the alert's history (who, when, to how many).  Other alerts are sent by
    being approved in the workflow (``alert_published``).  Returns the number of
    deliveries written (0 when scheduled for ``send_at``)."""
    now = now or timezone.now()
    if not can_send(user):
        raise PermissionDenied(_("You may not send alerts."))
    if alert.status not in (Alert.Status.DRAFT, Alert.Status.SCHEDULED):
        raise AlertError(_("This alert was already sent or cancelled."))
    if not alert.is_emergency:
        raise AlertError(_("A non-emergency alert is sent once approved: submit it to the "
                           "approval workflow."))
    count = _send_checked(alert, user, now)
    _log(alert, "alertes.emergency_send", user, {"deliveries": count,
                                                  "scheduled": count == 0})
    _mark_published(alert, now)
    workflow = alert.current_workflow_state
    if workflow is not None:  # an approval pending for what has now left: nothing to approve
        workflow.cancel(user=user)
    return count


def on_published(sender, instance, revision=None, **kwargs) -> None:
    """Wagtail's ``published`` signal for an alert (connected in ``apps.ready``): the
    workflow's approval, or an approver's publish, is what sends a draft.  The signal
    does not say who published; ``Alert.publish`` notes it on the revision being
    published (``published_by``), so the send is written in the history under that
    person, as before.  Publishing never rewinds the sending state
    (``Alert.with_content_json``), so an alert already sent is not sent again."""
    alert_published(instance, getattr(revision, "published_by", None))


def alert_published(alert: Alert, user, *, now: datetime | None = None) -> int | None:
    """Called once Wagtail has published an alert: the workflow's approval (or an
    approver's publish) is what sends a draft.  Sends at once, or schedules for
    ``send_at``; an empty audience or an invalid text is written in the history and
    nothing is sent (the publish itself cannot be undone from here)."""
    now = now or timezone.now()
    alert = Alert.objects.get(pk=alert.pk)
    if alert.status != Alert.Status.DRAFT:
        return None  # a sent alert published again (e.g. a revision reverted): no resend
    try:
        count = _send_checked(alert, user, now)
    except AlertError as exc:
        logger.warning("Approved alert %s was not sent: %s", alert.pk, exc)
        _log(alert, "alertes.not_sent", user, {"reason": " ".join(exc.messages)})
        return None
    _log(alert, "alertes.approved_send", user, {"deliveries": count,
                                                 "scheduled": count == 0})
    return count


def _log(alert: Alert, action: str, user, data: dict) -> None:
    from wagtail.log_actions import log

    log(instance=alert, action=action, user=user, data=data)


def _mark_published(alert: Alert, now: datetime) -> None:
    """An emergency sent without the workflow still shows as live in the admin."""
    Alert.objects.filter(pk=alert.pk, live=False).update(
        live=True, has_unpublished_changes=False, last_published_at=now)
    Alert.objects.filter(pk=alert.pk, first_published_at__isnull=True).update(
        first_published_at=now)


def _send_checked(alert: Alert, user, now: datetime) -> int:
    check_texts(alert)
    if not alert_channels(alert):
        raise AlertError(_("Choose at least one channel."))
    if alert.send_at and alert.send_at > now:
        alert.status = Alert.Status.SCHEDULED
        alert.sent_by = user
        alert.save(update_fields=["status", "sent_by"])
        return 0
    if not has_audience(alert):
        raise AlertError(_("Nobody would receive this alert: no subscriber matches its "
                           "topics, zones and channels. Nothing was sent."))
    return _start(alert, user, now)


def _start(alert: Alert, user, now: datetime) -> int:
    with transaction.atomic():
        locked = Alert.objects.select_for_update().get(pk=alert.pk)
        if locked.status not in (Alert.Status.DRAFT, Alert.Status.SCHEDULED):
            raise AlertError(_("This alert was already sent or cancelled."))
        chunked = _in_chunks(locked)
        count = 0 if chunked else build_outbox(locked, now=now)
        locked.status = Alert.Status.SENDING
        locked.sent_by = user or locked.sent_by
        locked.sent_at = now
        # 0 while a chunked build runs: the sweep finishes a build that stopped halfway,
        # and the alert cannot be taken for done before its last chunk is written.
        locked.audience_size = count
        locked.save(update_fields=["status", "sent_by", "sent_at", "audience_size"])
        if locked.kind == Alert.Kind.CANCEL and locked.references_id:
            Alert.objects.filter(pk=locked.references_id).update(status=Alert.Status.CANCELLED)
        if not chunked:
            transaction.on_commit(lambda: enqueue_deliveries(locked.pk, now=now))
    if chunked:
        count = build_in_chunks(locked, now)
    logger.info("Alert %s (%s) sent by %s to %d addresses", locked.pk, locked.severity,
                getattr(user, "pk", None), count)
    alert.refresh_from_db()
    return count


@transaction.atomic
def create_correction(original: Alert, kind: str, user, **texts) -> Alert:
    """A draft update or cancellation of a sent alert; it goes to whoever got the
    original, with the same severity, topics and zones."""
    if kind not in (Alert.Kind.UPDATE, Alert.Kind.CANCEL):
        raise AlertError(_("Choose an update or a cancellation."))
    if original.status not in (Alert.Status.SENDING, Alert.Status.SENT):
        raise AlertError(_("Only a sent alert can be updated or cancelled."))
    fields = {f: getattr(original, f) for f in (
        "severity", "title_fr", "title_en", "body_fr", "body_en", "sms_fr", "sms_en",
        "push_fr", "push_en", "voice_fr", "voice_en", "channels", "expires_at")}
    fields.update(texts)
    correction = Alert.objects.create(kind=kind, references=original, created_by=user,
                                      **fields)
    correction.topics.set(original.topics.all())
    correction.districts.set(original.districts.all())
    return correction


def send_test(alert: Alert, user) -> list[str]:
    """"Send a test to me": the officer's own verified addresses, outside the outbox."""
    if not can_send(user):
        raise PermissionDenied(_("You may not send alerts."))
    subscriber = subscriber_for(user, create=False)
    sent = []
    channels = available_channels()
    if subscriber is None:
        return sent
    for address in subscriber.addresses.filter(verified_at__isnull=False,
                                               channel__in=list(channels)):
        probe = Delivery(alert=alert, subscriber=subscriber, channel=address.channel,
                         address=address.value, language=subscriber.language)
        try:
            channels[address.channel].send(probe)
            sent.append(address.channel)
        except DeliveryError as exc:
            logger.warning("Test of alert %s on %s failed: %s", alert.pk, address.channel, exc)
    return sent
