"""Personal notices: `alertes`' implementation of the hub's ``hub_notify``.

Another module (e.g. `requetes`, about a step of a resident's request) hands the hub a
``hub.notify.Notice``; ``plugin.hub_notify`` calls :func:`take`, which turns it into
outbox rows (``Delivery`` with a ``notice``) sent by the same worker as alerts, with the
same guarantees (rows first, tasks carry ids, retries with backoff, the sweep, review).

Why these rules:

* **Once per ``dedupe_key``**: the ``Notice`` row's key is unique, so the same change
  saved twice, or two workers calling at once, tell the person once (the loser of the
  race finds the winner's row and writes nothing).
* **The person's channels for the topic**: a ``NoticePreference`` (set on the
  subscription page or through the API), else the topic's ``default_channels`` as its
  module declared them (``hub_notice_topics``; email when the topic is unknown).  Only
  verified addresses are used; someone who chose email without an alertes email address
  is written at their account's email.  Voice is never used: a call reading a request's
  progress aloud is not what anyone asked for.
* **A service message, not a subscription**: a notice about the person's own business
  needs no consent to alerts, so a missing ``Subscriber`` is created silently (no topic,
  no consent record, no address) only to hold the person's notice preferences and quiet
  hours; the email carries no unsubscribe link but a link to those preferences.
* **Quiet hours** hold a ``normal`` notice until they end (``not_before``); an ``urgent``
  one leaves at once.
* **A contact without an account** (a caller entered by phone intake): a text message to
  the phone and an email to the address given, whichever are given.
"""

from __future__ import annotations

import logging
from datetime import datetime

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from hub import notify as hub_notify

from .channels import available_channels, unverified_reachable
from .models import Address, Delivery, Notice, NoticePreference, Subscriber

logger = logging.getLogger(__name__)

NOT_FOR_NOTICES = ("voice",)  # channels never offered for personal notices
DEFAULT_CHANNELS = ("email",)


class NoticePreferenceError(ValidationError):
    """A notice preference names an unknown topic or a channel not offered."""


# --- topics and channels ---------------------------------------------------------------

def topics() -> dict[str, hub_notify.NoticeTopic]:
    """The notice topics the enabled modules declare, by slug, in module order."""
    found: dict[str, hub_notify.NoticeTopic] = {}
    for topic in hub_notify.notice_topics():
        if isinstance(getattr(topic, "slug", None), str) and topic.slug not in found:
            found[topic.slug] = topic
    return found


def notice_channels() -> list[str]:
    """Codes of the registered channels a notice may go on (every one but voice)."""
    return [code for code in available_channels() if code not in NOT_FOR_NOTICES]


def default_channels(topic_slug: str, known: dict | None = None) -> list[str]:
    topic = (known if known is not None else topics()).get(topic_slug)
    wanted = tuple(getattr(topic, "default_channels", None) or DEFAULT_CHANNELS)
    return [code for code in wanted if code not in NOT_FOR_NOTICES]


def chosen_channels(subscriber: Subscriber | None, known: dict | None = None) -> dict:
    """``{topic slug: [channel codes]}`` for every notice topic: the person's choice,
    else the topic's default."""
    known = topics() if known is None else known
    saved = {}
    if subscriber is not None and subscriber.pk:
        saved = dict(NoticePreference.objects.filter(subscriber=subscriber)
                     .values_list("topic", "channels"))
    return {slug: list(saved[slug]) if slug in saved else default_channels(slug, known)
            for slug in known}


def _reachable() -> Q:
    """Addresses that may be used: confirmed ones, and any on a channel that needs no
    confirmation (``needs_verification`` false, e.g. a plugin's webhook)."""
    return Q(verified_at__isnull=False) | Q(channel__in=unverified_reachable())


def reachable_channels(subscriber: Subscriber | None, user=None) -> set[str]:
    """The notice channels this person has somewhere to be reached on: a verified,
    non-failing address, or (email) the account's own email."""
    codes = set()
    if subscriber is not None and subscriber.pk:
        codes = set(subscriber.addresses.filter(_reachable(), failing=False)
                    .values_list("channel", flat=True).distinct())
    user = user if user is not None else getattr(subscriber, "user", None)
    if user is not None and user.email:
        codes.add("email")
    return codes & set(notice_channels())


