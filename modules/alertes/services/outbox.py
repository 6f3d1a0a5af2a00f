"""Domain operations of `alertes`: subscriptions and consent, address verification,
sending alerts through the outbox, delivery, webhooks.  Views, the admin and the API all
call these functions.

Delivery guarantee (DESIGN.md rule 5, "nothing is lost on the way out")
======================================================================

Sending an alert writes the outbox first: one ``Delivery`` row per recipient address and
channel, in bulk, with a unique ``(alert, channel, address)`` constraint, so an address
appears once per alert whatever the overlap of topics, zones or subscribers.  Only then,
in ``transaction.on_commit``, are batches of delivery **ids** enqueued with django-tasks
(never addresses).  An emergency's outbox is written in chunks (``build_in_chunks``:
ranges of subscriber ids, one ``INSERT … SELECT`` each, growing from 1,000 to 8,000
subscribers), each committed and enqueued before the next is written, so the first
messages leave within a second of "send"; until the last chunk is written the alert's
``audience_size`` stays 0, which keeps it ``sending`` and lets ``dispatch_due()`` finish
a build whose process died (the build is idempotent).

A worker *claims* rows atomically, ``CLAIM_SIZE`` at a time (``queued → sending``:
``SELECT … FOR UPDATE SKIP LOCKED`` on PostgreSQL, a conditional ``UPDATE … WHERE
status='queued'`` elsewhere, marking the rows with a claim token), hands them to their
channels — concurrently, from a few sending threads, for channels whose ``send`` touches
no database (``concurrent = True``), never more lanes per provider bucket than its rate
allows — then records the outcomes in a few bulk ``UPDATE``s (``sent`` with each row's
provider id, ``failed``, back to ``queued``), each still conditioned on the claim.

* Broker down, task lost, or worker killed before the claim: the rows stay ``queued``;
  ``dispatch_due()`` (``manage.py alertes dispatch``, run every minute) enqueues them
  again.  A duplicate task is harmless: only one worker wins the claim.
* Worker killed after the claim: the row stays ``sending`` (the whole claimed chunk,
  up to ``CLAIM_SIZE`` rows, whose outcomes were not yet recorded).  Nobody can know
  whether the provider got it, so it is never resent silently: after
  ``ALERTES_STUCK_AFTER`` seconds (default 900) ``dispatch_due()`` moves it to
  ``review`` for a person to check in the alert's report (``resolve_review`` resends it
  or records it as sent).
* Transient provider errors (HTTP 429, 5xx, timeouts, SMTP 4xx) put the row back in
  ``queued`` with ``not_before`` = now + exponential backoff with jitter, up to
  ``MAX_ATTEMPTS``; permanent ones (invalid number, hard bounce) fail the row at once and
  mark the address as failing, so later alerts skip it.
* Process killed while writing an emergency's outbox: the chunks written are already
  enqueued (or found by the sweep as ``queued``); the sweep writes the missing chunks
  after ``ALERTES_BUILD_RESUME_AFTER`` seconds (default 120).

Per channel:

* **email** (SMTP): ``sent`` means the SMTP server accepted the message (250).  At most
  once per address and alert; a crash between the server's 250 and our ``UPDATE`` leaves
  the row in ``review``, not resent.  Bounces arriving later are not read back.
* **sms** (Twilio): ``sent`` means Twilio answered 201 with a message sid; ``delivered``
  / ``failed`` come from Twilio's signed status callback.  At most once, ambiguous
  outcomes go to ``review``.
* **voice** (Twilio calls, ``voice.py``): ``sent`` means Twilio created the call (201
  with a call sid); ``delivered`` comes from the signed status callback ``completed``
  (a person listened, or a voicemail was left: ``answered_by``), and pressing 1 sets
  ``acknowledged_at``.  Busy or no answer puts the row back in ``queued`` for another
  call after a delay, three calls in all, then ``failed``.  At most once per call
  attempt; a crash after Twilio's 201 goes to ``review`` like the others.
* **push** (Web Push, ``push.py``): ``sent`` means the push service accepted the
  encrypted message (201); there is no delivery receipt.  404/410 means the browser
  dropped the subscription: the address is deleted and the row fails.  App tokens go
  through the ``alertes_app_push`` hook with the same outcomes.
* Other channels contributed by other modules get the same outbox guarantee: the rows,
  claims and review are channel-independent.

Pacing: before each send the worker takes a slot of the provider's rate
(``ratelimit.py``: per sender number for SMS, per account for calls); a slot further
than 30 s away sends the row back to ``queued`` for later, without counting an attempt
(and the rest of that sending lane with it).

Throughput (``bench/alertes.py``): the provider sessions are kept for the batch (one
SMTP session per sending thread, kept-alive HTTP connections to Twilio), an email's
texts are rendered once per alert and language, and the URLs reversed once per name
and language; what is left per message is the provider's own protocol.
"""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import logging
import math
import random
import re
import secrets
import threading
import unicodedata
import uuid
from collections.abc import Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.mail import send_mail
from django.db import connection, transaction
from django.db.models import (
    Case,
    CharField,
    Count,
    DateTimeField,
    Exists,
    F,
    Max,
    Min,
    OuterRef,
    Q,
    Value,
    When,
)
from django.db.models.functions import Cast, Concat
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from .. import ratelimit, tokens
from .. import sms as sms_length
from ..channels import DeliveryError, TwilioSMSChannel, available_channels, unverified_reachable
from ..models import (
    Address,
    Alert,
    Channel,
    ConsentRecord,
    Delivery,
    Subscriber,
    Topic,
    TopicSubscription,
)

logger = logging.getLogger(__name__)

MAX_ATTEMPTS = 5
MAX_CODE_ATTEMPTS = 5
CODE_RESEND_AFTER = timedelta(seconds=60)
CODE_VALID_FOR = timedelta(minutes=30)
BATCH_SIZE = 500
ENQUEUE_PAGE = 5000
CLAIM_SIZE = 100
INSERT_BATCH = 2000


class AlertError(ValidationError):
    """An alert cannot be sent as it is (the message says why)."""


def setting(name: str, default):
    return getattr(settings, name, default)


# --- subscribers and consent ----------------------------------------------------------

def subscriber_for(user, *, create: bool = True) -> Subscriber | None:
    """The subscriber of a signed-in citizen (created on first use)."""
    try:
        return user.alert_subscriber
    except Subscriber.DoesNotExist:
        if not create:
            return None
    language = getattr(user, "preferred_language", "fr")
    return Subscriber.objects.create(user=user, language=language if language in ("fr", "en")
                                     else "fr")


def record_consent(subscriber, action: str, scope: str, method: str, actor=None,
                   note: str = "") -> ConsentRecord:
    return ConsentRecord.objects.create(subscriber=subscriber, action=action, scope=scope[:120],
                                        method=method, actor=actor, note=note[:255])


def emergency_topics():
    return Topic.objects.filter(is_emergency=True)


