"""The sandbox channel: on a server without an SMS, voice or push provider (a
development server, ``make run``), those channels record each message in the test box
(``SandboxMessage``) exactly as it would have left — the SMS text, the call's TwiML with
the text read and its language, the push title, text and link, a phone verification
code — instead of failing with "provider not configured".  The admin's "boîte de test"
and the resident's "messages reçus" show them, so every channel can be seen end to end.

``ALERTES_SANDBOX``: unset, the sandbox is on when ``DEBUG`` is; ``true`` or ``false``
forces it.  It only ever replaces a channel whose provider is *not* configured: with
Twilio or VAPID keys set, the real provider is used.  A delivery that went to the sandbox
is ``sent`` with a provider id ``sandbox:<message id>`` (:func:`is_sandbox_id`), so the
report says it went to the test box, not to a phone.  ``manage.py check --deploy``
refuses the sandbox when ``DEBUG`` is off (``alertes.E001``).
"""

from __future__ import annotations

from django.conf import settings

from .contract import DeliveryError, setting

PROVIDER_PREFIX = "sandbox:"
SANDBOXED = ("sms", "voice", "push")


def enabled() -> bool:
    """Whether the sandbox may take the messages of unconfigured channels."""
    value = setting("ALERTES_SANDBOX", None)
    if value is None or value == "":
        return bool(settings.DEBUG)
    if isinstance(value, str):
        return value.strip().lower() in ("1", "true", "yes", "on")
    return bool(value)


def is_sandbox_id(provider_id: str) -> bool:
    return str(provider_id or "").startswith(PROVIDER_PREFIX)


def provider_configured(channel) -> bool:
    """Whether a channel has its real provider (Twilio for SMS and voice, VAPID keys
    for push)."""
    if channel.code == "push":
        from .webpush import configured

        return configured()
    configured = getattr(channel, "configured", None)
    return bool(configured()) if callable(configured) else True


def unless_configured(channels: list) -> list:
    """Each SMS, voice and push channel without its provider replaced by a
    :class:`SandboxChannel` while the sandbox is enabled; the others as they are."""
    if not enabled():
        return list(channels)
    return [SandboxChannel(channel)
            if channel.code in SANDBOXED and not provider_configured(channel) else channel
            for channel in channels]


def record(*, channel: str, address: str, body: str, kind: str = "alert", delivery=None,
           language: str = "fr", title: str = "", url: str = "", twiml: str = "",
           say_language: str = "") -> str:
    """Write one message to the test box; its provider id (``sandbox:<id>``)."""
    from ..models import SandboxMessage

    message = SandboxMessage.objects.create(
        channel=channel, address=address[:500], body=body, kind=kind, language=language,
        title=title[:255], url=url[:500], twiml=twiml, say_language=say_language,
        delivery=delivery if delivery is not None and delivery.pk else None,
        subscriber_id=getattr(delivery, "subscriber_id", None))
    return f"{PROVIDER_PREFIX}{message.pk}"


def record_code(to: str, body: str) -> str:
    """A phone verification code texted to the test box (``TwilioSMSChannel.send_text``
    without a provider)."""
    return record(channel="sms", address=to, body=body, kind="code")


class SandboxChannel:
    """Stands in for a channel without its provider: same code, label, address rules
    and verification; ``send`` records the message in the test box.  Not concurrent:
    ``send`` writes to the database, so the worker calls it from its own thread."""

    sandbox = True
    concurrent = False
    timeout = 0
    lookup_grace = 1

    def __init__(self, real):
        self.real = real
        self.code = real.code
        self.label = real.label
        self.needs_verification = getattr(real, "needs_verification", False)
        normalize = getattr(real, "normalize_address", None)
        if callable(normalize):
            self.normalize_address = normalize

    def __repr__(self) -> str:
        return f"<SandboxChannel {self.code}>"

    def configured(self) -> bool:
        """The real provider is not configured: the messages go to the test box."""
        return False

    def send(self, delivery) -> str:
        kind = "notice" if getattr(delivery, "notice_id", None) else "alert"
        common = {"channel": self.code, "address": delivery.address, "kind": kind,
                  "delivery": delivery, "language": delivery.language}
        if self.code == "sms":
            return record(body=self.real.text(delivery), **common)
        if self.code == "voice":
            from .voice import _context, answer_twiml

            if kind == "notice":  # as the real channel: no calls for personal notices
                raise DeliveryError("voice calls are not offered for personal notices",
                                    transient=False)
            context = _context(delivery)
            return record(body=context["message"], say_language=context["say_language"],
                          twiml=answer_twiml(delivery, "human"), **common)
        if self.code == "push":
            from .webpush import payload

            data = payload(delivery)
            return record(title=data.get("title", ""), body=data.get("body", ""),
                          url=data.get("url", ""), **common)
        raise DeliveryError(f"the test box does not take {self.code!r} messages",
                            transient=False)

    def send_text(self, to: str, body: str) -> str:
        return record_code(to, body)

    def lookup(self, delivery) -> tuple[str, str]:
        """Whether the test box holds this delivery's message (its worker stopped after
        writing it, before recording the outcome)."""
        from ..models import SandboxMessage

        pk = (SandboxMessage.objects.filter(delivery_id=delivery.pk)
              .values_list("pk", flat=True).first())
        if pk is not None:
            return "sent", f"{PROVIDER_PREFIX}{pk}"
        return "absent", "the test box holds no message for this delivery"
