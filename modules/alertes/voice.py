"""Phone calls through Twilio's Calls API: the alert read aloud, twice, in the resident's
language; "press 1" recorded as a confirmation; a voicemail left when a machine answers;
two more calls on busy or no answer.

How a call goes:

1. The worker posts ``/2010-04-01/Accounts/{sid}/Calls.json`` with ``Url`` (this
   module's TwiML view for the delivery), ``StatusCallback`` and
   ``MachineDetection=DetectMessageEnd``; Twilio answers with a call sid (``sent``).
2. When the line answers, Twilio waits for the answering-machine detection and fetches
   the TwiML with ``AnsweredBy``: a person (``human``/``unknown``) hears the message inside
   ``<Gather numDigits="1">`` and may press 1; a machine (``machine_end_beep``/
   ``_silence``/``_other``, after the greeting) gets the message as a voicemail.
3. Pressing 1 posts ``Digits=1`` to the gather webhook: ``acknowledged_at`` is set.
4. The final status callback: ``completed`` → ``delivered``; ``busy``/``no-answer`` →
   back to ``queued`` for another call after ``ALERTES_VOICE_RETRY_DELAY`` seconds
   (default 120), up to ``ALERTES_VOICE_CALLS`` calls in all (default 3), then
   ``failed``; ``failed``/``canceled`` → ``failed``.

Every webhook is signed by Twilio (``X-Twilio-Signature``, checked by the views).
Settings: those of the SMS channel (account sid, token, base URL), plus
``ALERTES_TWILIO_VOICE_FROM`` (default ``ALERTES_TWILIO_FROM``) and
``ALERTES_TWILIO_VOICES`` (``{"fr": "Polly.Chantal"}``: the ``voice`` attribute per
language; Twilio's default voice when absent).
"""

from __future__ import annotations

import logging
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.template.loader import render_to_string
from django.utils import timezone, translation
from django.utils.translation import gettext_lazy as _

from . import ratelimit, tokens
from .channels import DeliveryError, setting, twilio_post, url
from .models import Address, Alert, Channel, Delivery

logger = logging.getLogger(__name__)

SAY_LANGUAGES = {"fr": "fr-CA", "en": "en-CA"}
MACHINE = ("machine_start", "machine_end_beep", "machine_end_silence", "machine_end_other")
RETRY_STATUSES = ("busy", "no-answer")
FAILED_STATUSES = ("failed", "canceled")
# Call errors that mean the number itself cannot be called.
BAD_NUMBER = {"13223", "13224", "21211", "21217", "21407"}


def max_calls() -> int:
    return max(1, int(setting("ALERTES_VOICE_CALLS", 3)))


def retry_delay() -> timedelta:
    return timedelta(seconds=int(setting("ALERTES_VOICE_RETRY_DELAY", 120)))


def answered_by(value: str) -> str:
    """Twilio's ``AnsweredBy`` folded into what ``Delivery.answered_by`` keeps."""
    if value in MACHINE:
        return "machine"
    if value in ("human", "fax", "unknown"):
        return value
    return ""