def place_resident(civic_address: str = "", point=None):
    """Where a resident lives, from the civic address register (``hub.addresses``):
    ``(address as stored, district)``.  A point ``(latitude, longitude)`` wins over the
    address; an address not in the register (or in no district) is a ``ValidationError``
    on ``civic_address``, unless the city has loaded no register yet (the typed text is
    kept, no district)."""
    from hub import addresses
    from hub.models import CivicAddress

    civic_address = " ".join((civic_address or "").split())[:255]
    if point is not None:
        district = addresses.district_for_point(*point)
        if district is None:
            raise ValidationError({"latitude": _(
                "This point is in none of the city's districts: place it where you live, "
                "in the city.")})
        return civic_address, district
    if not civic_address:
        return "", None
    found = addresses.geocode(civic_address)
    if found is None:
        if not CivicAddress.objects.exists():
            return civic_address, None
        raise ValidationError({"civic_address": _(
            "This address is not in the city's address register. Check the civic number "
            "and the street (for example: 41 rue Victoria), or place a point on the map.")})
    if found.district_id is None:
        raise ValidationError({"civic_address": _(
            "This address is in none of the city's districts.")})
    return found.label, found.district


@transaction.atomic
def update_preferences(subscriber: Subscriber, *, topics: Iterable[Topic], language: str,
                       district=None, quiet_start=None, quiet_end=None, method: str = "web",
                       actor=None, civic_address: str | None = None,
                       point: tuple[float, float] | None = None) -> Subscriber:
    """Set the topics (emergency topics are always kept), language, zone and quiet
    hours; every topic added or removed is a consent record.  With ``civic_address``
    (or a map ``point``), the zone is the district of that address in the civic address
    register (``place_resident``) unless ``district`` is given (staff override); an
    address not found is an error and nothing changes.  ``civic_address=None`` leaves the
    stored address alone."""
    if language not in ("fr", "en"):
        raise ValidationError({"language": _("Choose French or English.")})
    if (quiet_start is None) != (quiet_end is None):
        raise ValidationError({"quiet_end": _("Give both the start and the end of the "
                                              "quiet hours, or neither.")})
    if civic_address is not None or point is not None:
        stored, placed = place_resident(civic_address or "", point)
        if civic_address is not None:
            subscriber.civic_address = stored
        if district is None:
            district = placed
    wanted = {t.pk: t for t in topics} | {t.pk: t for t in emergency_topics()}
    current = set(TopicSubscription.objects.filter(subscriber=subscriber)
                  .values_list("topic_id", flat=True))
    for topic_id in set(wanted) - current:
        TopicSubscription.objects.create(subscriber=subscriber, topic_id=topic_id)
        record_consent(subscriber, ConsentRecord.Action.GIVEN, f"topic:{wanted[topic_id].slug}",
                       method, actor)
    removed = current - set(wanted)
    for topic in Topic.objects.filter(pk__in=removed):
        record_consent(subscriber, ConsentRecord.Action.WITHDRAWN, f"topic:{topic.slug}",
                       method, actor)
    TopicSubscription.objects.filter(subscriber=subscriber, topic_id__in=removed).delete()
    if not subscriber.active:
        record_consent(subscriber, ConsentRecord.Action.GIVEN, "all", method, actor)
    subscriber.active = True
    subscriber.language = language
    subscriber.district = district
    subscriber.quiet_start, subscriber.quiet_end = quiet_start, quiet_end
    subscriber.save()
    return subscriber


@transaction.atomic
def leave(subscriber: Subscriber, method: str, actor=None, note: str = "") -> None:
    """Leave the service in one step: nothing more is sent to this subscriber."""
    if subscriber.active:
        subscriber.active = False
        subscriber.save(update_fields=["active"])
    record_consent(subscriber, ConsentRecord.Action.WITHDRAWN, "all", method, actor, note)


def unsubscribe_with_token(token: str) -> Subscriber:
    """One-click unsubscribe from an email link (RFC 8058).  Raises ``tokens.BadToken``."""
    subscriber_id = tokens.read_unsubscribe_token(token)
    subscriber = Subscriber.objects.filter(pk=subscriber_id).first()
    if subscriber is None:
        raise tokens.BadToken("unknown subscriber")
    leave(subscriber, ConsentRecord.Method.EMAIL_LINK)
    return subscriber


@transaction.atomic
def register_resident(*, name: str, phone: str = "", email: str = "", civic_address: str = "",
                      language: str = "fr", district=None, topics: Iterable[Topic] = (),
                      voice: bool = True, sms: bool = False, actor=None,
                      method: str = ConsentRecord.Method.STAFF,
                      consent_note: str = "") -> Subscriber:
    """Staff register a resident without an account (e.g. a senior with a landline) who
    gave their consent (by phone, at the counter): the consent is recorded with its
    circumstances, the addresses count as verified by the staff member.  Without a
    ``district``, the civic address places the resident (``place_resident``)."""
    if actor is None or not can_register(actor):
        raise PermissionDenied(_("You may not register residents."))
    if not (phone or email):
        raise ValidationError(_("Give a phone number or an email address."))
    if language not in ("fr", "en"):
        raise ValidationError(_("Choose French or English."))
    if district is None and civic_address:  # placed in a zone from the address register
        civic_address, district = place_resident(civic_address)
    subscriber = Subscriber.objects.create(name=name[:150], civic_address=civic_address[:255],
                                           language=language, district=district,
                                           registered_by=actor)
    record_consent(subscriber, ConsentRecord.Action.GIVEN, "all", method, actor, consent_note)
    given = [(Channel.VOICE, phone, "phone", phone and voice),
             (Channel.SMS, phone, "phone", phone and sms), (Channel.EMAIL, email, "email", email)]
    for channel, value, field, wanted in given:
        if not wanted:
            continue
        try:
            add_address(subscriber, channel, value, method=method, actor=actor, verified=True)
        except ValidationError as exc:  # named after the form's field, not add_address's
            raise ValidationError({field: exc.messages}) from exc
    update_preferences(subscriber, topics=topics, language=language, district=district,
                       method=method, actor=actor)
    return subscriber


def can_register(user) -> bool:
    return bool(user and user.is_active and user.has_perm("alertes.send_alert"))


def import_residents(rows: Iterable[dict], actor, *, dry_run: bool = True,
                     consent_note: str = "") -> dict:
    """Import residents from CSV rows (``name``, ``phone``, ``email``, ``address``,
    ``language``, ``district`` slug, ``topics`` slugs separated by ``;``).  Each line is
    checked; ``dry_run`` shows what would happen without writing anything.  An empty
    district is found from the address in the civic address register (a line whose
    address is not found is an error).  Returns
    ``{"created": n, "errors": [(line, message), …]}``."""
    from hub.models import District

    if not can_register(actor):
        raise PermissionDenied(_("You may not register residents."))
    districts = {d.slug: d for d in District.objects.all()}
    all_topics = {t.slug: t for t in Topic.objects.all()}
    created, errors = 0, []
    for line, row in enumerate(rows, start=2):
        row = {k.strip().lower(): (v or "").strip() for k, v in row.items() if k}
        try:
            district = None
            if row.get("district"):
                district = districts.get(row["district"])
                if district is None:
                    raise ValidationError(_("Unknown district “%(slug)s”.") % {
                        "slug": row["district"]})
            wanted = [s.strip() for s in row.get("topics", "").split(";") if s.strip()]
            unknown = [s for s in wanted if s not in all_topics]
            if unknown:
                raise ValidationError(_("Unknown topic “%(slug)s”.") % {"slug": unknown[0]})
            if row.get("phone"):
                normalize_phone(row["phone"])
            with transaction.atomic():
                register_resident(
                    name=row.get("name", ""), phone=row.get("phone", ""),
                    email=row.get("email", ""), civic_address=row.get("address", ""),
                    language=row.get("language") or "fr", district=district,
                    topics=[all_topics[s] for s in wanted], actor=actor,
                    method=ConsentRecord.Method.IMPORT, consent_note=consent_note)
                if dry_run:
                    transaction.set_rollback(True)
            created += 1
        except ValidationError as exc:
            errors.append((line, " ".join(exc.messages)))
    return {"created": created, "errors": errors, "dry_run": dry_run}