def clean_preferences(data) -> dict[str, list[str]]:
    """Check a ``{topic: [channels]}`` mapping from a form or the API: every topic must
    be declared and every channel offered for notices.  Raises
    :class:`NoticePreferenceError` naming the field (``notice_channels``)."""
    known = topics()
    offered = set(notice_channels())
    if not isinstance(data, dict):
        raise NoticePreferenceError({"notice_channels": [_(
            "Give an object mapping each notice topic to a list of channels.")]})
    cleaned = {}
    for slug, channels in data.items():
        if slug not in known:
            raise NoticePreferenceError({"notice_channels": [_(
                "Unknown notice topic: %(topic)s.") % {"topic": slug}]})
        if not isinstance(channels, (list, tuple)) or not all(
                isinstance(c, str) for c in channels):
            raise NoticePreferenceError({"notice_channels": [_(
                "The channels of %(topic)s must be a list of channel codes.") % {
                "topic": slug}]})
        bad = [c for c in channels if c not in offered]
        if bad:
            raise NoticePreferenceError({"notice_channels": [_(
                "The channel %(channel)s is not offered for notices (choose among "
                "%(offered)s).") % {"channel": bad[0], "offered": ", ".join(sorted(offered))}]})
        cleaned[slug] = list(dict.fromkeys(channels))
    return cleaned


@transaction.atomic
def set_preferences(subscriber: Subscriber, choices: dict[str, list[str]]) -> dict:
    """Store the person's channels per notice topic (``choices`` already checked by
    :func:`clean_preferences`); topics left out keep their current choice."""
    now = timezone.now()
    for slug, channels in choices.items():
        NoticePreference.objects.update_or_create(
            subscriber=subscriber, topic=slug,
            defaults={"channels": list(channels), "updated_at": now})
    return chosen_channels(subscriber)


# --- taking a notice -------------------------------------------------------------------

def take(notice: hub_notify.Notice, *, now: datetime | None = None) -> bool:
    """Write the outbox rows for ``notice`` and enqueue them after the commit.

    Idempotent on ``notice.dedupe_key``: a key already taken writes nothing (True).
    Returns True when the notice is taken (even if the person has nowhere to be
    reached: the row is kept, and says so in the log)."""
    now = now or timezone.now()
    if Notice.objects.filter(dedupe_key=notice.dedupe_key[:255]).exists():
        return True
    try:
        with transaction.atomic():
            row = _store(notice, now)
            ids, not_before = _write_deliveries(row, notice, now)
            if ids and not_before is None:
                transaction.on_commit(lambda: _enqueue(ids, now))
            elif ids:  # held by quiet hours: a deferred task, else the sweep at not_before
                from .services.delivery import schedule_retry

                schedule_retry(ids, not_before)
    except IntegrityError:
        # Another call took the same key between our check and our insert.
        if Notice.objects.filter(dedupe_key=notice.dedupe_key[:255]).exists():
            return True
        raise
    if not ids:
        logger.warning("Notice %s: no address to reach the recipient on", notice.dedupe_key)
    return True


def _store(notice: hub_notify.Notice, now: datetime) -> Notice:
    recipient = notice.recipient
    user = None
    if recipient.user_id is not None:
        user = get_user_model().objects.filter(pk=recipient.user_id).first()
    return Notice.objects.create(
        dedupe_key=notice.dedupe_key[:255], topic=notice.topic[:60],
        source=(notice.source or "")[:60], subject=notice.subject[:255], body=notice.body,
        short=(notice.short or "")[:500], url=_safe_url(notice.url),
        urgency=notice.urgency, user=user, email=(recipient.email or "")[:254],
        phone=(recipient.phone or "")[:32],
        language=recipient.language if recipient.language in ("fr", "en") else "fr",
        created_at=now)


def _safe_url(value: str) -> str:
    """Only a web address is kept: it becomes a link in emails and in Mon Espace."""
    value = (value or "").strip()
    return value[:500] if value.startswith(("https://", "http://")) else ""


def _subscriber_of(user) -> Subscriber:
    """The account's subscriber, created silently when missing (no topic, no consent:
    it only holds notice preferences and quiet hours)."""
    try:
        return user.alert_subscriber
    except Subscriber.DoesNotExist:
        pass
    language = getattr(user, "preferred_language", "") or "fr"
    subscriber, _created = Subscriber.objects.get_or_create(
        user=user, defaults={"language": language if language in ("fr", "en") else "fr"})
    return subscriber


