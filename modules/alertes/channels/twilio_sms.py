"""Text messages through Twilio's Messages API; a personal notice's text spelt in
GSM-7."""

from __future__ import annotations

import re

from django.utils.translation import gettext_lazy as _

from .contract import DeliveryError, setting
from .links import url
from .twilio import twilio_lookup, twilio_post


def notice_sms(notice) -> str:
    """A notice's text message: its short text (else its subject) and its link, spelt in
    GSM-7 (ê → e…) so that it stays 160 characters a segment, as alerts' texts are
    checked to; a text that would still take more than ``MAX_SEGMENTS`` is cut, the link
    kept."""
    from .. import sms as sms_length

    text = sms_length.gsm7_safe(" ".join((notice.short or notice.subject).split()))
    link = notice.url or ""
    budget = 153 * sms_length.MAX_SEGMENTS - (len(link) + 1 if link else 0)
    if sms_length.measure(text).characters > budget:
        text = text[:max(0, budget - 3)].rstrip() + "..."
    return f"{text} {link}".strip() if link and link not in text else text


class TwilioSMSChannel:
    """SMS through Twilio's Messages API (``POST /2010-04-01/Accounts/{sid}/Messages.json``).

    Settings: ``ALERTES_TWILIO_BASE_URL`` (default ``https://api.twilio.com``),
    ``ALERTES_TWILIO_ACCOUNT_SID``, ``ALERTES_TWILIO_AUTH_TOKEN``, and
    ``ALERTES_TWILIO_FROM`` or ``ALERTES_TWILIO_MESSAGING_SERVICE_SID``.
    """

    code = "sms"
    label = _("Text message (SMS)")
    concurrent = True  # send() touches no database
    needs_verification = True  # confirmed by a texted 6-digit code (services.add_address)
    timeout = 10

    @staticmethod
    def normalize_address(value: str) -> str:
        from ..phones import normalize_phone

        return normalize_phone(value)

    def configured(self) -> bool:
        return bool(setting("ALERTES_TWILIO_ACCOUNT_SID") and setting("ALERTES_TWILIO_AUTH_TOKEN")
                    and (setting("ALERTES_TWILIO_FROM")
                         or setting("ALERTES_TWILIO_MESSAGING_SERVICE_SID")))

    def text(self, delivery) -> str:
        if getattr(delivery, "notice_id", None):
            return notice_sms(delivery.notice)
        return delivery.alert.sms(delivery.language)

    def send(self, delivery) -> str:
        return self.send_text(delivery.address, self.text(delivery))

    def lookup(self, delivery) -> tuple[str, str]:
        """Whether Twilio created this text since the row's attempt (a worker died during
        the send, or Twilio's answer was lost): its Messages list for the number, matched
        on the text."""
        if not self.configured():
            raise DeliveryError("SMS provider not configured", transient=False)
        params = {"To": delivery.address}
        if not setting("ALERTES_TWILIO_MESSAGING_SERVICE_SID"):
            params["From"] = setting("ALERTES_TWILIO_FROM")
        body = self.text(delivery)
        return twilio_lookup("Messages.json", "messages", delivery, params,
                             timeout=self.timeout,
                             match=lambda item: item.get("body") == body)

    def send_text(self, to: str, body: str) -> str:
        if not self.configured():
            from . import sandbox

            if sandbox.enabled():  # a verification code, to the test box
                return sandbox.record_code(to, body)
            raise DeliveryError("SMS provider not configured", transient=False)
        fields = {"To": to, "Body": body, "StatusCallback": url("alertes:twilio_status")}
        if setting("ALERTES_TWILIO_MESSAGING_SERVICE_SID"):
            fields["MessagingServiceSid"] = setting("ALERTES_TWILIO_MESSAGING_SERVICE_SID")
        else:
            fields["From"] = setting("ALERTES_TWILIO_FROM")
        data = twilio_post("Messages.json", fields, timeout=self.timeout)
        if not data.get("sid"):
            raise DeliveryError("Twilio answered without a message sid", transient=True)
        return str(data["sid"])

    def throttle(self, delivery):
        """One bucket per sender: Twilio's throughput is per number (a 10-digit long
        code, a toll-free number, a short code) or per messaging service."""
        from .. import ratelimit

        sid = setting("ALERTES_TWILIO_ACCOUNT_SID", "")
        service = setting("ALERTES_TWILIO_MESSAGING_SERVICE_SID")
        sender = service or setting("ALERTES_TWILIO_FROM", "")
        if service:
            kind = "sms_messaging_service"
        elif re.fullmatch(r"\d{5,6}", sender or ""):
            kind = "sms_short_code"
        elif re.fullmatch(r"\+1(800|833|844|855|866|877|888)\d{7}", sender or ""):
            kind = "sms_toll_free"
        else:
            kind = "sms_long_code"
        return ratelimit.Throttle(key=f"twilio:{sid}:sms:{sender}", rate=ratelimit.rate(kind))