# --- addresses and verification ---------------------------------------------------------

def normalize_phone(value: str) -> str:
    """A North American number in E.164 (``+14503704820``), or ``ValidationError``."""
    raw = (value or "").strip()
    digits = re.sub(r"\D", "", raw)
    if raw.startswith("+") and not raw.startswith("+1") and 8 <= len(digits) <= 15:
        return "+" + digits
    if len(digits) == 11 and digits.startswith("1"):
        digits = digits[1:]
    if len(digits) != 10 or digits[0] in "01":
        raise ValidationError(_("Enter a 10-digit phone number, e.g. 450 370-4820."))
    return "+1" + digits


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
        transaction.on_commit(lambda: send_email_verification(address))
    elif not address.verified and channel == Channel.SMS:
        send_sms_code(address)
    return address


def send_email_verification(address: Address) -> None:
    language = address.subscriber.language
    link = tokens.absolute("alertes:verify_email", language,
                           token=tokens.verify_token(address.pk, address.value))
    with translation.override(language):
        send_mail(_("Confirm your email address for the city's alerts"),
                  _("To receive the city's alerts at this address, open this link:\n\n%(link)s"
                    "\n\nIf you did not ask for it, ignore this message.") % {"link": link},
                  None, [address.value])


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


def send_sms_code(address: Address, *, now: datetime | None = None) -> None:
    """Text a new 6-digit code (at most one a minute); resets the attempt counter."""
    now = now or timezone.now()
    if address.code_sent_at and now - address.code_sent_at < CODE_RESEND_AFTER:
        raise ValidationError(_("A code was sent less than a minute ago; wait a moment."))
    code = f"{secrets.randbelow(10**6):06d}"
    address.code_hash = _code_hash(address.pk, code)
    address.code_sent_at = now
    address.code_attempts = 0
    address.save(update_fields=["code_hash", "code_sent_at", "code_attempts"])
    with translation.override(address.subscriber.language):
        body = _("Ville de Valleyfield: your code is %(code)s") % {"code": code}
    body = sms_length.gsm7_safe(body)
    transaction.on_commit(lambda: _text_code(address.value, body))


def _text_code(to: str, body: str) -> None:
    try:
        TwilioSMSChannel().send_text(to, body)
    except DeliveryError:
        logger.warning("Verification code could not be sent", exc_info=True)


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


# --- inbound SMS ------------------------------------------------------------------------

STOP_WORDS = {"stop": "en", "unsubscribe": "en", "arret": "fr", "desabonner": "fr"}
HELP_WORDS = {"help": "en", "aide": "fr", "info": None}


def _keyword(body: str) -> str:
    text = unicodedata.normalize("NFKD", (body or "").strip().casefold())
    return "".join(c for c in text if not unicodedata.combining(c)).strip(" .!")


def help_text(language: str) -> str:
    city = setting("ALERTES_CITY_NAME", "Ville de Salaberry-de-Valleyfield")
    phone = setting("ALERTES_INTAKE_PHONE", "450 370-4820")
    with translation.override(language):
        text = _("%(city)s alerts: message frequency varies. Help: %(phone)s. "
                 "Reply STOP to unsubscribe.") % {"city": city, "phone": phone}
    return sms_length.gsm7_safe(text)[:160]


def handle_inbound_sms(sender: str, body: str) -> str | None:
    """Answer the mandatory keywords (CWTA): STOP/ARRÊT/… unsubscribe the number, HELP/
    AIDE/INFO describe the service; whether or not the sender is subscribed."""
    word = _keyword(body)
    try:
        number = normalize_phone(sender)
    except ValidationError:
        number = sender
    if word in STOP_WORDS:
        language = STOP_WORDS[word]
        with transaction.atomic():
            for address in Address.objects.filter(channel=Channel.SMS, value=number) \
                    .select_related("subscriber"):
                record_consent(address.subscriber, ConsentRecord.Action.WITHDRAWN,
                               "channel:sms", ConsentRecord.Method.SMS, note=word.upper())
                address.delete()
        with translation.override(language):
            text = _("You are unsubscribed from the city's text message alerts. "
                     "No more messages will be sent.")
        return sms_length.gsm7_safe(text)
    if word in HELP_WORDS:
        language = HELP_WORDS[word]
        if language is None:
            address = Address.objects.filter(channel=Channel.SMS, value=number) \
                .select_related("subscriber").first()
            language = address.subscriber.language if address else "fr"
        return help_text(language)
    return None


def handle_status_callback(message_sid: str, status: str, error_code: str = "") -> int:
    """Twilio's delivery report: ``delivered`` or ``undelivered``/``failed``."""
    now = timezone.now()
    rows = Delivery.objects.filter(provider_id=message_sid, channel=Channel.SMS)
    if status == "delivered":
        return rows.filter(status__in=[Delivery.Status.SENT, Delivery.Status.SENDING]) \
            .update(status=Delivery.Status.DELIVERED, delivered_at=now)
    if status in ("undelivered", "failed"):
        return rows.exclude(status=Delivery.Status.FAILED).update(
            status=Delivery.Status.FAILED, failed_at=now,
            error=f"Twilio {status} {error_code}".strip()[:500])
    return 0


# --- alerts ----------------------------------------------------------------------------

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


def alert_channels(alert: Alert) -> list[str]:
    available = list(available_channels())
    if alert.is_emergency:
        return available
    return [c for c in alert.channels if c in available]


def _audience_rows(alert: Alert):
    """The recipients' query: ``(subscriber_id, channel, address, language, quiet_start,
    quiet_end)`` ordered by channel and address (an address may appear more than once)."""
    channels = alert_channels(alert)
    if alert.references_id:
        rows = (Delivery.objects.filter(
            alert_id=alert.references_id, channel__in=channels,
            status__in=[Delivery.Status.SENT, Delivery.Status.DELIVERED, Delivery.Status.REVIEW])
            .values_list("subscriber_id", "channel", "address", "language",
                         "subscriber__quiet_start", "subscriber__quiet_end")
            .order_by("channel", "address"))
    else:
        rows = Address.objects.filter(channel__in=channels, failing=False,
                                      subscriber__active=True)
        # Channels that need no confirmation (voice, push, most plugins' channels) are
        # reached as soon as an address is added.
        rows = rows.filter(Q(verified_at__isnull=False)
                           | Q(channel__in=unverified_reachable()))
        districts = list(alert.districts.values_list("pk", flat=True))
        if districts:
            rows = rows.filter(subscriber__district_id__in=districts)
        if not alert.is_emergency:
            rows = rows.filter(Exists(TopicSubscription.objects.filter(
                subscriber_id=OuterRef("subscriber_id"),
                topic_id__in=alert.topics.values("pk"))))
        rows = (rows.values_list("subscriber_id", "channel", "value", "subscriber__language",
                                 "subscriber__quiet_start", "subscriber__quiet_end")
                .order_by("channel", "value", "subscriber_id"))
    return rows


