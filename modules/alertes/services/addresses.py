"""The addresses a subscriber is reached at, and their verification: an email address is
confirmed by a signed link, a mobile number by a texted 6-digit code (hashed, at most
``MAX_CODE_ATTEMPTS`` tries), so an alert never goes to somebody who did not ask.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import re
import secrets
import smtplib
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.mail import send_mail
from django.db import transaction
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from hub.models import SiteSettings

from .. import sms as sms_length
from .. import tokens
from ..channels import DeliveryError, TwilioSMSChannel, available_channels
from ..models import (
    Address,
    Channel,
    ConsentRecord,
    Subscriber,
)
from .subscriptions import record_consent

logger = logging.getLogger(__name__)

MAX_CODE_ATTEMPTS = 5
CODE_RESEND_AFTER = timedelta(seconds=60)
CODE_VALID_FOR = timedelta(minutes=30)


def _code_hash(address_id: int, code: str) -> str:
    key = (settings.SECRET_KEY + ":alertes-sms-code").encode()
    return hmac.new(key, f"{address_id}:{code}".encode(), hashlib.sha256).hexdigest()


@transaction.atomic
def add_address(subscriber: Subscriber, channel: str, value: str, *, method: str = "web",
                actor=None, verified: bool = False) -> Address:
    """Add an address on any registered channel (``alertes_channels``), checked and
    normalised by the channel itself (``normalize_address``); email gets a verification
    link, a mobile number (SMS) a 6-digit code.  ``verified=True`` is for staff
    registering a resident who consented.  An unknown channel, or one whose addresses
    are not typed in (push), is a ``ValidationError`` on ``channel``; a bad value one on
    ``value``; nothing is saved then."""
    handler = available_channels().get(channel) if isinstance(channel, str) else None
    if handler is None:
        raise ValidationError({"channel": _("Unknown channel “%(code)s”.") % {
            "code": str(channel)[:40]}})
    normalize = getattr(handler, "normalize_address", None)
    if not callable(normalize):
        raise ValidationError({"channel": _("This channel cannot be added here.")})
    try:
        value = normalize(value or "")
    except ValidationError as exc:
        raise ValidationError({"value": exc.messages}) from exc
    if not isinstance(value, str) or not value or len(value) > 500:
        raise ValidationError({"value": _("Enter a valid address for this channel.")})
    address, created = Address.objects.get_or_create(subscriber=subscriber, channel=channel,
                                                     value=value)
    if verified and not address.verified:
        address.verified_at = timezone.now()
        address.save(update_fields=["verified_at"])
    if created:
        record_consent(subscriber, ConsentRecord.Action.GIVEN, f"channel:{channel}", method,
                       actor)
    if not address.verified and channel == Channel.EMAIL:
        # The link is mailed once this transaction commits; its outcome is kept the same
        # way as a texted code's, so nobody is told "sent" when the mail server refused.
        outcome = CodeSending()
        address.code_sending = outcome
        transaction.on_commit(lambda: _mail_link(address, outcome))
    elif not address.verified and channel == Channel.SMS:
        # What became of the code (known once this transaction commits): the page says
        # "sent" only when the provider took it.
        address.code_sending = send_sms_code(address)
    return address


def account_email_offer(subscriber: Subscriber, user) -> str:
    """The signed-in resident's account email when it was verified (at sign-up) and is
    not yet one of the subscriber's email addresses, else ``""``: the subscription page
    offers it in one click, with no new confirmation."""
    email = (getattr(user, "email", "") or "").strip().lower()
    if not email or subscriber is None or not user.has_verified_email():
        return ""
    if subscriber.addresses.filter(channel=Channel.EMAIL, value__iexact=email).exists():
        return ""
    return email


def add_account_email(subscriber: Subscriber, user, *, method: str = "web") -> Address:
    """The account's own email as an email address of ``subscriber``, verified at once:
    the account's sign-up already confirmed it belongs to this person.  An account whose
    email is not verified is a ``ValidationError`` (add it as any address instead, with
    its link)."""
    if not user.has_verified_email():
        raise ValidationError({"value": _("Your account's email address is not confirmed "
                                          "yet.")})
    return add_address(subscriber, Channel.EMAIL, user.email, method=method, actor=user,
                       verified=True)


def send_email_verification(address: Address) -> None:
    language = address.subscriber.language
    link = tokens.absolute("alertes:verify_email", language,
                           token=tokens.verify_token(address.pk, address.value))
    with translation.override(language):
        send_mail(_("Confirm your email address for the city's alerts"),
                  _("To receive the city's alerts at this address, open this link:\n\n%(link)s"
                    "\n\nIf you did not ask for it, ignore this message.") % {"link": link},
                  None, [address.value])


def _mail_link(address: Address, outcome: CodeSending) -> None:
    try:
        send_email_verification(address)
    except (OSError, smtplib.SMTPException) as exc:  # refused, unreachable, timed out
        logger.warning("Confirmation link could not be mailed", exc_info=True)
        outcome.state, outcome.error = "failed", _smtp_error(exc)
    else:
        outcome.state = "sent"


def _smtp_error(exc: Exception) -> str:
    """The failure in the words the delivery errors use (``describe_error`` translates
    them): "SMTP 550: recipient refused", not a dict of recipients."""
    if isinstance(exc, smtplib.SMTPRecipientsRefused) and exc.recipients:
        code = next(iter(exc.recipients.values()))[0]
        return f"SMTP {code}: recipient refused"
    if isinstance(exc, smtplib.SMTPResponseException):
        return f"SMTP {exc.smtp_code}: {exc.smtp_error!r}"[:400]
    return f"SMTP: {exc or exc.__class__.__name__}"[:400]


def verify_email(token: str) -> Address:
    """Verify an email address from its signed link.  Raises ``tokens.BadToken``."""
    address_id, value = tokens.read_verify_token(token)
    address = Address.objects.filter(pk=address_id, value=value,
                                     channel=Channel.EMAIL).first()
    if address is None:
        raise tokens.BadToken("unknown address")
    if not address.verified:
        address.verified_at = timezone.now()
        address.failing = False
        address.save(update_fields=["verified_at", "failing"])
    return address


@dataclass
class CodeSending:
    """What became of a texted code, filled in when it is handed to the provider (on
    commit): ``state`` is ``pending`` (not yet tried), ``sent`` (the provider accepted
    it), ``sandbox`` (no provider: it went to the test box) or ``failed`` (``error``: the
    provider's reason, :attr:`reason` in the active language)."""

    state: str = "pending"
    error: str = ""

    @property
    def reason(self) -> str:
        from .status import describe_error

        return describe_error(self.error)

    def message(self, by_email: bool = False, sent: str = "") -> str:
        """What to tell the person, in the active language: ``sent`` (or the default
        "we sent…") only when the provider took the code or the link; the reason when it
        did not.  One wording for the web page and the API."""
        if self.state == "sent":
            return sent or (_("We sent a confirmation link to this address.") if by_email
                            else _("We sent a 6-digit code to this number."))
        if self.state == "sandbox":
            return _("No SMS provider is configured on this test server: the code was put "
                     "in the test box instead of being texted.")
        if self.state == "failed":
            failed = (_("The confirmation link could not be sent: %(reason)s") if by_email
                      else _("The code could not be sent: %(reason)s"))
            return failed % {"reason": self.reason}
        return _("The code is being sent; if it does not arrive, ask for a new code in a "
                 "minute.")


def send_sms_code(address: Address, *, now: datetime | None = None) -> CodeSending:
    """Text a new 6-digit code (at most one a minute); resets the attempt counter.
    Returns its :class:`CodeSending`, filled in once the transaction commits (at once
    outside one)."""
    now = now or timezone.now()
    if address.code_sent_at and now - address.code_sent_at < CODE_RESEND_AFTER:
        raise ValidationError(_("A code was sent less than a minute ago; wait a moment."))
    code = f"{secrets.randbelow(10**6):06d}"
    address.code_hash = _code_hash(address.pk, code)
    address.code_sent_at = now
    address.code_attempts = 0
    address.save(update_fields=["code_hash", "code_sent_at", "code_attempts"])
    with translation.override(address.subscriber.language):
        body = _("%(city)s: your code is %(code)s") % {
            "city": SiteSettings.current().city_name, "code": code}
    body = sms_length.gsm7_safe(body)
    outcome = CodeSending()
    transaction.on_commit(lambda: _text_code(address.value, body, outcome))
    return outcome


def _text_code(to: str, body: str, outcome: CodeSending | None = None) -> None:
    outcome = outcome if outcome is not None else CodeSending()
    try:
        provider_id = TwilioSMSChannel().send_text(to, body)
    except DeliveryError as exc:
        logger.warning("Verification code could not be sent", exc_info=True)
        outcome.state, outcome.error = "failed", str(exc)
    else:
        sandboxed = str(provider_id or "").startswith("sandbox:")
        outcome.state = "sandbox" if sandboxed else "sent"


def verify_sms_code(address: Address, code: str, *, now: datetime | None = None) -> Address:
    """Check a code; locked after ``MAX_CODE_ATTEMPTS`` wrong tries (ask for a new one)."""
    now = now or timezone.now()
    with transaction.atomic():
        address = Address.objects.select_for_update().get(pk=address.pk)
        if address.verified:
            return address
        if not address.code_hash:
            raise ValidationError(_("Ask for a code first."))
        if address.code_attempts >= MAX_CODE_ATTEMPTS:
            raise ValidationError(_("Too many wrong codes: ask for a new code."))
        if address.code_sent_at and now - address.code_sent_at > CODE_VALID_FOR:
            raise ValidationError(_("This code has expired: ask for a new code."))
        given = re.sub(r"\s", "", code or "")
        if not hmac.compare_digest(_code_hash(address.pk, given), address.code_hash):
            address.code_attempts += 1
            address.save(update_fields=["code_attempts"])
            left = MAX_CODE_ATTEMPTS - address.code_attempts
            if left <= 0:
                error = _("Too many wrong codes: ask for a new code.")
            else:
                error = _("Wrong code (%(left)d tries left).") % {"left": left}
            wrong = ValidationError(error)
        else:
            address.verified_at = now
            address.code_hash = ""
            address.failing = False
            address.save(update_fields=["verified_at", "code_hash", "failing"])
            return address
    raise wrong


@transaction.atomic
def remove_address(address: Address, method: str = "web", actor=None) -> None:
    record_consent(address.subscriber, ConsentRecord.Action.WITHDRAWN,
                   f"channel:{address.channel}", method, actor)
    address.delete()