class TwilioVoiceChannel:
    """Voice calls through Twilio's Calls API; landlines welcome."""

    code = "voice"
    label = _("Phone call")
    needs_verification = False  # a landline cannot read a code: reached once added

    @staticmethod
    def normalize_address(value: str) -> str:
        from .services import normalize_phone  # services imports this module

        return normalize_phone(value)
    concurrent = True  # send() touches no database: the worker may call it from threads
    timeout = 10

    def sender(self) -> str:
        return setting("ALERTES_TWILIO_VOICE_FROM") or setting("ALERTES_TWILIO_FROM") or ""

    def configured(self) -> bool:
        return bool(setting("ALERTES_TWILIO_ACCOUNT_SID")
                    and setting("ALERTES_TWILIO_AUTH_TOKEN") and self.sender())

    def throttle(self, delivery) -> ratelimit.Throttle:
        """Calls per second are capped per Twilio account (CPS), whatever the number."""
        sid = setting("ALERTES_TWILIO_ACCOUNT_SID", "")
        return ratelimit.Throttle(key=f"twilio:{sid}:calls", rate=ratelimit.rate("voice"))

    def send(self, delivery) -> str:
        if getattr(delivery, "notice_id", None):
            # Personal notices never choose voice (``notices.NOT_FOR_NOTICES``): a row
            # that got here anyway fails with a reason instead of calling someone.
            raise DeliveryError("voice calls are not offered for personal notices",
                                transient=False)
        if not self.configured():
            raise DeliveryError("Voice provider not configured", transient=False)
        if delivery.pk is None:
            raise DeliveryError("A call needs a delivery row (its TwiML is served by id)",
                                transient=False)
        language = delivery.language
        fields = {
            "To": delivery.address, "From": self.sender(),
            "Url": url("alertes:voice_twiml", language, pk=delivery.pk),
            "Method": "POST",
            "StatusCallback": url("alertes:voice_status", language),
            "StatusCallbackMethod": "POST",
            "MachineDetection": "DetectMessageEnd",
        }
        data = twilio_post("Calls.json", fields, timeout=self.timeout)
        if not data.get("sid"):
            raise DeliveryError("Twilio answered without a call sid", transient=True)
        return str(data["sid"])


# --- TwiML --------------------------------------------------------------------------------

def _context(delivery: Delivery) -> dict:
    language = delivery.language if delivery.language in SAY_LANGUAGES else "fr"
    voices = setting("ALERTES_TWILIO_VOICES", {"fr": "Polly.Chantal"}) or {}
    return {
        "say_language": SAY_LANGUAGES[language], "voice": voices.get(language, ""),
        "message": delivery.alert.voice(language),
        "city": getattr(settings, "HUB_CITY_NAME", ""),
        "phone": setting("ALERTES_INTAKE_PHONE", getattr(settings, "HUB_INTAKE_PHONE", "")),
        "gather_url": tokens.absolute("alertes:voice_gather", language, pk=delivery.pk),
        "language": language,
    }


def twiml_for_answer(delivery: Delivery, answered: str) -> str:
    """The TwiML for a call just answered: a voicemail for a machine, the message with
    "press 1" for a person, a hang-up for a fax.  Records who answered."""
    kind = answered_by(answered) or "human"
    Delivery.objects.filter(pk=delivery.pk).update(answered_by=kind)
    context = _context(delivery)
    template = {"machine": "alertes/voice/voicemail.xml",
                "fax": "alertes/voice/hangup.xml"}.get(kind, "alertes/voice/message.xml")
    with translation.override(context["language"]):
        return render_to_string(template, context)


def twiml_for_digits(delivery: Delivery, digits: str) -> str:
    """Pressing 1 confirms (once: the first time is kept); any other key replays."""
    context = _context(delivery)
    if digits.strip() == "1":
        Delivery.objects.filter(pk=delivery.pk, acknowledged_at__isnull=True).update(
            acknowledged_at=timezone.now(), answered_by="human")
        template = "alertes/voice/confirmed.xml"
    else:
        context["replay_url"] = tokens.absolute("alertes:voice_twiml", context["language"],
                                                pk=delivery.pk)
        template = "alertes/voice/replay.xml"
    with translation.override(context["language"]):
        return render_to_string(template, context)


# --- status callbacks -------------------------------------------------------------------

def handle_call_status(call_sid: str, status: str, answered: str = "",
                       error_code: str = "", *, now=None) -> int:
    """Twilio's final call status for the call ``call_sid`` (older calls of a delivery
    that was called again no longer match its ``provider_id``)."""
    from . import services

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
                    status=Delivery.Status.QUEUED, not_before=retry_at, claim="",
                    enqueued_at=now, error=f"Twilio {status}: calling again")
                services.schedule_retry(delivery.pk, retry_at)
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