def audience(alert: Alert) -> Iterator[tuple[int, str, str, str, object, object]]:
    """``(subscriber_id, channel, address, language, quiet_start, quiet_end)`` of every
    recipient, each ``(channel, address)`` once, streamed (memory does not grow with the
    audience).  A correction goes to the addresses the original reached."""
    last = None
    for row in _audience_rows(alert).iterator(chunk_size=INSERT_BATCH):
        key = (row[1], row[2])
        if key == last:
            continue
        last = key
        yield row


def audience_size(alert: Alert) -> int:
    """How many ``(channel, address)`` would receive it, counted by the database."""
    address = "address" if alert.references_id else "value"
    return _audience_rows(alert).order_by().values("channel", address).distinct().count()


def has_audience(alert: Alert) -> bool:
    """Whether anybody would receive it (the database stops at the first row)."""
    return _audience_rows(alert).order_by().exists()


def _quiet_until(now: datetime, start, end) -> datetime | None:
    """End of the quiet hours if ``now`` falls inside them."""
    if start is None or end is None:
        return None
    local = timezone.localtime(now)
    t = local.time()
    inside = (start <= t < end) if start <= end else (t >= start or t < end)
    if not inside:
        return None
    until = local.replace(hour=end.hour, minute=end.minute, second=0, microsecond=0)
    if until <= local:
        until += timedelta(days=1)
    return until


def build_outbox(alert: Alert, *, now: datetime | None = None) -> int:
    """Write one ``queued`` delivery per recipient and channel, in bulk batches; an
    existing row is left alone (the unique constraint), so calling it twice adds nothing."""
    now = now or timezone.now()
    emergency = alert.is_emergency
    if emergency and not alert.references_id and connection.vendor in ("postgresql", "sqlite"):
        return _insert_outbox(alert, now)
    batch: list[Delivery] = []
    total = 0
    for subscriber_id, channel, address, language, quiet_start, quiet_end in audience(alert):
        not_before = None if emergency else _quiet_until(now, quiet_start, quiet_end)
        batch.append(Delivery(alert_id=alert.pk, subscriber_id=subscriber_id, channel=channel,
                              address=address, language=language or "fr", queued_at=now,
                              not_before=not_before, enqueued_at=now))
        if len(batch) >= INSERT_BATCH:
            Delivery.objects.bulk_create(batch, ignore_conflicts=True)
            total += len(batch)
            batch = []
    if batch:
        Delivery.objects.bulk_create(batch, ignore_conflicts=True)
        total += len(batch)
    return total


OUTBOX_COLUMNS = ["alert_id", "subscriber_id", "channel", "address", "language", "status",
                  "attempts", "provider_id", "error", "queued_at", "enqueued_at", "claim",
                  "answered_by"]


def _insert_outbox(alert: Alert, now: datetime,
                   subscribers: tuple[int, int] | None = None, *, returning: bool = False):
    """An emergency's outbox in one ``INSERT … SELECT`` (no quiet hours to compute per
    row): the rows never travel through Python, so the time is the database's and the
    memory does not depend on the audience.  Ordered by subscriber so that, as in the
    batched path, an address shared by two subscribers is written once, for the first."""
    rows = _audience_rows(alert)
    if subscribers is not None:  # one chunk: subscriber ids in [start, end)
        rows = rows.filter(subscriber_id__gte=subscribers[0], subscriber_id__lt=subscribers[1])
    rows = rows.values_list("subscriber_id", "channel", "value",
                            "subscriber__language").order_by()
    select, params = rows.query.sql_with_params()
    quote = connection.ops.quote_name
    stamp = connection.ops.adapt_datetimefield_value(now)
    columns = ", ".join(quote(c) for c in OUTBOX_COLUMNS)
    verb, tail = (("INSERT OR IGNORE INTO", "") if connection.vendor == "sqlite"
                  else ("INSERT INTO", " ON CONFLICT DO NOTHING"))
    # Only quoted identifiers and the ORM's compiled SQL are interpolated; values are
    # parameters.
    sql = (f"{verb} {quote(Delivery._meta.db_table)} ({columns}) "  # noqa: S608
           f"SELECT %s, a.subscriber_id, a.channel, a.value, "
           f"COALESCE(a.{quote('subscriber__language')}, 'fr'), %s, 0, "
           f"'', '', %s, %s, '', '' FROM ({select}) a "
           f"ORDER BY a.channel, a.value, a.subscriber_id{tail}")
    if returning:  # the new rows' ids (rows already there are not returned)
        sql += f" RETURNING {quote('id')}"
    with connection.cursor() as cursor:
        cursor.execute(sql, [alert.pk, Delivery.Status.QUEUED, stamp, stamp, *params])
        if returning:
            return [row[0] for row in cursor.fetchall()]
        return max(cursor.rowcount, 0)


def enqueue_deliveries(alert_id: int | None = None, ids: Iterable[int] | None = None,
                       *, now: datetime | None = None, after_pk: int | None = None) -> int:
    """Enqueue the ready ``queued`` rows (of one alert, or the given ids; only those with
    an id above ``after_pk``: a chunk just written) in batches of ids.  Call inside
    ``transaction.on_commit``."""
    from ..tasks import deliver_batch

    now = now or timezone.now()
    rows = Delivery.objects.filter(status=Delivery.Status.QUEUED).filter(
        Q(not_before__isnull=True) | Q(not_before__lte=now))
    if alert_id is not None:
        rows = rows.filter(alert_id=alert_id)
    if after_pk is not None:
        rows = rows.filter(pk__gt=after_pk)
    given = sorted(set(ids)) if ids is not None else None
    count = 0
    last = 0
    while True:
        # Read a page of ids, then enqueue it: no cursor stays open while the task rows
        # are written (on SQLite, a read left open turns the write into "database is
        # locked" as soon as a worker has written meanwhile).
        if given is not None:
            wanted, given = given[:ENQUEUE_PAGE], given[ENQUEUE_PAGE:]
            page = list(rows.filter(pk__in=wanted).order_by("pk")
                        .values_list("pk", flat=True)) if wanted else []
            more = bool(given)
        else:
            page = list(rows.filter(pk__gt=last).order_by("pk")
                        .values_list("pk", flat=True)[:ENQUEUE_PAGE])
            more = len(page) == ENQUEUE_PAGE
        # One transaction for the page's task rows (database backend): ten commits
        # fewer per page, each a disk flush.
        with transaction.atomic():
            for start in range(0, len(page), BATCH_SIZE):
                batch = page[start:start + BATCH_SIZE]
                deliver_batch.enqueue(batch)
                count += len(batch)
        if not more:
            return count
        if page:
            last = page[-1]