def _targets(row: Notice) -> tuple[Subscriber | None, list[tuple[str, str]]]:
    """``(subscriber, [(channel, address)])`` for the notice's recipient."""
    user = row.user
    if user is not None and user.is_active:
        subscriber = _subscriber_of(user)
        wanted = chosen_channels(subscriber).get(row.topic)
        if wanted is None:  # a topic nobody declares (its module was switched off)
            wanted = default_channels(row.topic, {})
        offered = set(notice_channels())
        wanted = [code for code in wanted if code in offered]
        addresses = (Address.objects.filter(_reachable(), subscriber=subscriber,
                                            channel__in=wanted, failing=False)
                     .order_by("channel", "pk").values_list("channel", "value"))
        targets = list(dict.fromkeys(addresses))
        has = {channel for channel, _value in targets}
        account_email = (user.email or "").strip()
        if account_email and "email" not in has and (
                "email" in wanted or (wanted and not targets)):
            # Email chosen but no alertes address for it, or the chosen channels reach
            # nobody: the account's own email (never for someone who chose nothing).
            targets.append(("email", account_email.lower()))
        return subscriber, targets
    if user is not None:  # an account switched off: nobody to tell
        return None, []
    offered = set(notice_channels())
    targets = []
    if row.phone and "sms" in offered:
        from .phones import normalize_phone

        try:
            targets.append(("sms", normalize_phone(row.phone)))
        except ValidationError:
            logger.warning("Notice %s: the phone number is not a valid one", row.pk)
    if row.email and "email" in offered:
        try:
            validate_email(row.email.strip())
            targets.append(("email", row.email.strip().lower()))
        except ValidationError:
            logger.warning("Notice %s: the email address is not a valid one", row.pk)
    return None, targets


def _write_deliveries(row: Notice, notice: hub_notify.Notice,
                      now: datetime) -> tuple[list[int], datetime | None]:
    """One ``queued`` row per channel and address; ``(ids, not_before)``.  The rows'
    language is the notice's (its texts are already in it), not the subscriber's."""
    from .services.outbox import quiet_until

    subscriber, targets = _targets(row)
    not_before = None
    if subscriber is not None and notice.urgency != hub_notify.URGENCY_URGENT:
        not_before = quiet_until(now, subscriber.quiet_start, subscriber.quiet_end)
    ids = []
    for channel, address in targets:
        delivery = Delivery.objects.create(
            notice=row, subscriber=subscriber, channel=channel, address=address[:500],
            language=row.language, queued_at=now, not_before=not_before, enqueued_at=now)
        ids.append(delivery.pk)
    return ids, not_before


def _enqueue(ids: list[int], now: datetime) -> None:
    """Hand the rows just written to the task queue.  When the broker is down (Redis
    stopped) the rows stay ``queued`` with no ``enqueued_at``, so the next sweep
    (``dispatch_due``, every minute) enqueues them as soon as it can, instead of after
    ``ALERTES_REQUEUE_AFTER``: nothing is lost, and the caller (a request just saved)
    never sees the error."""
    from .services.outbox import enqueue_deliveries

    try:
        enqueue_deliveries(ids=ids, now=now)
    except Exception:
        logger.warning("Notice deliveries %s not enqueued (task broker unreachable?): "
                       "the sweep will enqueue them", ids[:20], exc_info=True)
        Delivery.objects.filter(pk__in=ids, status=Delivery.Status.QUEUED).update(
            enqueued_at=None)


# --- what a person received and holds --------------------------------------------------

def export(user) -> list[dict]:
    """The person's notices and their deliveries (Law 25 portability)."""
    rows = Notice.objects.filter(user=user).prefetch_related("deliveries").order_by("pk")
    return [{"topic": n.topic, "subject": n.subject, "body": n.body, "url": n.url,
             "source": n.source, "created_at": n.created_at.isoformat(),
             "deliveries": [{"channel": d.channel, "address": d.address, "status": d.status,
                             "queued_at": d.queued_at.isoformat(),
                             "sent_at": d.sent_at.isoformat() if d.sent_at else None,
                             "error": d.error} for d in n.deliveries.all()]}
            for n in rows]


def erase(user) -> None:
    """Anonymise the person's notices like alert deliveries: the texts (which may name
    their request) and the addresses go, the rows stay for the counts."""
    from django.db.models import CharField, Value
    from django.db.models.functions import Cast, Concat

    notices = Notice.objects.filter(user=user)
    Delivery.objects.filter(notice__in=notices).update(
        address=Concat(Value("erased:"), Cast("pk", output_field=CharField())),
        subscriber=None)
    notices.update(user=None, email="", phone="", subject="—", body="", short="", url="")
