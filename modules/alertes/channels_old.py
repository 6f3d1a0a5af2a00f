"""alertes' own delivery channels (email, SMS here; voice in ``voice.py``, push in
``push.py``), declared through alertes' ``alertes_channels`` hook, and the registry that
collects every enabled module's channels (:func:`available_channels`).

The channel contract (``code``, ``label``, ``send(delivery) -> provider id``,
``normalize_address``, ``needs_verification``, ``concurrent``, ``batch()``,
``throttle(delivery)``) and its error type :class:`DeliveryError` are documented in
``hookspecs.py``, the module a third-party channel may import.  Each of alertes' channels
speaks its provider's real protocol: SMTP through Django's email backend, Twilio's REST
API over HTTP.  ``send`` raises :class:`DeliveryError` with ``transient=True`` for errors
worth retrying (HTTP 429/5xx, timeouts, SMTP 4xx) and ``transient=False`` otherwise
(invalid number, hard bounce), ``address_failing=True`` when the address itself is bad.
A channel's ``throttle(delivery)`` returns the ``Throttle`` (bucket and rate) the worker
waits on before ``send``; without it the bucket is the channel's code at
``ALERTES_RATE_LIMITS[code]`` (unlimited by default).
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import hmac
import json
import logging
import os
import re
import smtplib
import threading
import urllib.parse
import urllib.request
from email.utils import formatdate

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.mail import EmailMultiAlternatives, get_connection
from django.core.mail.backends.smtp import EmailBackend as SMTPBackend
from django.core.mail.message import make_msgid, sanitize_address
from django.core.mail.utils import DNS_NAME
from django.core.validators import validate_email
from django.template.loader import render_to_string
from django.utils import translation
from django.utils.translation import gettext_lazy as _

from . import tokens
from .hookspecs import DeliveryError

logger = logging.getLogger(__name__)

# Twilio error codes that mean "this number will never work".
TWILIO_BAD_NUMBER = {21211, 21214, 21217, 21401, 21407, 21421, 21610, 21612, 21614}


def setting(name: str, default=None):
    return getattr(settings, name, default)


# Placeholders reversed once per URL name and language, then replaced per message:
# ``reverse`` under a language override costs more than the rest of building an SMS.
_URL_TEMPLATES: dict[tuple, str] = {}
_INT_PLACEHOLDER = 918273645546372819
_STR_PLACEHOLDER = "zq0PLACEHOLDER0qz"


def url(name: str, language: str = "fr", **kwargs) -> str:
    """``tokens.absolute(name, language, **kwargs)``, reversed once per name, language
    and keyword names (the values are put in place of placeholders)."""
    key = (settings.BASE_URL, name, language, tuple(sorted(
        (k, isinstance(v, int)) for k, v in kwargs.items())))
    template = _URL_TEMPLATES.get(key)
    if template is None:
        placeholders = {k: (_INT_PLACEHOLDER + i if isinstance(v, int)
                            else f"{_STR_PLACEHOLDER}{i}")
                        for i, (k, v) in enumerate(sorted(kwargs.items()))}
        template = tokens.absolute(name, language, **placeholders)
        if len(_URL_TEMPLATES) > 1000:
            _URL_TEMPLATES.clear()
        _URL_TEMPLATES[key] = template
    for i, (_k, v) in enumerate(sorted(kwargs.items())):
        placeholder = str(_INT_PLACEHOLDER + i if isinstance(v, int)
                          else f"{_STR_PLACEHOLDER}{i}")
        template = template.replace(placeholder, str(v), 1)
    return template


def unsubscribe_url(subscriber_id: int, language: str = "fr") -> str:
    """``tokens.unsubscribe_url`` with the path reversed once per language."""
    return url("alertes:unsubscribe", language, token=tokens.unsubscribe_token(subscriber_id))


class EmailChannel:
    """Email through Django's email backend (SMTP in production), HTML and plain text,
    with RFC 8058 one-click unsubscribe headers.

    Sending threads: within a worker's batch (``batch()``) every sending thread keeps
    its own SMTP session, opened at its first email and closed when the batch ends; the
    texts are rendered once per alert and language, only the unsubscribe link differs.
    """

    code = "email"
    label = _("Email")
    concurrent = True  # send() touches no database: the worker may call it from threads
    needs_verification = True  # confirmed by a signed link (services.add_address)

    @staticmethod
    def normalize_address(value: str) -> str:
        value = (value or "").strip().lower()
        try:
            validate_email(value)
        except ValidationError as exc:
            raise ValidationError(_("Enter a valid email address.")) from exc
        return value

    def __init__(self):
        self._local = threading.local()
        self._batch = None

    @contextlib.contextmanager
    def batch(self):
        """One SMTP session per sending thread for a worker's whole batch.  A new
        connection (and TLS handshake) per message costs about a tenth of a second,
        which would cap a worker at ten emails a second in an emergency; nothing
        connects until the first email."""
        state = {"lock": threading.Lock(), "connections": [], "rendered": {}}
        previous, self._batch = self._batch, state
        try:
            yield
        finally:
            self._batch = previous
            for connection in state["connections"]:
                with contextlib.suppress(smtplib.SMTPException, OSError):
                    connection.close()

    def _session(self):
        """This thread's SMTP connection for the current batch (``None`` outside one)."""
        state = self._batch
        if state is None:
            return None
        local = self._local
        if getattr(local, "state", None) is not state:
            local.state = state
            local.connection = get_connection(fail_silently=False)
            local.opened = False
            with state["lock"]:
                state["connections"].append(local.connection)
        return local.connection

    def _send_message(self, message) -> None:
        connection = self._session()
        if connection is None:  # outside a batch (a test send): one connection per email
            get_connection(fail_silently=False).send_messages([message])
            return
        local = self._local
        try:
            if not local.opened:
                connection.open()
                local.opened = True
            connection.send_messages([message])
        except (smtplib.SMTPServerDisconnected, OSError):
            # The session is gone: the next email of this thread opens a new one.
            with contextlib.suppress(smtplib.SMTPException, OSError):
                connection.close()
            local.opened = False
            raise

    def _texts(self, alert, language: str) -> tuple[str, str, str]:
        """Subject, plain text and HTML of an alert in a language, with a placeholder
        where the unsubscribe link goes; cached for the batch."""
        state = self._batch
        key = (alert.pk, language)
        if state is not None and key in state["rendered"]:
            return state["rendered"][key]
        with translation.override(language):
            context = {
                "alert": alert, "title": alert.title(language), "body": alert.body(language),
                "unsubscribe_url": _STR_PLACEHOLDER,
                "alert_url": url("alertes:detail", language, pk=alert.pk),
            }
            text = render_to_string("alertes/email/alert.txt", context)
            html = render_to_string("alertes/email/alert.html", context)
            context["unsubscribe_url"] = ""
            bare = (render_to_string("alertes/email/alert.txt", context),
                    render_to_string("alertes/email/alert.html", context))
        texts = (alert.title(language), text, html, *bare)
        if state is not None:
            state["rendered"][key] = texts
        return texts

    def notice_message(self, delivery) -> EmailMultiAlternatives:
        """A personal notice (``hub_notify``): its subject, its text and a link to the page
        it is about; no unsubscribe header (a service message about the person's own
        business, not a subscription) but, for an account, a link to the page where the
        person chooses the channels of their notices."""
        notice, language = delivery.notice, delivery.language
        with translation.override(language):
            context = {"subject": notice.subject, "body": notice.body, "url": notice.url,
                       "preferences_url": (url("alertes:subscription", language)
                                           + "#avis-personnels")
                       if delivery.subscriber_id else ""}
            text = render_to_string("alertes/email/notice.txt", context)
            html = render_to_string("alertes/email/notice.html", context)
        message = EmailMultiAlternatives(
            # One line, but the no-break spaces of French typography kept (str.split()
            # would turn them into plain spaces).
            subject=" ".join(part.strip() for part in notice.subject.splitlines()), body=text,
            from_email=setting("ALERTES_FROM_EMAIL", settings.DEFAULT_FROM_EMAIL),
            to=[delivery.address])
        message.attach_alternative(html, "text/html")
        return message

    def message(self, delivery, *, token: str | None = None) -> EmailMultiAlternatives:
        if getattr(delivery, "notice_id", None):
            return self.notice_message(delivery)
        alert = delivery.alert
        language = delivery.language
        subject, text, html, bare_text, bare_html = self._texts(alert, language)
        headers = {}
        if delivery.subscriber_id:
            # The link holds only URL-safe characters (the signed token is base64url), so
            # it reads the same escaped for HTML or not.
            unsubscribe = (url("alertes:unsubscribe", language, token=token) if token
                           else unsubscribe_url(delivery.subscriber_id, language))
            text = text.replace(_STR_PLACEHOLDER, unsubscribe)
            html = html.replace(_STR_PLACEHOLDER, unsubscribe)
            headers["List-Unsubscribe"] = f"<{unsubscribe}>"
            headers["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
        else:
            text, html = bare_text, bare_html
        message = EmailMultiAlternatives(
            subject=subject, body=text,
            from_email=setting("ALERTES_FROM_EMAIL", settings.DEFAULT_FROM_EMAIL),
            to=[delivery.address], headers=headers,
        )
        message.attach_alternative(html, "text/html")
        return message

    _PLAIN_ADDRESS = re.compile(r"[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@[A-Za-z0-9.-]+")
    _TO = "zq0to0qz@placeholder.invalid"
    _DATE = "zq0DATE0qz"
    _MESSAGE_ID = "<zq0MSGID0qz@placeholder.invalid>"

    def _template(self, delivery) -> tuple[str, bytes] | None:
        """The alert's message in the delivery's language as SMTP bytes, generated
        once per batch with placeholders for what differs per recipient (``To``, the
        unsubscribe link, ``Date``, ``Message-ID``); ``None`` when the bytes would not
        hold each placeholder exactly where expected (then the message is built the
        ordinary way)."""
        state = self._batch
        key = ("bytes", delivery.alert_id, delivery.language, bool(delivery.subscriber_id))
        if key in state["rendered"]:
            return state["rendered"][key]
        probe = type(delivery)(alert=delivery.alert, language=delivery.language,
                               subscriber_id=delivery.subscriber_id, address=self._TO,
                               channel=delivery.channel)
        subscriber_id = delivery.subscriber_id
        message = self.message(probe, token=_STR_PLACEHOLDER if subscriber_id else None)
        message.extra_headers["Date"] = self._DATE
        message.extra_headers["Message-ID"] = self._MESSAGE_ID
        data = message.message().as_bytes(linesep="\r\n")
        expected = {self._TO.encode(): 1, self._DATE.encode(): 1,
                    self._MESSAGE_ID.encode(): 1,
                    _STR_PLACEHOLDER.encode(): 3 if subscriber_id else 0}
        template = None
        if all(data.count(k) == n for k, n in expected.items()):
            template = (sanitize_address(message.from_email, message.encoding
                                         or settings.DEFAULT_CHARSET), data)
        state["rendered"][key] = template
        return template

    def _send_fast(self, delivery, message_id: str) -> bool:
        """Send from the batch's byte template over this thread's SMTP session; False
        when the fast way does not apply (not SMTP, an address needing encoding...)."""
        if self._batch is None or not self._PLAIN_ADDRESS.fullmatch(delivery.address) \
                or getattr(delivery, "notice_id", None):  # a notice is sent once: no template
            return False
        connection = self._session()
        if type(connection) is not SMTPBackend:
            return False
        template = self._template(delivery)
        if template is None:
            return False
        from_email, data = template
        data = (data.replace(self._TO.encode(), delivery.address.encode())
                .replace(self._DATE.encode(), formatdate(
                    localtime=settings.EMAIL_USE_LOCALTIME).encode())
                .replace(self._MESSAGE_ID.encode(), message_id.encode()))
        if delivery.subscriber_id:
            token = tokens.unsubscribe_token(delivery.subscriber_id)
            data = data.replace(_STR_PLACEHOLDER.encode(), token.encode())
        local = self._local
        try:
            if not local.opened:
                connection.open()
                local.opened = True
            connection.connection.sendmail(from_email, [delivery.address], data)
        except (smtplib.SMTPServerDisconnected, OSError):
            with contextlib.suppress(smtplib.SMTPException, OSError):
                connection.close()
            local.opened = False
            raise
        return True

    def send(self, delivery) -> str:
        message_id = make_msgid(domain=DNS_NAME)
        try:
            if not self._send_fast(delivery, message_id):
                message = self.message(delivery)
                message.extra_headers["Message-ID"] = message_id
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


def notice_sms(notice) -> str:
    """A notice's text message: its short text (else its subject) and its link, spelt in
    GSM-7 (ê → e…) so that it stays 160 characters a segment, as alerts' texts are
    checked to; a text that would still take more than ``MAX_SEGMENTS`` is cut, the link
    kept."""
    from . import sms as sms_length

    text = sms_length.gsm7_safe(" ".join((notice.short or notice.subject).split()))
    link = notice.url or ""
    budget = 153 * sms_length.MAX_SEGMENTS - (len(link) + 1 if link else 0)
    if sms_length.measure(text).characters > budget:
        text = text[:max(0, budget - 3)].rstrip() + "..."
    return f"{text} {link}".strip() if link and link not in text else text


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
    concurrent = True  # send() touches no database
    needs_verification = True  # confirmed by a texted 6-digit code (services.add_address)
    timeout = 10

    @staticmethod
    def normalize_address(value: str) -> str:
        from .services import normalize_phone  # services imports this module

        return normalize_phone(value)

    def configured(self) -> bool:
        return bool(setting("ALERTES_TWILIO_ACCOUNT_SID") and setting("ALERTES_TWILIO_AUTH_TOKEN")
                    and (setting("ALERTES_TWILIO_FROM")
                         or setting("ALERTES_TWILIO_MESSAGING_SERVICE_SID")))

    def send(self, delivery) -> str:
        if getattr(delivery, "notice_id", None):
            return self.send_text(delivery.address, notice_sms(delivery.notice))
        return self.send_text(delivery.address, delivery.alert.sms(delivery.language))

    def send_text(self, to: str, body: str) -> str:
        if not self.configured():
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


_http_lock = threading.Lock()
_http_pools: dict = {}


def http_pool():
    """The process's pool of kept-alive HTTP connections to providers (urllib3,
    thread-safe: each sending thread takes its own connection; up to 16 per host).  The
    environment's HTTPS proxy (``https_proxy``) is honoured, read once."""
    import urllib3

    key = os.getpid()
    with _http_lock:
        pool = _http_pools.get(key)
        if pool is None:
            proxy = urllib.request.getproxies().get("https")
            options = {"maxsize": 16, "block": False, "retries": False}
            ca = os.environ.get("REQUESTS_CA_BUNDLE") or os.environ.get("SSL_CERT_FILE")
            if ca:
                options["ca_certs"] = ca
            pool = (urllib3.ProxyManager(proxy, **options) if proxy
                    else urllib3.PoolManager(**options))
            _http_pools.clear()
            _http_pools[key] = pool
        return pool


def twilio_post(resource: str, fields: dict, *, timeout: float = 10) -> dict:
    """``POST /2010-04-01/Accounts/{sid}/{resource}`` with HTTP basic auth over a kept-alive
    connection; the JSON answer, or :class:`DeliveryError` (429/5xx/network: transient;
    other 4xx: permanent, ``address_failing`` for Twilio's bad-number codes)."""
    import urllib3

    sid = setting("ALERTES_TWILIO_ACCOUNT_SID")
    base = setting("ALERTES_TWILIO_BASE_URL", "https://api.twilio.com").rstrip("/")
    if not base.startswith(("https://", "http://")):
        raise DeliveryError("ALERTES_TWILIO_BASE_URL must be an http(s) URL",
                            transient=False)
    url = f"{base}/2010-04-01/Accounts/{sid}/{resource}"
    auth = base64.b64encode(f"{sid}:{setting('ALERTES_TWILIO_AUTH_TOKEN')}".encode())
    try:
        # urllib3 directly (requests' per-call preparation cost more CPU than the post);
        # the body as bytes leaves in the same packet as the headers.
        response = http_pool().request(
            "POST", url, body=urllib.parse.urlencode(fields).encode(),
            headers={"Authorization": f"Basic {auth.decode()}",
                     "Content-Type": "application/x-www-form-urlencoded",
                     "Accept": "application/json"},
            timeout=urllib3.Timeout(connect=timeout, read=timeout), retries=False,
            redirect=False)
        content = response.data
    except (urllib3.exceptions.HTTPError, OSError) as exc:
        raise DeliveryError(f"Twilio unreachable: {exc}"[:400], transient=True) from exc
    status = response.status
    if 200 <= status < 300:
        try:
            return json.loads(content or b"{}")
        except ValueError as exc:
            raise DeliveryError("Twilio answered something that is not JSON",
                                transient=True) from exc
    try:
        data = json.loads(content or b"{}")
    except ValueError:
        data = {}
    if not isinstance(data, dict):
        data = {}
    code = data.get("code")
    message = f"HTTP {status} Twilio {code or ''}: {data.get('message', '')}"[:400]
    if status == 429 or status >= 500 or status < 200:
        raise DeliveryError(message, transient=True)
    raise DeliveryError(message, transient=False, address_failing=code in TWILIO_BAD_NUMBER)


CODE_MAX_LENGTH = 10  # Address.channel and Delivery.channel are 10 characters


def _valid(channel, module: str) -> bool:
    code = getattr(channel, "code", None)
    if not isinstance(code, str) or not code or len(code) > CODE_MAX_LENGTH:
        logger.warning("Channel %r of module %s ignored: its code must be a string of 1 to "
                       "%d characters", channel, module, CODE_MAX_LENGTH)
        return False
    if not callable(getattr(channel, "send", None)) or not getattr(channel, "label", None):
        logger.warning("Channel %r of module %s ignored: it needs a label and send(delivery)",
                       code, module)
        return False
    return True


def available_channels() -> dict:
    """Every channel the enabled modules declare through ``alertes_channels``, by code,
    in module order (``hub_module()["order"]``; alertes' own is 20).  A code declared
    twice keeps the first module's channel, and the other is logged; an object without
    a usable code, label or ``send`` is logged and left out."""
    from hub.plugins.manager import hooks, ordered_hookimpls

    caller = getattr(hooks(), "alertes_channels", None)
    if caller is None:  # alertes' hookspecs not added (cannot happen while it is enabled)
        return {}
    found: dict = {}
    owners: dict[str, str] = {}
    for impl in ordered_hookimpls(caller):
        for channel in impl.function() or []:
            if not _valid(channel, impl.plugin_name):
                continue
            if channel.code in found:
                logger.warning("Channel %r of module %s ignored: module %s already declares "
                               "it", channel.code, impl.plugin_name, owners[channel.code])
                continue
            found[channel.code] = channel
            owners[channel.code] = impl.plugin_name
    return found


def channel_label(code: str) -> str:
    """The label of a registered channel, or the bare code of one no longer installed
    (its old addresses and deliveries still show)."""
    channel = available_channels().get(code)
    return str(channel.label) if channel is not None else code


def channel_choices(*, addable: bool = False) -> list[tuple[str, str]]:
    """``[(code, label)]`` of the registered channels, for forms and serializers;
    ``addable`` keeps those a resident can type an address for (``normalize_address``)."""
    return [(code, channel.label) for code, channel in available_channels().items()
            if not addable or callable(getattr(channel, "normalize_address", None))]


def needs_verification(code: str) -> bool:
    """Whether an address on this channel must be confirmed before it is reached (an
    unknown channel is never reached: it counts as needing it)."""
    channel = available_channels().get(code)
    return channel is None or bool(getattr(channel, "needs_verification", False))


def unverified_reachable(channels: dict | None = None) -> list[str]:
    """Codes of the channels whose addresses are reached without a confirmation."""
    channels = available_channels() if channels is None else channels
    return [code for code, channel in channels.items()
            if not getattr(channel, "needs_verification", False)]