def _enqueue_ids(ids: list[int]) -> int:
    """Enqueue rows just written (``queued`` and ready), in batches, one transaction for
    all the task rows."""
    from ..tasks import deliver_batch

    ids = sorted(ids)
    with transaction.atomic():
        for start in range(0, len(ids), BATCH_SIZE):
            deliver_batch.enqueue(ids[start:start + BATCH_SIZE])
    return len(ids)


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


def _in_chunks(alert: Alert) -> bool:
    """An emergency to the current subscribers is built with ``INSERT … SELECT`` chunk
    by chunk, each committed and enqueued before the next (a correction, or an alert
    with quiet hours, is built in one transaction)."""
    return (alert.is_emergency and not alert.references_id
            and connection.vendor in ("postgresql", "sqlite"))


OUTBOX_FIRST_CHUNK = 1000   # subscribers in the first chunk: handed over within a second
OUTBOX_MAX_CHUNK = 8000     # the chunks double up to this size


def build_in_chunks(alert: Alert, now: datetime) -> int:
    """Write an emergency's outbox by ranges of subscriber ids, growing from
    ``OUTBOX_FIRST_CHUNK`` to ``OUTBOX_MAX_CHUNK``; each range is one ``INSERT … SELECT``
    committed on its own, and its rows are enqueued at once, so the first messages leave
    while the rest of the outbox is still being written.  Ranges go up in subscriber
    order, so an address shared by two subscribers still goes to the first.

    Idempotent (the unique constraint): the sweep calls it again for an alert whose
    build stopped halfway (``audience_size`` still 0), which writes the missing rows
    and enqueues them.  Returns the alert's number of deliveries, then recorded as its
    ``audience_size``."""
    bounds = Subscriber.objects.aggregate(low=Min("pk"), high=Max("pk"))
    low, high = bounds["low"] or 0, bounds["high"] or -1
    step = OUTBOX_FIRST_CHUNK
    start = low
    while start <= high:
        end = start + step
        with transaction.atomic():
            if connection.features.can_return_rows_from_bulk_insert:
                # The chunk's new ids come back from the INSERT (at most a chunk's worth):
                # enqueued as they are, without reading them again.
                new = _insert_outbox(alert, now, subscribers=(start, end), returning=True)
                transaction.on_commit(lambda new=new: _enqueue_ids(new))
            else:
                floor = Delivery.objects.aggregate(top=Max("pk"))["top"] or 0
                _insert_outbox(alert, now, subscribers=(start, end))
                transaction.on_commit(lambda floor=floor: enqueue_deliveries(
                    alert.pk, now=now, after_pk=floor))
        start = end
        step = min(step * 2, OUTBOX_MAX_CHUNK)
    total = Delivery.objects.filter(alert_id=alert.pk).count()
    if total:
        Alert.objects.filter(pk=alert.pk).update(audience_size=total)
        refresh_alert_status(alert.pk)  # a fast worker may have finished every chunk
    else:  # everybody left between the audience check and the build: nothing to send
        Alert.objects.filter(pk=alert.pk, status=Alert.Status.SENDING).update(
            status=Alert.Status.SENT)
    return total


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


# --- delivering ------------------------------------------------------------------------

def backoff(attempt: int) -> timedelta:
    """Exponential backoff with full jitter: up to 30 s, 60 s, 120 s… (max 1 h)."""
    ceiling = min(3600, 30 * 2 ** max(0, attempt - 1))
    return timedelta(seconds=ceiling / 2 + random.uniform(0, ceiling / 2))  # noqa: S311


def claim(ids: list[int], *, now: datetime | None = None) -> list[Delivery]:
    """Atomically move ready rows among ``ids`` from ``queued`` to ``sending`` for this
    worker; rows another worker holds or already sent are skipped."""
    now = now or timezone.now()
    token = uuid.uuid4().hex
    ready = Q(not_before__isnull=True) | Q(not_before__lte=now)
    with transaction.atomic():
        rows = Delivery.objects.filter(pk__in=ids, status=Delivery.Status.QUEUED).filter(ready)
        if connection.vendor == "postgresql":
            locked = list(rows.select_for_update(skip_locked=True).values_list("pk", flat=True))
            rows = Delivery.objects.filter(pk__in=locked, status=Delivery.Status.QUEUED)
        rows.update(status=Delivery.Status.SENDING, claim=token, claimed_at=now,
                    attempts=F("attempts") + 1)
    return list(Delivery.objects.filter(pk__in=ids, claim=token, status=Delivery.Status.SENDING)
                .select_related("alert", "notice").order_by("pk"))


def deliver(ids: list[int]) -> dict[str, int]:
    """Send the given deliveries (a task's batch).  Returns counts per outcome.

    The batch is claimed ``CLAIM_SIZE`` rows at a time; each claimed chunk is sent
    concurrently by a small pool of sending threads (``ALERTES_SEND_THREADS``, default
    8) — only for channels that say ``concurrent = True`` (their ``send`` touches no
    database), and never more at once per provider bucket than its rate allows — then
    the outcomes are written in a few bulk ``UPDATE``s (one per kind of outcome), still
    conditioned on this worker's claim."""
    counts = {"sent": 0, "failed": 0, "retry": 0, "skipped": 0}
    channels = available_channels()
    alert_ids = set()
    with contextlib.ExitStack() as sessions:
        # A channel may keep provider sessions for the batch (email: one SMTP connection
        # per sending thread instead of one per message).
        for channel in channels.values():
            if hasattr(channel, "batch"):
                sessions.enter_context(channel.batch())
        for start in range(0, len(ids), CLAIM_SIZE):
            chunk = ids[start:start + CLAIM_SIZE]
            claimed = claim(chunk)
            counts["skipped"] += len(chunk) - len(claimed)
            if not claimed:
                continue
            alert_ids.update(d.alert_id for d in claimed if d.alert_id)  # not notices
            for outcome, n in _record(claimed, _send_all(claimed, channels)).items():
                counts[outcome] += n
    for alert_id in alert_ids:
        refresh_alert_status(alert_id)
    return counts


_pool = None
_pool_lock = threading.Lock()


def _sending_pool() -> ThreadPoolExecutor:
    """The worker process's sending threads (kept between batches, so each keeps its
    provider connections alive)."""
    global _pool
    with _pool_lock:
        if _pool is None:
            _pool = ThreadPoolExecutor(max_workers=max(1, int(setting(
                "ALERTES_SEND_THREADS", 8))), thread_name_prefix="alertes-send")
        return _pool


def _send_all(claimed: list[Delivery], channels: dict) -> list[tuple]:
    """Hand every claimed row to its channel; ``(delivery, outcome, value)`` per row.

    Rows are grouped by provider bucket (``ratelimit.throttle_for``): a bucket paced at
    ``rate`` per second gets at most ``ceil(rate)`` lanes (one for Twilio's 1 SMS/s per
    long code), an unpaced one up to the pool's size; each lane sends its rows one
    after the other.  Channels that are not ``concurrent`` are sent from this thread."""
    lanes: list[list[Delivery]] = []
    here: list[Delivery] = []
    threads = max(1, int(setting("ALERTES_SEND_THREADS", 8)))
    buckets: dict[tuple, list[Delivery]] = {}
    for delivery in claimed:
        channel = channels.get(delivery.channel)
        if channel is None or not getattr(channel, "concurrent", False) or threads == 1:
            here.append(delivery)
            continue
        throttle = ratelimit.throttle_for(channel, delivery)
        buckets.setdefault((throttle.key, throttle.rate), []).append(delivery)
    for (_key, rate), rows in buckets.items():
        width = min(threads, len(rows), math.ceil(rate) if rate else threads)
        lanes += [rows[i::width] for i in range(width)]
    futures = [_sending_pool().submit(_send_lane, lane, channels) for lane in lanes]
    results = _send_lane(here, channels)
    for future in futures:
        results += future.result()
    return results


