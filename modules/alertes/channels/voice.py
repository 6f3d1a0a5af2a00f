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
This module is the transport (the call, the TwiML); what a call's answer, key press
and status change in the database is ``services.calls``.
Settings: those of the SMS channel (account sid, token, base URL), plus
``ALERTES_TWILIO_VOICE_FROM`` (default ``ALERTES_TWILIO_FROM``) and
``ALERTES_TWILIO_VOICES`` (``{"fr": "Polly.Chantal"}``: the ``voice`` attribute per
language; Twilio's default voice when absent).
"""

from __future__ import annotations

from django.template.loader import render_to_string
from django.utils import translation
from django.utils.translation import gettext_lazy as _

from hub.models import SiteSettings

from .. import ratelimit, tokens
from .contract import DeliveryError, setting
from .links import url
from .twilio import twilio_lookup, twilio_post

SAY_LANGUAGES = {"fr": "fr-CA", "en": "en-CA"}
MACHINE = ("machine_start", "machine_end_beep", "machine_end_silence", "machine_end_other")


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
        from ..phones import normalize_phone

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

    def lookup(self, delivery) -> tuple[str, str]:
        """Whether Twilio created a call to this number since the row's attempt (a worker
        died during the send, or Twilio's answer was lost): its Calls list, matched on the
        number and the creation time."""
        if not self.configured():
            raise DeliveryError("Voice provider not configured", transient=False)
        return twilio_lookup("Calls.json", "calls", delivery,
                             {"To": delivery.address, "From": self.sender()},
                             timeout=self.timeout)


# --- TwiML --------------------------------------------------------------------------------

def _context(delivery) -> dict:
    # No English text to read: the whole call in French, by the French voice (an
    # English voice reading French words is not understood).
    language, message = delivery.alert.spoken(
        delivery.language if delivery.language in SAY_LANGUAGES else "fr")
    voices = setting("ALERTES_TWILIO_VOICES", {"fr": "Polly.Chantal"}) or {}
    city_settings = SiteSettings.current()
    return {
        "say_language": SAY_LANGUAGES[language], "voice": voices.get(language, ""),
        "message": message,
        "city": city_settings.city_name, "phone": city_settings.intake_phone,
        "gather_url": tokens.absolute("alertes:voice_gather", language, pk=delivery.pk),
        "language": language,
    }


def answer_twiml(delivery, kind: str) -> str:
    """What a call just answered hears (``kind`` from :func:`answered_by`): a voicemail
    for a machine, a hang-up for a fax, the message with "press 1" for a person."""
    context = _context(delivery)
    template = {"machine": "alertes/voice/voicemail.xml",
                "fax": "alertes/voice/hangup.xml"}.get(kind, "alertes/voice/message.xml")
    with translation.override(context["language"]):
        return render_to_string(template, context)


def digits_twiml(delivery, confirmed: bool) -> str:
    """After a key press: thanks for a confirmation, else the message again."""
    context = _context(delivery)
    if confirmed:
        template = "alertes/voice/confirmed.xml"
    else:
        context["replay_url"] = tokens.absolute("alertes:voice_twiml", context["language"],
                                                pk=delivery.pk)
        template = "alertes/voice/replay.xml"
    with translation.override(context["language"]):
        return render_to_string(template, context)
