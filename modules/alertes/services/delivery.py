"""The worker's side of the outbox: claim a batch of rows atomically, hand them to their
channels (concurrently where the channel allows it, paced per provider), record the
outcomes in bulk, retry with backoff; and the every-minute sweep (``dispatch_due``) that
starts scheduled alerts, finishes interrupted builds, requeues lost rows and moves rows
stuck in ``sending`` to ``review`` for a person (``resolve_review``).  Why each step is
safe is the delivery guarantee in ``outbox``.
"""

from __future__ import annotations

import contextlib
import logging
import math
import random
import threading
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.db import connection, transaction
from django.db.models import (
    Case,
    CharField,
    DateTimeField,
    F,
    Q,
    Value,
    When,
)
from django.utils import timezone
from django.utils.translation import gettext as _

from .. import ratelimit
from ..channels import AddressGone, DeliveryError, available_channels
from ..models import (
    Address,
    Alert,
    Delivery,
)
from .outbox import (
    _in_chunks,
    build_in_chunks,
    deliver_task,
    enqueue_deliveries,
    has_audience,
    refresh_alert_status,
)
from .sending import AlertError, _start, can_send

logger = logging.getLogger(__name__)

MAX_ATTEMPTS = 5
CLAIM_SIZE = 100


def setting(name: str, default):
    return getattr(settings, name, default)


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
        schedule_retry([d.pk for d, *_ in rows], retry_at)
        counts["retry"] += len(rows)
    if rows := kinds.get("transient"):
        retries = [(d.pk, now + backoff(d.attempts)) for d, *_ in rows]
        mine(rows).update(status=Delivery.Status.QUEUED, claim="",
                          not_before=_by_pk(retries, DateTimeField()),
                          error=_by_pk([(d.pk, str(v)[:500]) for d, _, v in rows], char))
        schedule_retry([pk for pk, _ in retries], max(at for _, at in retries))
        counts["retry"] += len(rows)
    if rows := kinds.get("permanent"):
        mine(rows).update(status=Delivery.Status.FAILED, failed_at=now,
                          error=_by_pk([(d.pk, str(v)[:500]) for d, _, v in rows], char))
        for delivery, _, exc in rows:
            same = Address.objects.filter(channel=delivery.channel, value=delivery.address)
            if isinstance(exc, AddressGone):  # no consent record: nobody withdrew
                if same.delete()[0]:
                    logger.info("Address removed: %s", exc)
            elif exc.address_failing:
                same.update(failing=True, failing_reason=str(exc)[:255])
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


def schedule_retry(delivery_ids: int | list[int], retry_at: datetime) -> None:
    """With a backend that defers (database, RQ), enqueue the retry for ``retry_at``
    (one task for the rows given); otherwise ``dispatch_due()`` picks the rows up once
    ``not_before`` has passed."""
    deliver_batch = deliver_task()
    ids = [delivery_ids] if isinstance(delivery_ids, int) else list(delivery_ids)
    if ids and getattr(deliver_batch.get_backend(), "supports_defer", False):
        transaction.on_commit(
            lambda: deliver_batch.using(run_after=retry_at).enqueue(ids))


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