def _send_lane(rows: list[Delivery], channels: dict) -> list[tuple]:
    """Send rows one after the other.  Once the bucket is busy past the allowed wait,
    the rest of the lane goes back to the outbox without trying."""
    results = []
    busy_for = None
    for delivery in rows:
        if busy_for is not None:
            results.append((delivery, "busy", busy_for))
            continue
        outcome = _attempt(delivery, channels.get(delivery.channel))
        if outcome[0] == "busy":
            busy_for = outcome[1]
        results.append((delivery, *outcome))
    return results


def _attempt(delivery: Delivery, channel) -> tuple[str, object]:
    """Wait for the provider's rate, then send; no database access here (threads)."""
    if channel is None:
        return ("failed", f"no channel {delivery.channel!r} installed")
    throttle = ratelimit.throttle_for(channel, delivery)
    try:
        ratelimit.limiter.acquire(throttle.key, throttle.rate)
    except ratelimit.Busy as busy:  # the provider's rate is taken: back to the outbox
        return ("busy", busy.retry_in)
    try:
        return ("sent", channel.send(delivery))
    except DeliveryError as exc:
        return ("error", exc)
    except Exception as exc:  # a bug or an unknown provider answer: maybe sent, a person checks
        logger.exception("Delivery %s: unexpected error", delivery.pk)
        return ("review", f"unexpected: {exc}"[:500])


def _by_pk(pairs: list[tuple[int, object]], output_field) -> Case:
    return Case(*[When(pk=pk, then=Value(value)) for pk, value in pairs],
                output_field=output_field)


def _record(claimed: list[Delivery], results: list[tuple]) -> dict[str, int]:
    """Write the outcomes of a claimed chunk in bulk: one ``UPDATE`` per outcome kind,
    only on rows this worker still holds (same claim, still ``sending``)."""
    token = claimed[0].claim
    now = timezone.now()

    def mine(rows):
        return Delivery.objects.filter(pk__in=[d.pk for d, *_ in rows], claim=token,
                                       status=Delivery.Status.SENDING)

    kinds: dict[str, list] = {}
    for row in results:
        delivery, outcome, value = row
        if outcome == "error":
            if value.transient and delivery.attempts < MAX_ATTEMPTS:
                outcome = "transient"
            else:
                outcome = "permanent"
        kinds.setdefault(outcome, []).append(row)
    counts = {"sent": 0, "failed": 0, "retry": 0}
    char = CharField()
    if rows := kinds.get("sent"):
        _record_sent(token, now, [(d.pk, str(v or "")[:120]) for d, _, v in rows])
        counts["sent"] += len(rows)
    if rows := kinds.get("busy"):
        retry_at = now + timedelta(seconds=max(v for _, _, v in rows))
        mine(rows).update(status=Delivery.Status.QUEUED, not_before=retry_at, claim="",
                          attempts=F("attempts") - 1)
        _schedule_retry([d.pk for d, *_ in rows], retry_at)
        counts["retry"] += len(rows)
    if rows := kinds.get("transient"):
        retries = [(d.pk, now + backoff(d.attempts)) for d, *_ in rows]
        mine(rows).update(status=Delivery.Status.QUEUED, claim="",
                          not_before=_by_pk(retries, DateTimeField()),
                          error=_by_pk([(d.pk, str(v)[:500]) for d, _, v in rows], char))
        _schedule_retry([pk for pk, _ in retries], max(at for _, at in retries))
        counts["retry"] += len(rows)
    if rows := kinds.get("permanent"):
        mine(rows).update(status=Delivery.Status.FAILED, failed_at=now,
                          error=_by_pk([(d.pk, str(v)[:500]) for d, _, v in rows], char))
        for delivery, _, exc in rows:
            if exc.address_failing:
                Address.objects.filter(channel=delivery.channel, value=delivery.address) \
                    .update(failing=True, failing_reason=str(exc)[:255])
        counts["failed"] += len(rows)
    if rows := kinds.get("failed"):  # no such channel installed
        mine(rows).update(status=Delivery.Status.FAILED, failed_at=now,
                          error=_by_pk([(d.pk, str(v)[:500]) for d, _, v in rows], char))
        counts["failed"] += len(rows)
    if rows := kinds.get("review"):
        mine(rows).update(status=Delivery.Status.REVIEW,
                          error=_by_pk([(d.pk, str(v)[:500]) for d, _, v in rows], char))
        counts["failed"] += len(rows)
    return counts


def _record_sent(token: str, now: datetime, rows: list[tuple[int, str]]) -> None:
    """``sent`` with each row's provider id, in one ``UPDATE … CASE id WHEN …`` written
    directly (the ORM's ``Case(When(…))`` for a hundred rows costs more CPU than the
    sends it records)."""
    table = connection.ops.quote_name(Delivery._meta.db_table)
    cases = " ".join(["WHEN %s THEN %s"] * len(rows))
    marks = ", ".join(["%s"] * len(rows))
    params: list = [Delivery.Status.SENT, connection.ops.adapt_datetimefield_value(now)]
    for pk, provider_id in rows:
        params += [pk, provider_id]
    params += [pk for pk, _ in rows]
    params += [token, Delivery.Status.SENDING]
    # Only the quoted table name and placeholders are interpolated; values are parameters.
    sql = (f"UPDATE {table} SET status = %s, sent_at = %s, error = '', "  # noqa: S608
           f"provider_id = CASE id {cases} ELSE provider_id END "
           f"WHERE id IN ({marks}) AND claim = %s AND status = %s")
    with connection.cursor() as cursor:
        cursor.execute(sql, params)


def _schedule_retry(delivery_ids: int | list[int], retry_at: datetime) -> None:
    """With a backend that defers (database, RQ), enqueue the retry for ``retry_at``
    (one task for the rows given); otherwise ``dispatch_due()`` picks the rows up once
    ``not_before`` has passed."""
    from ..tasks import deliver_batch

    ids = [delivery_ids] if isinstance(delivery_ids, int) else list(delivery_ids)
    if ids and getattr(deliver_batch.get_backend(), "supports_defer", False):
        transaction.on_commit(
            lambda: deliver_batch.using(run_after=retry_at).enqueue(ids))


def refresh_alert_status(alert_id: int) -> None:
    pending = Delivery.objects.filter(alert_id=alert_id, status__in=[
        Delivery.Status.QUEUED, Delivery.Status.SENDING]).exists()
    if not pending:  # audience_size is 0 while the outbox is still being written
        Alert.objects.filter(pk=alert_id, status=Alert.Status.SENDING,
                             audience_size__gt=0).update(status=Alert.Status.SENT)


