"""Delivery channels, returned by the ``hub_notification_channels`` hook.

Each channel has a ``code``, a ``label`` and ``send(delivery) -> provider id``, and
speaks its provider's real protocol: SMTP through Django's email backend, Twilio's REST
API over HTTP.  ``send`` raises :class:`DeliveryError` with ``transient=True`` for errors
worth retrying (HTTP 429/5xx, timeouts, SMTP 4xx) and ``transient=False`` otherwise
(invalid number, hard bounce), ``address_failing=True`` when the address itself is bad.

Voice calls (``voice.py``) and push notifications (``push.py``) follow the same contract.
A channel may also say how its sends are paced: ``throttle(delivery)`` returns the
``ratelimit.Throttle`` (bucket and rate) the worker waits on before ``send``; without it
the bucket is the channel's code at ``ALERTES_RATE_LIMITS[code]`` (unlimited by default).
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import hmac
import json
import re
import smtplib
import threading
import urllib.error
import urllib.parse
import urllib.request

from django.conf import settings
from django.core.mail import EmailMultiAlternatives, get_connection
from django.template.loader import render_to_string
from django.utils import translation
from django.utils.translation import gettext_lazy as _

from . import tokens

# Twilio error codes that mean "this number will never work".
TWILIO_BAD_NUMBER = {21211, 21214, 21217, 21401, 21407, 21421, 21610, 21612, 21614}


class DeliveryError(Exception):
    def __init__(self, message: str, *, transient: bool, address_failing: bool = False):
        super().__init__(message)
        self.transient = transient
        self.address_failing = address_failing


def setting(name: str, default=None):
    return getattr(settings, name, default)


class EmailChannel:
    """Email through Django's email backend (SMTP in production), HTML and plain text,
    with RFC 8058 one-click unsubscribe headers."""

    code = "email"
    label = _("Email")

    def __init__(self):
        self._local = threading.local()

    @contextlib.contextmanager
    def batch(self):
        """One SMTP session for a worker's whole batch.  A new connection (and TLS
        handshake) per message costs about a tenth of a second, which would cap a worker
        at ten emails a second in an emergency; nothing connects until the first email."""
        self._local.connection = get_connection(fail_silently=False)
        self._local.opened = False
        try:
            yield
        finally:
            connection, self._local.connection = self._local.connection, None
            if self._local.opened:
                with contextlib.suppress(smtplib.SMTPException, OSError):
                    connection.close()

    def _send_message(self, message) -> None:
        connection = getattr(self._local, "connection", None)
        if connection is None:  # outside a batch (a test send): one connection per email
            get_connection(fail_silently=False).send_messages([message])
            return
        try:
            if not self._local.opened:
                connection.open()
                self._local.opened = True
            connection.send_messages([message])
        except (smtplib.SMTPServerDisconnected, OSError):
            # The session is gone: the next email of the batch opens a new one.
            with contextlib.suppress(smtplib.SMTPException, OSError):
                connection.close()
            self._local.opened = False
            raise

    def message(self, delivery) -> EmailMultiAlternatives:
        alert = delivery.alert
        language = delivery.language
        unsubscribe = (tokens.unsubscribe_url(delivery.subscriber_id, language)
                       if delivery.subscriber_id else "")
        with translation.override(language):
            context = {
                "alert": alert, "title": alert.title(language), "body": alert.body(language),
                "unsubscribe_url": unsubscribe,
                "alert_url": tokens.absolute("alertes:detail", language, pk=alert.pk),
            }
            text = render_to_string("alertes/email/alert.txt", context)
            html = render_to_string("alertes/email/alert.html", context)
        headers = {}
        if unsubscribe:
            headers["List-Unsubscribe"] = f"<{unsubscribe}>"
            headers["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
        message = EmailMultiAlternatives(
            subject=alert.title(language), body=text,
            from_email=setting("ALERTES_FROM_EMAIL", settings.DEFAULT_FROM_EMAIL),
            to=[delivery.address], headers=headers,
        )
        message.attach_alternative(html, "text/html")
        return message

    def send(self, delivery) -> str:
        message = self.message(delivery)
        message_id = message.message()["Message-ID"]
        message.extra_headers["Message-ID"] = message_id
        try:
            self._send_message(message)
        except smtplib.SMTPRecipientsRefused as exc:
            code = next(iter(exc.recipients.values()))[0]
            raise DeliveryError(f"SMTP {code}: recipient refused",
                                transient=400 <= code < 500,
                                address_failing=code >= 500) from exc
        except smtplib.SMTPResponseException as exc:
            raise DeliveryError(f"SMTP {exc.smtp_code}: {exc.smtp_error!r}"[:400],
                                transient=exc.smtp_code < 500) from exc
        except (smtplib.SMTPException, OSError) as exc:
            raise DeliveryError(f"SMTP: {exc}"[:400], transient=True) from exc
        return message_id.strip("<>")


def twilio_signature(url: str, params: dict, token: str) -> str:
    """``X-Twilio-Signature``: base64 HMAC-SHA1 of the URL followed by every POST
    parameter, sorted by name, as name + value."""
    payload = url + "".join(f"{key}{params[key]}" for key in sorted(params))
    digest = hmac.new(token.encode(), payload.encode(), hashlib.sha1).digest()
    return base64.b64encode(digest).decode()


class TwilioSMSChannel:
    """SMS through Twilio's Messages API (``POST /2010-04-01/Accounts/{sid}/Messages.json``).

    Settings: ``ALERTES_TWILIO_BASE_URL`` (default ``https://api.twilio.com``),
    ``ALERTES_TWILIO_ACCOUNT_SID``, ``ALERTES_TWILIO_AUTH_TOKEN``, and
    ``ALERTES_TWILIO_FROM`` or ``ALERTES_TWILIO_MESSAGING_SERVICE_SID``.
    """

    code = "sms"
    label = _("Text message (SMS)")
    timeout = 10

    def configured(self) -> bool:
        return bool(setting("ALERTES_TWILIO_ACCOUNT_SID") and setting("ALERTES_TWILIO_AUTH_TOKEN")
                    and (setting("ALERTES_TWILIO_FROM")
                         or setting("ALERTES_TWILIO_MESSAGING_SERVICE_SID")))

    def send(self, delivery) -> str:
        return self.send_text(delivery.address, delivery.alert.sms(delivery.language))

    def send_text(self, to: str, body: str) -> str:
        if not self.configured():
            raise DeliveryError("SMS provider not configured", transient=False)
        fields = {"To": to, "Body": body,
                  "StatusCallback": tokens.absolute("alertes:twilio_status")}
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
        from . import ratelimit

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


def twilio_post(resource: str, fields: dict, *, timeout: float = 10) -> dict:
    """``POST /2010-04-01/Accounts/{sid}/{resource}`` with HTTP basic auth; the JSON
    answer, or :class:`DeliveryError` (429/5xx/network: transient; other 4xx: permanent,
    ``address_failing`` for Twilio's bad-number codes)."""
    sid = setting("ALERTES_TWILIO_ACCOUNT_SID")
    base = setting("ALERTES_TWILIO_BASE_URL", "https://api.twilio.com").rstrip("/")
    if not base.startswith(("https://", "http://")):
        raise DeliveryError("ALERTES_TWILIO_BASE_URL must be an http(s) URL",
                            transient=False)
    url = f"{base}/2010-04-01/Accounts/{sid}/{resource}"
    auth = base64.b64encode(f"{sid}:{setting('ALERTES_TWILIO_AUTH_TOKEN')}".encode())
    request = urllib.request.Request(  # noqa: S310 (scheme checked above)
        url, data=urllib.parse.urlencode(fields).encode(), method="POST",
        headers={"Authorization": f"Basic {auth.decode()}",
                 "Content-Type": "application/x-www-form-urlencoded",
                 "Accept": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310
            return json.loads(response.read() or b"{}")
    except urllib.error.HTTPError as exc:
        status = exc.code
        try:
            data = json.loads(exc.read() or b"{}")
        except ValueError:
            data = {}
        code = data.get("code")
        message = f"HTTP {status} Twilio {code or ''}: {data.get('message', '')}"[:400]
        if status == 429 or status >= 500:
            raise DeliveryError(message, transient=True) from exc
        raise DeliveryError(message, transient=False,
                            address_failing=code in TWILIO_BAD_NUMBER) from exc
    except (urllib.error.URLError, TimeoutError, OSError) as exc:
        raise DeliveryError(f"Twilio unreachable: {exc}"[:400], transient=True) from exc
    except ValueError as exc:
        raise DeliveryError("Twilio answered something that is not JSON",
                            transient=True) from exc


def available_channels() -> dict:
    """Every channel contributed through ``hub_notification_channels``, by code."""
    from hub.plugins.manager import collect

    return {channel.code: channel for channel in collect("hub_notification_channels")
            if hasattr(channel, "send") and isinstance(getattr(channel, "code", None), str)}
