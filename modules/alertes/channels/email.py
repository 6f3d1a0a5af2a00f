"""Email through Django's email backend (SMTP in production): alerts with RFC 8058
one-click unsubscribe, personal notices with a link to their preferences."""

from __future__ import annotations

import contextlib
import re
import smtplib
import threading
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

from .. import tokens
from .contract import DeliveryError, setting
from .links import _STR_PLACEHOLDER, unsubscribe_url, url


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
        # The subject is one line whatever the title holds (no header injection).
        texts = (" ".join(alert.title(language).split()), text, html, *bare)
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
            sender = sanitize_address(message.from_email, message.encoding
                                      or settings.DEFAULT_CHARSET)
            template = (smtplib.quoteaddr(sender), data)  # "<addr-spec>", parsed once
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
            self._transaction(connection.connection, from_email, delivery.address, data)
        except (smtplib.SMTPServerDisconnected, OSError):
            with contextlib.suppress(smtplib.SMTPException, OSError):
                connection.close()
            local.opened = False
            raise
        return True

    @staticmethod
    def _transaction(smtp: smtplib.SMTP, sender: str, address: str, data: bytes) -> None:
        """``smtplib.SMTP.sendmail`` for one plain recipient (``_PLAIN_ADDRESS``) and a
        sender quoted once per batch: the same commands and errors, without parsing both
        addresses again for every message."""
        smtp.ehlo_or_helo_if_needed()

        def refused(code: int) -> None:
            if code == 421:  # the server is closing the session
                smtp.close()
            else:
                smtp.rset()

        code, answer = smtp.docmd("mail", f"FROM:{sender}")
        if code != 250:
            refused(code)
            raise smtplib.SMTPSenderRefused(code, answer, sender)
        code, answer = smtp.docmd("rcpt", f"TO:<{address}>")
        if code not in (250, 251):
            refused(code)
            raise smtplib.SMTPRecipientsRefused({address: (code, answer)})
        code, answer = smtp.data(data)
        if code != 250:
            refused(code)
            raise smtplib.SMTPDataError(code, answer)

    def reference(self, delivery) -> str:
        """The message's ``Message-ID``, chosen before the send and stored on the row, so
        that a message whose worker died during the SMTP session can be found in the
        mail server's log; a retry keeps the same one."""
        return delivery.provider_id or make_msgid(domain=DNS_NAME).strip("<>")

    def send(self, delivery) -> str:
        message_id = (f"<{delivery.provider_id}>" if getattr(delivery, "provider_id", "")
                      else make_msgid(domain=DNS_NAME))
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