def dispatch_due(now: datetime | None = None) -> dict[str, int]:
    """The every-minute sweep (``manage.py alertes dispatch``): send scheduled alerts,
    flag rows stuck in ``sending``, enqueue again the ready ``queued`` rows whose task
    may have been lost (broker down, worker killed before its claim) or whose retry or
    quiet hours have ended."""
    now = now or timezone.now()
    result = {"scheduled": 0, "review": 0, "requeued": 0}
    for alert in Alert.objects.filter(status=Alert.Status.SCHEDULED, send_at__lte=now):
        try:
            if has_audience(alert):
                _start(alert, None, now)
                result["scheduled"] += 1
            else:
                logger.warning("Scheduled alert %s has no audience: kept as a draft", alert.pk)
                Alert.objects.filter(pk=alert.pk).update(status=Alert.Status.DRAFT)
        except AlertError:
            logger.warning("Scheduled alert %s could not start", alert.pk, exc_info=True)
    # An emergency whose chunked outbox build stopped halfway (the process died): the
    # missing chunks are written and enqueued (``build_in_chunks`` is idempotent).
    resume_before = now - timedelta(seconds=setting("ALERTES_BUILD_RESUME_AFTER", 120))
    for alert in Alert.objects.filter(status=Alert.Status.SENDING, audience_size=0,
                                      sent_at__lt=resume_before):
        if _in_chunks(alert):
            logger.warning("Alert %s: outbox build resumed", alert.pk)
            build_in_chunks(alert, alert.sent_at or now)
            result["resumed"] = result.get("resumed", 0) + 1
    stuck_after = timedelta(seconds=setting("ALERTES_STUCK_AFTER", 900))
    requeue_after = timedelta(seconds=setting("ALERTES_REQUEUE_AFTER", 300))
    stuck = Delivery.objects.filter(status=Delivery.Status.SENDING,
                                    claimed_at__lt=now - stuck_after)
    stuck_alerts = set(stuck.filter(alert__isnull=False).values_list("alert_id", flat=True)
                       .distinct())
    result["review"] = stuck.update(
        status=Delivery.Status.REVIEW,
        error="worker stopped while sending: check with the provider before resending")
    ready = Delivery.objects.filter(status=Delivery.Status.QUEUED).filter(
        Q(not_before__isnull=False, not_before__lte=now)
        | Q(not_before__isnull=True, enqueued_at__lt=now - requeue_after)
        | Q(not_before__isnull=True, enqueued_at__isnull=True))
    ids = list(ready.values_list("pk", flat=True)[:100_000])
    if ids:
        Delivery.objects.filter(pk__in=ids).update(enqueued_at=now)
        transaction.on_commit(lambda: enqueue_deliveries(ids=ids, now=now))
        result["requeued"] = len(ids)
    for alert_id in stuck_alerts:
        refresh_alert_status(alert_id)
    return result


def resolve_review(delivery: Delivery, user, *, resend: bool) -> Delivery:
    """A person decides about a delivery in ``review``: resend it, or record it as sent
    (e.g. the provider's log shows it left)."""
    if not can_send(user):
        raise PermissionDenied(_("You may not send alerts."))
    rows = Delivery.objects.filter(pk=delivery.pk, status=Delivery.Status.REVIEW)
    if resend:
        rows.update(status=Delivery.Status.QUEUED, not_before=None, claim="",
                    enqueued_at=timezone.now())
        transaction.on_commit(lambda: enqueue_deliveries(ids=[delivery.pk]))
    else:
        rows.update(status=Delivery.Status.SENT, sent_at=timezone.now(),
                    error=f"recorded as sent by user {user.pk}")
    delivery.refresh_from_db()
    return delivery


def report(alert: Alert) -> dict:
    """The alert's report, aggregated in SQL (two queries whatever the audience): per
    channel the count in each status and of voice confirmations, first and last hand-over
    to a provider and delivery confirmation (and their delay after "send"), the failure
    reasons with their counts and the first failed or to-check rows."""
    statuses = Delivery.Status.values
    rows = (Delivery.objects.filter(alert=alert).values("channel")
            .annotate(**{f"n_{code}": Count("pk", filter=Q(status=code)) for code in statuses},
                      confirmed=Count("pk", filter=Q(acknowledged_at__isnull=False)),
                      first_sent=Min("sent_at"), last_sent=Max("sent_at"),
                      first_delivered=Min("delivered_at"), last_delivered=Max("delivered_at"))
            .order_by("channel"))
    started = alert.sent_at

    def after(moment):
        return (moment - started).total_seconds() if moment and started else None

    per_channel, channels = {}, []
    for row in rows:
        counts = {code: row[f"n_{code}"] for code in statuses}
        per_channel[row["channel"]] = counts
        channels.append({
            "channel": row["channel"], "counts": counts, "total": sum(counts.values()),
            "confirmed": row["confirmed"],
            "first_sent": row["first_sent"], "last_sent": row["last_sent"],
            "first_delivered": row["first_delivered"],
            "last_delivered": row["last_delivered"],
            "to_first_sent": after(row["first_sent"]), "to_last_sent": after(row["last_sent"]),
            "to_first_delivered": after(row["first_delivered"]),
            "to_last_delivered": after(row["last_delivered"])})
    failed = Delivery.objects.filter(alert=alert, status__in=[Delivery.Status.FAILED,
                                                               Delivery.Status.REVIEW])
    reasons = list(failed.values("channel", "status", "error").annotate(n=Count("pk"))
                   .order_by("-n", "channel")[:50])
    failures = list(failed.values("pk", "channel", "status", "error", "attempts")
                    .order_by("pk")[:200])
    sent = [c[k] for c in channels for k in ("first_sent", "last_sent") if c[k]]
    return {"per_channel": per_channel, "channels": channels,
            "total": sum(c["total"] for c in channels),
            "confirmed": sum(c["confirmed"] for c in channels),
            "audience": alert.audience_size,
            "first_sent": min(sent) if sent else None, "last_sent": max(sent) if sent else None,
            "reasons": reasons, "failures": failures}


REPORT_COLUMNS = ["channel", "deliveries", *Delivery.Status.values, "voice_confirmed",
                  "first_sent", "last_sent", "seconds_to_first_sent", "seconds_to_last_sent",
                  "first_delivered", "last_delivered", "seconds_to_first_delivered",
                  "seconds_to_last_delivered"]


def report_rows(alert: Alert) -> Iterator[list]:
    """The report as CSV rows: a header, one line per channel, a total line, then the
    failure reasons.  Text cells that a spreadsheet would run as a formula are
    neutralised."""
    data = report(alert)

    def when(value):
        return timezone.localtime(value).isoformat() if value else ""

    def secs(value):
        return "" if value is None else f"{value:.1f}"

    yield REPORT_COLUMNS
    for c in data["channels"]:
        yield [c["channel"], c["total"], *(c["counts"][code] for code in Delivery.Status.values),
               c["confirmed"], when(c["first_sent"]), when(c["last_sent"]),
               secs(c["to_first_sent"]), secs(c["to_last_sent"]),
               when(c["first_delivered"]), when(c["last_delivered"]),
               secs(c["to_first_delivered"]), secs(c["to_last_delivered"])]
    totals = {code: sum(c["counts"][code] for c in data["channels"])
              for code in Delivery.Status.values}
    yield ["total", data["total"], *totals.values(), data["confirmed"],
           when(data["first_sent"]), when(data["last_sent"]), "", "", "", "", "", ""]
    if data["reasons"]:
        yield []
        yield ["failure_channel", "failure_status", "failure_reason", "count"]
        for reason in data["reasons"]:
            yield [reason["channel"], reason["status"], csv_safe(reason["error"]),
                   reason["n"]]


