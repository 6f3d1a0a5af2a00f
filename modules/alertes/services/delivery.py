"""The worker's side of the outbox: claim a batch of rows atomically, hand them to their
channels (concurrently where the channel allows it, paced per provider), record the
outcomes in bulk, retry with backoff; and the every-minute sweep (``dispatch_due``) that
starts scheduled alerts, finishes interrupted builds, requeues lost rows and moves rows
stuck in ``sending`` to ``review`` for a person (``resolve_review``).  Why each step is
safe is the delivery guarantee in ``outbox``.
"""

from __future__ import annotations

import collections
import contextlib
import logging
import math
import random
import threading
import time
import uuid
from concurrent.futures import FIRST_COMPLETED, ThreadPoolExecutor
from concurrent.futures import wait as futures_wait
from datetime import datetime, timedelta

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.db import connection, transaction
from django.db.models import (
    Case,
    CharField,
    DateTimeField,
    F,
    Max,
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
# Rows a sending thread takes per turn of the sending loop: the marks and the outcomes
# are written for two rows a statement instead of one, and at most about two rows per
# thread are in flight (attempted, outcome not yet written) when a worker dies.
PER_TURN = 2
CLAIM_PREFIX = "l"  # claims of workers that lease and mark their attempts (see ``recover``)


def setting(name: str, default):
    return getattr(settings, name, default)


def backoff(attempt: int) -> timedelta:
    """Exponential backoff with full jitter: up to 30 s, 60 s, 120 s… (max 1 h)."""
    ceiling = min(3600, 30 * 2 ** max(0, attempt - 1))
    return timedelta(seconds=ceiling / 2 + random.uniform(0, ceiling / 2))  # noqa: S311


def new_token() -> str:
    return CLAIM_PREFIX + uuid.uuid4().hex[:31]


def _lock_key(token: str) -> int:
    """The PostgreSQL advisory lock a worker holds while its claim lives (63 bits)."""
    return int(token[1:16], 16)


def _uses_locks() -> bool:
    return connection.vendor == "postgresql"


def lease_seconds() -> int:
    """Without PostgreSQL's advisory locks, a claim whose worker has not refreshed it for
    this long is taken as dead (``ALERTES_CLAIM_LEASE``, default 60 s; the worker
    refreshes it every quarter of it while it sends)."""
    return max(4, int(setting("ALERTES_CLAIM_LEASE", 60)))


def claim(ids: list[int], *, now: datetime | None = None,
          token: str | None = None, alerts: dict | None = None) -> list[Delivery]:
    """Atomically move ready rows among ``ids`` from ``queued`` to ``sending`` for this
    worker; rows another worker holds or already sent are skipped.  The rows' alerts
    are read once (``alerts``, by id, kept by the caller for its batch) and shared by
    the rows, not joined and built again for each row."""
    now = now or timezone.now()
    token = token or uuid.uuid4().hex
    if connection.vendor == "postgresql":
        rows = _claim_returning(ids, token, now)
    else:
        ready = Q(not_before__isnull=True) | Q(not_before__lte=now)
        with transaction.atomic():
            Delivery.objects.filter(pk__in=ids, status=Delivery.Status.QUEUED).filter(
                ready).update(status=Delivery.Status.SENDING, claim=token, claimed_at=now,
                              attempts=F("attempts") + 1)
        rows = list(Delivery.objects.filter(pk__in=ids, claim=token,
                                            status=Delivery.Status.SENDING)
                    .select_related("notice").order_by("pk"))
    alerts = {} if alerts is None else alerts
    missing = {d.alert_id for d in rows if d.alert_id and d.alert_id not in alerts}
    if missing:
        alerts.update(Alert.objects.in_bulk(missing))
    cache = Delivery.alert.field.set_cached_value
    for delivery in rows:
        if delivery.alert_id:
            cache(delivery, alerts.get(delivery.alert_id))
    return rows


def _table() -> str:
    return connection.ops.quote_name(Delivery._meta.db_table)


def _locked_queued(table: str, condition: str = "") -> str:
    """PostgreSQL: the ``locked`` rows of a claim or a lease, among the ids bound as one
    array, ``queued`` and not being claimed by another worker (``FOR UPDATE SKIP
    LOCKED``: skipped, not waited for, so two workers given the same ids never
    deadlock).  A ``WITH`` query, evaluated once: the ``UPDATE`` joined to it updates
    every row it locked even when another worker's lease changed a row after the
    statement began (written ``WHERE id IN (SELECT … FOR UPDATE SKIP LOCKED)``, such
    rows could stay locked but not updated, and neither worker sent them:
    ``test_two_workers``).  Its parameters: the ids, the status."""
    return (f"WITH locked AS (SELECT id FROM {table} "  # noqa: S608
            f"WHERE id = ANY(%s::bigint[]) AND status = %s{condition} "
            f"FOR UPDATE SKIP LOCKED) ")


def _id_array(ids) -> str:
    """Ids as ONE parameter, PostgreSQL's array literal ``{1,2,3}`` (cast to
    ``bigint[]`` in the statement): psycopg binds a hundred ids given one by one, or
    as a Python list, for about as much CPU as the statement itself."""
    return "{" + ",".join([str(int(pk)) for pk in ids]) + "}"


_RETURNED: list[str] = []


def _returned_columns() -> list[str]:
    """Every concrete column of ``Delivery``, in the model's order (the rows a claim
    returns are built as the ORM would, none of their fields deferred: a channel may
    read any of them)."""
    if not _RETURNED:
        _RETURNED.extend(f.column for f in Delivery._meta.concrete_fields)
    return _RETURNED


def _claim_returning(ids: list[int], token: str, now: datetime) -> list[Delivery]:
    """PostgreSQL's claim in one statement: ``WITH locked AS (SELECT … FOR UPDATE SKIP
    LOCKED) UPDATE … FROM locked … RETURNING`` the claimed rows, the ids bound as one
    array; the rows' notices (personal notices only) read in one query."""
    table = _table()
    quote = connection.ops.quote_name
    columns = ", ".join(f"{table}.{quote(c)}" for c in _returned_columns())
    stamp = connection.ops.adapt_datetimefield_value(now)
    queued, sending = Delivery.Status.QUEUED, Delivery.Status.SENDING
    # Only quoted identifiers are interpolated; values are parameters.
    ready = " AND (not_before IS NULL OR not_before <= %s)"
    locked = _locked_queued(table, ready)
    sql = (f"{locked}UPDATE {table} SET status = %s, claim = %s, "  # noqa: S608
           f"claimed_at = %s, attempts = {table}.attempts + 1 FROM locked "
           f"WHERE {table}.id = locked.id AND {table}.status = %s RETURNING {columns}")
    with connection.cursor() as cursor:
        cursor.execute(sql, [_id_array(ids), queued, stamp, sending, token, stamp, queued])
        fetched = cursor.fetchall()
    names = [f.attname for f in Delivery._meta.concrete_fields]
    db = connection.alias
    rows = sorted((Delivery.from_db(db, names, values) for values in fetched),
                  key=lambda d: d.pk)
    notices = {d.notice_id for d in rows if d.notice_id}
    if notices:
        found = Delivery.notice.field.related_model.objects.in_bulk(notices)
        cache = Delivery.notice.field.set_cached_value
        for delivery in rows:
            cache(delivery, found.get(delivery.notice_id))
    return rows


def _lease(ids: list[int], token: str, now: datetime) -> None:
    """Mark the task's ``queued`` rows with its claim token (status unchanged): if the
    worker dies before claiming them, ``recover`` sees the token dead and enqueues them
    again at once instead of waiting for ``ALERTES_REQUEUE_AFTER``."""
    if connection.vendor == "postgresql":
        # One statement, the ids bound as one array; rows another worker is claiming
        # are skipped, not waited for (no deadlock between two workers given the same
        # ids).
        table = _table()
        queued = Delivery.Status.QUEUED
        locked = _locked_queued(table)
        sql = (f"{locked}UPDATE {table} SET claim = %s, claimed_at = %s "  # noqa: S608
               f"FROM locked WHERE {table}.id = locked.id AND {table}.status = %s")
        with connection.cursor() as cursor:
            cursor.execute(sql, [_id_array(ids), queued, token,
                                 connection.ops.adapt_datetimefield_value(now), queued])
        return
    Delivery.objects.filter(pk__in=ids, status=Delivery.Status.QUEUED).update(
        claim=token, claimed_at=now)


class _Claim:
    """This worker's claim for one ``deliver`` call: its token, held alive by a
    session-level advisory lock on PostgreSQL (released when the process or its
    connection dies) and by a heartbeat on ``claimed_at`` (the lease elsewhere)."""

    def __init__(self):
        self.token = new_token()
        self.beat = time.monotonic()
        self.locked = False

    def __enter__(self):
        if _uses_locks():
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_advisory_lock(%s)", [_lock_key(self.token)])
            self.locked = True
        return self

    def __exit__(self, *exc):
        # Rows leased but never claimed (not ready, or another worker took them) are
        # left to their own tasks and the sweep.
        with contextlib.suppress(Exception):
            Delivery.objects.filter(claim=self.token, status=Delivery.Status.QUEUED).update(
                claim="")
        if self.locked:
            with contextlib.suppress(Exception), connection.cursor() as cursor:
                cursor.execute("SELECT pg_advisory_unlock(%s)", [_lock_key(self.token)])
        return False

    def heartbeat(self) -> None:
        if time.monotonic() - self.beat >= lease_seconds() / 4:
            Delivery.objects.filter(claim=self.token).update(claimed_at=timezone.now())
            self.beat = time.monotonic()


def deliver(ids: list[int]) -> dict[str, int]:
    """Send the given deliveries (a task's batch).  Returns counts per outcome.

    First the claims of dead workers are recovered (``recover``), then the batch is
    leased (``_lease``) and claimed ``CLAIM_SIZE`` rows at a time; each claimed chunk
    is sent concurrently by a small pool of sending threads (``ALERTES_SEND_THREADS``,
    default 8) — only for channels that say ``concurrent = True`` (their ``send``
    touches no database), and never more at once per provider bucket than its rate
    allows.  Each row is marked attempted (``attempted_at``, with the reference its
    channel chose) just before it is handed over, and the outcomes are written at each
    turn of the sending loop in a few bulk ``UPDATE``s (one per kind of outcome), still
    conditioned on this worker's claim: at most about two rows per sending thread are
    ever "in flight" (attempted, outcome not yet written) when a worker dies."""
    counts = {"sent": 0, "failed": 0, "retry": 0, "skipped": 0}
    channels = available_channels()
    alert_ids = set()
    alerts: dict = {}  # the batch's alerts, read once
    recover()
    with contextlib.ExitStack() as sessions:
        mine = sessions.enter_context(_Claim())
        _lease(ids, mine.token, timezone.now())
        # A channel may keep provider sessions for the batch (email: one SMTP connection
        # per sending thread instead of one per message).
        for channel in channels.values():
            if hasattr(channel, "batch"):
                sessions.enter_context(channel.batch())
        for start in range(0, len(ids), CLAIM_SIZE):
            chunk = ids[start:start + CLAIM_SIZE]
            claimed = claim(chunk, token=mine.token, alerts=alerts)
            counts["skipped"] += len(chunk) - len(claimed)
            if not claimed:
                continue
            alert_ids.update(d.alert_id for d in claimed if d.alert_id)  # not notices
            for outcome, n in _send_all(claimed, channels, mine).items():
                counts[outcome] += n
    for alert_id in alert_ids:
        refresh_alert_status(alert_id)
    return counts


def ids_in_range(alert_id: int, first: int, last: int) -> list[int]:
    """The ``queued`` rows of an alert whose id lies in ``[first, last]``: a batch
    enqueued as a range (``outbox._enqueue_ids``), read by the primary key."""
    return list(Delivery.objects.filter(
        pk__gte=first, pk__lte=last, alert_id=alert_id, status=Delivery.Status.QUEUED)
        .order_by("pk").values_list("pk", flat=True))


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


def _mark(rows: list[Delivery], channels: dict, mine: _Claim) -> list[Delivery]:
    """Record that these rows are about to be handed to their providers (one ``UPDATE``):
    ``attempted_at``, and ``provider_id`` set to the reference the channel chose
    beforehand (an email's Message-ID).  Returns the rows still held by this claim (a
    row taken away meanwhile is not sent).  Written as SQL, ``RETURNING`` the rows
    still held: it runs once a turn of the sending loop, and the ORM's ``Case(When…)``
    and a second query for a row taken away cost more than the statement itself."""
    now = timezone.now()
    refs = []
    for delivery in rows:
        delivery.previous_attempt = delivery.attempted_at
        delivery.unknown_before = delivery.attempted_at is not None
        reference = getattr(channels.get(delivery.channel), "reference", None)
        if callable(reference):
            delivery.provider_id = str(reference(delivery) or "")[:120]
            refs.append((delivery.pk, delivery.provider_id))
        delivery.attempted_at = now
    table = connection.ops.quote_name(Delivery._meta.db_table)
    params: list = [connection.ops.adapt_datetimefield_value(now)]
    provider = ""
    if refs:
        provider = (", provider_id = CASE id " + " ".join(["WHEN %s THEN %s"] * len(refs))
                    + " ELSE provider_id END")
        for pk, reference in refs:
            params += [pk, reference]
    params += [d.pk for d in rows] + [mine.token, Delivery.Status.SENDING]
    marks = ", ".join(["%s"] * len(rows))
    # Only the quoted table name and placeholders are interpolated; values are parameters.
    sql = (f"UPDATE {table} SET attempted_at = %s{provider} "  # noqa: S608
           f"WHERE id IN ({marks}) AND claim = %s AND status = %s")
    if connection.features.can_return_rows_from_bulk_insert:  # PostgreSQL, SQLite
        sql += " RETURNING id"
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        if connection.features.can_return_rows_from_bulk_insert:
            kept = {row[0] for row in cursor.fetchall()}
        else:
            kept = None if cursor.rowcount == len(rows) else set(
                Delivery.objects.filter(pk__in=[d.pk for d in rows], claim=mine.token,
                                        status=Delivery.Status.SENDING)
                .values_list("pk", flat=True))
    if kept is not None and len(kept) != len(rows):
        rows = [d for d in rows if d.pk in kept]
    mine.heartbeat()
    return rows


def _send_all(claimed: list[Delivery], channels: dict, mine: _Claim) -> dict[str, int]:
    """Hand every claimed row to its channel and record the outcomes as they come (each
    turn of the loop: the rows finished since the last), so that at any time at most
    ``PER_TURN`` rows per sending thread are sent but not recorded.  Returns the counts.

    Rows are grouped by provider bucket (``ratelimit.throttle_for``): a bucket paced at
    ``rate`` per second gets at most ``ceil(rate)`` lanes (one for Twilio's 1 SMS/s per
    long code), an unpaced one up to the pool's size; each lane sends its rows one
    after the other.  This thread feeds the lanes ``PER_TURN`` rows at a time, marking
    them attempted (``_mark``, one statement for the turn) just before a sending thread
    takes them.  Channels that are not
    ``concurrent`` are sent from this thread."""
    lanes: list[collections.deque] = []
    here: collections.deque = collections.deque()
    threads = max(1, int(setting("ALERTES_SEND_THREADS", 8)))
    buckets: dict[tuple, list[Delivery]] = {}
    for delivery in claimed:
        channel = channels.get(delivery.channel)
        if channel is None or not getattr(channel, "concurrent", False) or threads == 1:
            here.append(delivery)
            continue
        throttle = delivery.send_throttle = ratelimit.throttle_for(channel, delivery)
        buckets.setdefault((throttle.key, throttle.rate), []).append(delivery)
    for (_key, rate), rows in buckets.items():
        width = min(threads, len(rows), math.ceil(rate) if rate else threads)
        lanes += [collections.deque(rows[i::width]) for i in range(width)]
    busy: dict[int, float] = {}  # lane → seconds its bucket is busy for
    results: list[tuple] = []
    running: dict = {}
    waiting = collections.deque(range(len(lanes)))  # lanes without a row being sent

    def feed() -> None:
        """Give the next rows of waiting lanes (``PER_TURN`` each) to the free sending
        threads: no more rows are marked attempted than threads can send in a turn."""
        while waiting and len(running) < threads:
            picked = []
            while waiting and len(running) + len(picked) < threads:
                lane = waiting.popleft()
                while lanes[lane] and lane in busy:  # the bucket is busy: to the outbox
                    results.append((lanes[lane].popleft(), "busy", busy[lane]))
                rows = [lanes[lane].popleft() for _ in range(min(PER_TURN, len(lanes[lane])))]
                if rows:
                    picked.append((lane, rows))
            if not picked:
                return
            held = {d.pk for d in _mark([d for _, rows in picked for d in rows], channels,
                                        mine)}
            for lane, rows in picked:
                rows = [d for d in rows if d.pk in held]
                if rows:
                    running[_sending_pool().submit(_attempt_all, rows, channels)] = (
                        lane, rows)
                else:
                    waiting.append(lane)

    counts = {"sent": 0, "failed": 0, "retry": 0, "skipped": 0}

    def flush() -> None:
        if results:
            for outcome, n in _record(results, mine.token).items():
                counts[outcome] += n
            results.clear()

    feed()
    while running or here:
        if here:
            delivery = here.popleft()
            if _mark([delivery], channels, mine):
                results.append((delivery, *_attempt(delivery, channels.get(delivery.channel))))
            done = [f for f in running if f.done()]
        else:
            done, _ = futures_wait(list(running), return_when=FIRST_COMPLETED)
        for future in done:
            lane, rows = running.pop(future)
            for delivery, outcome in zip(rows, future.result(), strict=True):
                if outcome[0] == "busy":
                    busy[lane] = outcome[1]
                results.append((delivery, *outcome))
            waiting.append(lane)
        flush()
        feed()
    flush()
    # Rows taken away from this claim before their send (see ``_mark``).
    counts["skipped"] = len(claimed) - counts["sent"] - counts["failed"] - counts["retry"]
    return counts


def _attempt_all(rows: list[Delivery], channels: dict) -> list[tuple[str, object]]:
    """A lane's rows of one turn, one after the other (a sending thread); once the
    provider's rate is taken the rest go back to the outbox untried."""
    outcomes: list[tuple[str, object]] = []
    for delivery in rows:
        if outcomes and outcomes[-1][0] == "busy":
            outcomes.append(outcomes[-1])
        else:
            outcomes.append(_attempt(delivery, channels.get(delivery.channel)))
    return outcomes


def _attempt(delivery: Delivery, channel) -> tuple[str, object]:
    """Wait for the provider's rate, then send; no database access here (threads).  A
    row whose last attempt had an unknown outcome is first looked up with the provider,
    when its channel can (``lookup``)."""
    if channel is None:
        return ("failed", f"no channel {delivery.channel!r} installed")
    throttle = getattr(delivery, "send_throttle", None) or ratelimit.throttle_for(channel, delivery)
    try:
        ratelimit.limiter.acquire(throttle.key, throttle.rate)
    except ratelimit.Busy as busy:  # the provider's rate is taken: back to the outbox
        return ("busy", busy.retry_in)
    try:
        lookup = getattr(channel, "lookup", None)
        if getattr(delivery, "unknown_before", False) and callable(lookup):
            delivery.attempted_at = delivery.previous_attempt  # the window to look in
            found, value = lookup(delivery)
            if found == "sent":
                return ("sent", value)
        return ("sent", channel.send(delivery))
    except DeliveryError as exc:
        return ("error", exc)
    except Exception as exc:  # a bug or an unknown provider answer: maybe sent, a person checks
        logger.exception("Delivery %s: unexpected error", delivery.pk)
        return ("review", f"unexpected: {exc}"[:500])


def _by_pk(pairs: list[tuple[int, object]], output_field, default=None) -> Case:
    return Case(*[When(pk=pk, then=Value(value, output_field=output_field))
                  for pk, value in pairs],
                output_field=output_field, default=default)


def _record(results: list[tuple], token: str) -> dict[str, int]:
    """Write the outcomes of a claimed chunk in bulk: one ``UPDATE`` per outcome kind,
    only on rows this worker still holds (same claim, still ``sending``)."""
    now = timezone.now()

    def mine(rows):
        return Delivery.objects.filter(pk__in=[d.pk for d, *_ in rows], claim=token,
                                       status=Delivery.Status.SENDING)

    kinds: dict[str, list] = {}
    for row in results:
        delivery, outcome, value = row
        if outcome == "error":
            ambiguous = getattr(value, "ambiguous", False)
            if value.transient and delivery.attempts < MAX_ATTEMPTS:
                outcome = "unknown" if ambiguous else "transient"
            elif value.transient and ambiguous:  # the last attempt, maybe sent
                outcome, value = "review", f"outcome unknown after the last attempt: {value}"
                row = (delivery, outcome, value)
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
        # Sent back without trying: the previous attempt's time (if its outcome is
        # unknown) is kept, else cleared.
        mine(rows).update(status=Delivery.Status.QUEUED, not_before=retry_at, claim="",
                          attempts=F("attempts") - 1, attempted_at=None)
        for delivery, *_ in rows:
            if getattr(delivery, "previous_attempt", None):  # still unknown: kept
                Delivery.objects.filter(pk=delivery.pk).update(
                    attempted_at=delivery.previous_attempt)
        schedule_retry([d.pk for d, *_ in rows], retry_at)
        counts["retry"] += len(rows)
    for kind in ("transient", "unknown"):
        if rows := kinds.get(kind):
            # "unknown": the provider may have taken it; ``attempted_at`` is kept so the
            # retry asks the provider first (``lookup``).
            retries = [(d.pk, now + backoff(d.attempts)) for d, *_ in rows]
            extra = {} if kind == "unknown" else {"attempted_at": None}
            mine(rows).update(status=Delivery.Status.QUEUED, claim="",
                              not_before=_by_pk(retries, DateTimeField()),
                              error=_by_pk([(d.pk, str(v)[:500]) for d, _, v in rows], char),
                              **extra)
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


def recover(now: datetime | None = None) -> dict[str, int]:
    """Take back the claims of workers that died (run by every ``deliver`` before it
    claims, and by the sweep).  A claim is dead when its worker's advisory lock is free
    (PostgreSQL: the lock goes with the process's connection, so at once) or, elsewhere,
    when its lease was not refreshed for ``ALERTES_CLAIM_LEASE`` seconds.  Of its rows:

    * ``queued`` rows the dead task had leased, and ``sending`` rows it had claimed but
      not yet handed to a provider (no ``attempted_at``), are enqueued again at once;
    * rows it was sending are looked up with their provider (``lookup``: Twilio's
      Messages and Calls lists): found → ``sent`` with the provider's id; absent →
      enqueued again; the provider cannot be asked → tried again at the next sweep,
      then ``review`` after ``ALERTES_STUCK_AFTER`` seconds;
    * rows of a channel whose provider cannot be asked (SMTP, Web Push) go to
      ``review`` with the evidence (when the attempt started, the reference chosen
      before the send: the email's Message-ID, to look for in the mail server's log).
    """
    now = now or timezone.now()
    result = {"released": 0, "resolved": 0, "review": 0}
    # ``exclude(claim="")`` is the predicate of the partial claim index: only the rows
    # being worked on are read, not an emergency's whole queued outbox (every task
    # begins with this).
    tokens = list(Delivery.objects.exclude(claim="").filter(
        status__in=[Delivery.Status.QUEUED, Delivery.Status.SENDING],
        claim__startswith=CLAIM_PREFIX).order_by().values_list("claim", flat=True).distinct())
    if not tokens:
        return result
    channels = available_channels()
    for token in tokens:
        with transaction.atomic():
            if _uses_locks():
                # Held until this transaction ends: two sweeps never recover one claim.
                with connection.cursor() as cursor:
                    cursor.execute("SELECT pg_try_advisory_xact_lock(%s)", [_lock_key(token)])
                    if not cursor.fetchone()[0]:
                        continue  # its worker is alive
            else:
                last = Delivery.objects.filter(claim=token).aggregate(
                    last=Max("claimed_at"))["last"]
                if last is not None and last > now - timedelta(seconds=lease_seconds()):
                    continue
            _recover_claim(token, now, channels, result)
    return result


def _recover_claim(token: str, now: datetime, channels: dict, result: dict) -> None:
    rows = Delivery.objects.filter(claim=token)
    leased = list(rows.filter(status=Delivery.Status.QUEUED).values_list("pk", flat=True))
    if leased:
        rows.filter(pk__in=leased, status=Delivery.Status.QUEUED).update(
            claim="", enqueued_at=now)
    never = list(rows.filter(status=Delivery.Status.SENDING, attempted_at__isnull=True)
                 .values_list("pk", flat=True))
    if never:
        rows.filter(pk__in=never, status=Delivery.Status.SENDING).update(
            status=Delivery.Status.QUEUED, claim="", enqueued_at=now,
            attempts=F("attempts") - 1)
    requeue = leased + never
    result["released"] += len(requeue)
    alerts = set()
    attempted = rows.filter(status=Delivery.Status.SENDING, attempted_at__isnull=False)
    for delivery in attempted.select_related("alert", "notice").order_by("pk"):
        verdict, value = _resolve(delivery, channels.get(delivery.channel), now)
        row = rows.filter(pk=delivery.pk, status=Delivery.Status.SENDING)
        if verdict == "sent":
            row.update(status=Delivery.Status.SENT, sent_at=now, provider_id=value[:120],
                       error="")
            result["resolved"] += 1
        elif verdict == "absent":
            row.update(status=Delivery.Status.QUEUED, claim="", attempted_at=None,
                       enqueued_at=now, error=value[:500])
            requeue.append(delivery.pk)
            result["resolved"] += 1
        elif verdict == "review":
            row.update(status=Delivery.Status.REVIEW, error=value[:500])
            result["review"] += 1
        else:  # "wait": asked again at the next sweep
            continue
        if delivery.alert_id:
            alerts.add(delivery.alert_id)
    if requeue:
        logger.warning("Claim %s of a stopped worker: %d deliveries enqueued again",
                       token, len(requeue))
        transaction.on_commit(lambda: enqueue_deliveries(ids=requeue, now=now))
    for alert_id in alerts:
        transaction.on_commit(lambda alert_id=alert_id: refresh_alert_status(alert_id))


def _resolve(delivery: Delivery, channel, now: datetime) -> tuple[str, str]:
    """What became of a row its worker was sending when it died: ``("sent", provider
    id)``, ``("absent", why)``, ``("review", evidence)`` or ``("wait", "")``."""
    evidence = (f"worker stopped during attempt {delivery.attempts}, started "
                f"{delivery.attempted_at:%Y-%m-%d %H:%M:%S} UTC")
    lookup = getattr(channel, "lookup", None)
    if callable(lookup):
        # A request may still be on its way for as long as the channel's timeout: a real
        # delay, measured on the real clock whatever ``now`` the sweep was given.
        grace = timedelta(seconds=float(getattr(channel, "lookup_grace", 0) or (
            float(getattr(channel, "timeout", 10) or 10) + 5)))
        if delivery.attempted_at > timezone.now() - grace:
            return "wait", ""
        try:
            verdict, value = lookup(delivery)
            if verdict in ("sent", "absent"):
                return verdict, str(value)
            error = f"unexpected answer {verdict!r}"
        except DeliveryError as exc:
            error = str(exc)
        except Exception as exc:  # a bug or an unknown answer: the provider could not say
            logger.exception("Delivery %s: lookup failed", delivery.pk)
            error = f"unexpected: {exc}"
        stuck_after = timedelta(seconds=setting("ALERTES_STUCK_AFTER", 900))
        if delivery.attempted_at > now - stuck_after:
            return "wait", ""
        return "review", f"{evidence}; the provider could not be asked: {error}"
    if delivery.provider_id:
        return "review", (f"{evidence}; reference {delivery.provider_id} was set before "
                          f"the message was handed over: look for it in the provider's "
                          f"log (for email, the mail server's) before resending")
    return "review", (f"{evidence}; the provider keeps no record this server can ask: "
                      f"check with it before resending")


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
    # Claims of workers that died: never-attempted rows enqueued again at once, rows in
    # flight looked up with their provider, the rest to review with the evidence.
    for key, n in recover(now).items():
        if n:
            result[key] = result.get(key, 0) + n
    stuck_after = timedelta(seconds=setting("ALERTES_STUCK_AFTER", 900))
    requeue_after = timedelta(seconds=setting("ALERTES_REQUEUE_AFTER", 300))
    # Claims without a lease (a worker of an older version): after ``stuck_after``.
    stuck = Delivery.objects.filter(status=Delivery.Status.SENDING,
                                    claimed_at__lt=now - stuck_after).exclude(
        claim__startswith=CLAIM_PREFIX)
    stuck_alerts = set(stuck.filter(alert__isnull=False).values_list("alert_id", flat=True)
                       .distinct())
    result["review"] += stuck.update(
        status=Delivery.Status.REVIEW,
        error="worker stopped while sending: check with the provider before resending")
    ready = Delivery.objects.filter(status=Delivery.Status.QUEUED).exclude(
        claim__startswith=CLAIM_PREFIX).filter(  # leased by a live worker: its own
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
                    attempted_at=None, enqueued_at=timezone.now())
        transaction.on_commit(lambda: enqueue_deliveries(ids=[delivery.pk]))
    else:
        rows.update(status=Delivery.Status.SENT, sent_at=timezone.now(),
                    error=f"recorded as sent by user {user.pk}")
    delivery.refresh_from_db()
    return delivery
