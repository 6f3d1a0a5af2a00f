"""What a phone call changes: who answered, the "press 1" confirmation and Twilio's
final call status (delivered; called again on busy or no answer, up to
``ALERTES_VOICE_CALLS`` calls ``ALERTES_VOICE_RETRY_DELAY`` seconds apart; failed, the
number marked failing when it cannot be called).  The call itself and its TwiML are the
voice channel's (``channels.voice``); the webhooks that bring these events are signed
(``views.twilio_webhook``)."""

from __future__ import annotations

from datetime import timedelta

from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from ..channels.contract import setting
from ..channels.voice import answer_twiml, answered_by, digits_twiml
from ..models import Address, Alert, Channel, Delivery
from .delivery import schedule_retry

RETRY_STATUSES = ("busy", "no-answer")
FAILED_STATUSES = ("failed", "canceled")
# Call errors that mean the number itself cannot be called.
BAD_NUMBER = {"13223", "13224", "21211", "21217", "21407"}


def max_calls() -> int:
    return max(1, int(setting("ALERTES_VOICE_CALLS", 3)))


def retry_delay() -> timedelta:
    return timedelta(seconds=int(setting("ALERTES_VOICE_RETRY_DELAY", 120)))


def twiml_for_answer(delivery: Delivery, answered: str) -> str:
    """A call just answered: records who answered and returns what they hear."""
    kind = answered_by(answered) or "human"
    Delivery.objects.filter(pk=delivery.pk).update(answered_by=kind)
    return answer_twiml(delivery, kind)


def twiml_for_digits(delivery: Delivery, digits: str) -> str:
    """Pressing 1 confirms (once: the first time is kept); any other key replays."""
    confirmed = digits.strip() == "1"
    if confirmed:
        Delivery.objects.filter(pk=delivery.pk, acknowledged_at__isnull=True).update(
            acknowledged_at=timezone.now(), answered_by="human")
    return digits_twiml(delivery, confirmed)


def handle_call_status(call_sid: str, status: str, answered: str = "",
                       error_code: str = "", *, now=None) -> int:
    """Twilio's final call status for the call ``call_sid`` (older calls of a delivery
    that was called again no longer match its ``provider_id``)."""
    now = now or timezone.now()
    rows = Delivery.objects.filter(provider_id=call_sid, channel=Channel.VOICE).filter(
        status__in=[Delivery.Status.SENT, Delivery.Status.SENDING])
    kind = answered_by(answered)
    if status == "completed":
        if kind == "fax":
            failed = rows.update(status=Delivery.Status.FAILED, failed_at=now,
                                 answered_by="fax", error="a fax machine answered")
            _mark_failing(call_sid, "a fax machine answered")
            return failed
        update = {"status": Delivery.Status.DELIVERED, "delivered_at": now}
        if kind:
            rows.filter(answered_by="").update(answered_by=kind)
        return rows.update(**update)
    if status in RETRY_STATUSES:
        changed = 0
        with transaction.atomic():
            for delivery in rows.select_related("alert").select_for_update(of=("self",)):
                cancelled = delivery.alert.status == Alert.Status.CANCELLED
                if delivery.attempts >= max_calls() or cancelled:
                    reason = ("alert cancelled" if cancelled
                              else f"Twilio {status} after {delivery.attempts} calls")
                    changed += Delivery.objects.filter(pk=delivery.pk).update(
                        status=Delivery.Status.FAILED, failed_at=now, error=reason)
                    continue
                retry_at = now + retry_delay()
                changed += Delivery.objects.filter(pk=delivery.pk).update(
                    status=Delivery.Status.QUEUED, not_before=retry_at, claim="", attempted_at=None,
                    enqueued_at=now, error=f"Twilio {status}: calling again")
                schedule_retry(delivery.pk, retry_at)
        return changed
    if status in FAILED_STATUSES:
        reason = f"Twilio call {status} {error_code}".strip()
        changed = rows.update(status=Delivery.Status.FAILED, failed_at=now, error=reason)
        if error_code in BAD_NUMBER:
            _mark_failing(call_sid, reason)
        return changed
    return 0


def _mark_failing(call_sid: str, reason: str) -> None:
    numbers = Delivery.objects.filter(provider_id=call_sid, channel=Channel.VOICE) \
        .values("address")
    Address.objects.filter(Q(channel=Channel.VOICE), Q(value__in=numbers)).update(
        failing=True, failing_reason=reason[:255])