def csv_safe(text: str) -> str:
    """A cell starting with = + - @ (or a tab/CR) is run as a formula by spreadsheets."""
    text = text or ""
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def subscriber_counts() -> dict:
    """Active subscribers per topic, zone and channel (four aggregate queries)."""
    from hub.models import District

    active = Q(subscriber__active=True)
    return {
        "subscribers": Subscriber.objects.filter(active=True).count(),
        "topics": list(Topic.objects.annotate(
            n=Count("topicsubscription", filter=Q(topicsubscription__subscriber__active=True)))
            .values("pk", "slug", "name_fr", "n")),
        "zones": [{"name": z["name"], "n": z["n"]} for z in District.objects.annotate(
            n=Count("alert_subscribers", filter=Q(alert_subscribers__active=True)))
            .values("name", "n").order_by("name")],
        "no_zone": Subscriber.objects.filter(active=True, district__isnull=True).count(),
        "channels": list(Address.objects.filter(active).values("channel").annotate(
            n=Count("pk"), verified=Count("pk", filter=Q(verified_at__isnull=False)),
            failing=Count("pk", filter=Q(failing=True))).order_by("channel")),
    }


def search_subscribers(query: str = "", *, topic: str = "", district: str = "",
                       channel: str = ""):
    """Subscribers matching a name, civic address, email or phone number (digits are
    compared in E.164, so "450 370-4820" finds +14503704820), with filters."""
    rows = Subscriber.objects.select_related("district", "user").prefetch_related(
        "addresses").order_by("-created_at", "-pk")
    query = (query or "").strip()
    if query:
        match = (Q(name__icontains=query) | Q(civic_address__icontains=query)
                 | Q(addresses__value__icontains=query.lower()) | Q(user__email__icontains=query))
        digits = re.sub(r"\D", "", query)
        if len(digits) >= 4:
            match |= Q(addresses__value__contains=digits)
        rows = rows.filter(match).distinct()
    if topic:
        rows = rows.filter(topicsubscription__topic__slug=topic)
    if district:
        rows = rows.filter(district__slug=district)
    if channel:
        rows = rows.filter(addresses__channel=channel)
    if topic or channel:
        rows = rows.distinct()
    return rows


IMPORT_MAX_BYTES = 2 * 1024 * 1024
IMPORT_MAX_ROWS = 5000
IMPORT_COLUMNS = {"name", "phone", "email", "address", "language", "district", "topics"}


def parse_residents_csv(data: bytes) -> list[dict]:
    """Read an uploaded CSV of residents into rows for ``import_residents``.  Anything
    that is not a UTF-8 (or Windows-1252, as Excel saves it) comma or semicolon separated
    file with a known header is refused as a whole with a clear message."""
    import csv
    import io

    if len(data) > IMPORT_MAX_BYTES:
        raise ValidationError(_("The file is larger than %(size)d MB.") % {
            "size": IMPORT_MAX_BYTES // (1024 * 1024)})
    if not data.strip():
        raise ValidationError(_("The file is empty."))
    if b"\x00" in data:
        raise ValidationError(_("This is not a CSV text file."))
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        try:
            text = data.decode("cp1252")
        except UnicodeDecodeError:
            raise ValidationError(
                _("The file is not UTF-8 text: save it as “CSV UTF-8”.")) from None
    if any(unicodedata.category(c) == "Cc" and c not in "\r\n\t" for c in text[:20000]):
        raise ValidationError(_("This is not a CSV text file."))
    first = text.splitlines()[0] if text.splitlines() else ""
    delimiter = ";" if first.count(";") > first.count(",") else ","
    try:
        reader = csv.DictReader(io.StringIO(text, newline=""), delimiter=delimiter)
        header = {(name or "").strip().lower() for name in (reader.fieldnames or [])}
        if "name" not in header or not ({"phone", "email"} & header):
            raise ValidationError(_("The first line must name the columns: name, phone "
                                    "and/or email (optional: address, language, district, "
                                    "topics)."))
        rows = []
        for row in reader:
            if len(rows) >= IMPORT_MAX_ROWS:
                raise ValidationError(_("The file has more than %(max)d lines: split it.")
                                      % {"max": IMPORT_MAX_ROWS})
            rows.append({k: v if isinstance(v, str) else "" for k, v in row.items()
                         if k and k.strip().lower() in IMPORT_COLUMNS})
    except csv.Error as exc:
        raise ValidationError(_("The file could not be read as CSV: %(error)s") % {
            "error": exc}) from exc
    if not rows:
        raise ValidationError(_("The file has no resident lines."))
    return rows


# --- privacy ---------------------------------------------------------------------------

def export_user(user) -> dict | None:
    from .. import notices

    subscriber = subscriber_for(user, create=False)
    personal = notices.export(user)
    if subscriber is None:
        return {"notices": personal} if personal else None
    return {
        "active": subscriber.active,
        "language": subscriber.language,
        "district": subscriber.district.name if subscriber.district else None,
        "quiet_hours": [str(subscriber.quiet_start or ""), str(subscriber.quiet_end or "")],
        "topics": list(subscriber.topics.values_list("slug", flat=True)),
        "addresses": [{"channel": a.channel, "address": a.value, "verified": a.verified}
                      for a in subscriber.addresses.all()],
        "consents": [{"action": c.action, "scope": c.scope, "method": c.method,
                      "when": c.created_at.isoformat()} for c in subscriber.consents.all()],
        "deliveries": [{"alert": d["alert__title_fr"], "channel": d["channel"],
                        "status": d["status"], "queued_at": d["queued_at"].isoformat()}
                       for d in subscriber.deliveries.filter(alert__isnull=False).values(
                           "alert__title_fr", "channel", "status", "queued_at")],
        "notice_channels": dict(subscriber.notice_preferences.values_list("topic",
                                                                          "channels")),
        "notices": personal,
    }


def erase_user(user) -> None:
    """Addresses removed, delivery rows anonymised, consent history kept without the
    link to the person (the city must be able to prove consent was withdrawn); personal
    notices anonymised the same way (``notices.erase``)."""
    from .. import notices

    notices.erase(user)
    subscriber = subscriber_for(user, create=False)
    if subscriber is None:
        return
    subscriber.deliveries.update(
        address=Concat(Value("erased:"), Cast("pk", output_field=CharField())),
        subscriber=None)
    record_consent(subscriber, ConsentRecord.Action.WITHDRAWN, "all",
                   ConsentRecord.Method.ERASURE)
    subscriber.consents.update(subscriber=None, actor=None)
    subscriber.delete()
