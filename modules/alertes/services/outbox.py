"""The outbox of an alert: who receives it (the audience, each ``(channel, address)``
once), the ``Delivery`` rows written before anything leaves, and their hand-over to the
task queue by id.  The worker's side (claim, send, record, the sweep) is in
``delivery``.

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
a build whose process died (the build is idempotent).  Its batches travel as ranges of
ids (``alert, first, last``: the task reads the alert's ``queued`` rows in it), since a
task row holding 500 ids cost the database backend more than the rows it named; and on
PostgreSQL its chunks and task rows commit without waiting for the disk
(``synchronous_commit = off``, ``_commit_without_flush``): the flushes were a third of
the build, and every commit that matters afterwards (a worker's claim, the final
``audience_size``) flushes them anyway, so a chunk lost with the database server is
never claimed and is written again by the sweep.

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
* Worker killed after the claim.  A worker's claim (one token per task) lives as long
  as its process: on PostgreSQL it holds a session advisory lock on it (gone with the
  connection, so at once), elsewhere it refreshes a lease (``ALERTES_CLAIM_LEASE``).
  The task first *leases* its whole batch (the rows stay ``queued``, marked with its
  token), then claims ``CLAIM_SIZE`` rows at a time, and marks each row attempted
  (``attempted_at``, with the reference chosen before the send: an email's Message-ID)
  just before a sending thread hands it over; outcomes are written at each turn of the
  loop.  The next worker's task, or the sweep, takes a dead claim back
  (``delivery.recover``): rows leased or claimed but never attempted are enqueued again
  at once; rows in flight (at most about two per sending thread) are looked up with
  their provider where it keeps a record (Twilio's Messages and Calls lists): found →
  ``sent`` with its sid, absent → sent again; an email or a push in flight goes to
  ``review`` with the evidence (when, which Message-ID) for a person, who resends it or
  records it as sent (``resolve_review``).  A provider that cannot be asked is asked at
  each sweep, then after ``ALERTES_STUCK_AFTER`` seconds the row goes to review.
* A lost answer (Twilio's read timeout): the row is retried, ``attempted_at`` kept, and
  the retry looks the message up before posting it again.
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
  the row in ``review`` with its Message-ID (set before ``DATA``), not resent.  Bounces
  arriving later are not read back.
* **sms** (Twilio): ``sent`` means Twilio answered 201 with a message sid; ``delivered``
  / ``failed`` come from Twilio's signed status callback.  At most once: an ambiguous
  outcome is looked up in Twilio's Messages list; ``review`` only when Twilio cannot
  be asked.
* **voice** (Twilio calls, ``channels/voice.py``): ``sent`` means Twilio created the call (201
  with a call sid); ``delivered`` comes from the signed status callback ``completed``
  (a person listened, or a voicemail was left: ``answered_by``), and pressing 1 sets
  ``acknowledged_at``.  Busy or no answer puts the row back in ``queued`` for another
  call after a delay, three calls in all, then ``failed``.  At most once per call
  attempt; a crash after Twilio's 201 goes to ``review`` like the others.
* **push** (Web Push, ``channels/webpush.py``): ``sent`` means the push service accepted the
  encrypted message (201); there is no delivery receipt.  404/410 means the browser
  dropped the subscription: the address is deleted and the row fails.  App tokens go
  through the ``alertes_app_push`` hook with the same outcomes.
* Other channels contributed by other modules get the same outbox guarantee: the rows,
  claims and review are channel-independent.

Pacing: before each send the worker takes a slot of the provider's rate
(``ratelimit.py``: per sender number for SMS, per account for calls); a slot further
than 30 s away sends the row back to ``queued`` for later, without counting an attempt
(and the rest of that sending lane with it).

Throughput (``bench/alertes.py``, which reports the worker's CPU per delivery against
null providers): the provider sessions are kept for the batch (one SMTP session per
sending thread, one kept-alive HTTP connection to Twilio per sending thread, spoken with
``http.client``: urllib3's preparation cost twice the exchange), an email's texts are
rendered once per alert and language, and the URLs reversed once per name and language;
a sending thread takes two rows a turn, so marks and outcomes are written two rows a
statement at least, and the batch's alert is read once, not joined to every row.  What
is left per message is mostly the provider's own protocol.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Iterator
from datetime import datetime, timedelta

from django.db import connection, transaction
from django.db.models import (
    Exists,
    Max,
    Min,
    OuterRef,
    Q,
)
from django.utils import timezone
from django.utils.module_loading import import_string

from ..channels import available_channels, unverified_reachable
from ..models import (
    Address,
    Alert,
    Delivery,
    Subscriber,
    TopicSubscription,
)

logger = logging.getLogger(__name__)

BATCH_SIZE = 500
ENQUEUE_PAGE = 5000
INSERT_BATCH = 2000
DELIVER_TASK = "modules.alertes.tasks.deliver_batch"


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


def quiet_until(now: datetime, start, end) -> datetime | None:
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
        not_before = None if emergency else quiet_until(now, quiet_start, quiet_end)
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
    batched path, an address shared by two subscribers is written once, for the first;
    and so that ids follow subscribers, not channels: each task's batch holds every
    channel of its residents (a resident's text, call and email leave together, the
    providers work side by side, and the first messages out are not all waiting on
    the first email's rendering)."""
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
           f"ORDER BY a.subscriber_id, a.channel, a.value{tail}")
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
    deliver_batch = deliver_task()
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


def _enqueue_ids(ids: list[int], alert_id: int | None = None) -> int:
    """Enqueue rows of an alert just written (``queued`` and ready), in batches, one
    transaction for all the task rows.  With the alert given, a batch travels as the
    range of its ids (``alert_id, first, last``) rather than their list: an
    ``INSERT … SELECT`` numbers its rows from the sequence, so a batch is a short range,
    and a task row of three numbers costs the database backend a fraction of one of
    500 (whose JSON it normalizes, then stores)."""
    deliver_batch = deliver_task()
    ids = sorted(ids)
    with transaction.atomic():
        if alert_id is not None:
            _commit_without_flush()  # a lost task row is found again by the sweep
        for start in range(0, len(ids), BATCH_SIZE):
            batch = ids[start:start + BATCH_SIZE]
            if alert_id is None:
                deliver_batch.enqueue(batch)
            else:
                deliver_batch.enqueue([], alert_id=alert_id, first=batch[0], last=batch[-1])
    return len(ids)


def _in_chunks(alert: Alert) -> bool:
    """An emergency to the current subscribers is built with ``INSERT … SELECT`` chunk
    by chunk, each committed and enqueued before the next (a correction, or an alert
    with quiet hours, is built in one transaction)."""
    return (alert.is_emergency and not alert.references_id
            and connection.vendor in ("postgresql", "sqlite"))


def _commit_without_flush() -> None:
    """PostgreSQL: this transaction's commit does not wait for its WAL to reach the disk
    (for an emergency's outbox, the flushes of its chunks and task rows were a third of
    the build).  Safe for the outbox: a worker's claim and the build's final
    ``audience_size`` are ordinary commits, which flush all the WAL written before them,
    these chunks included; a chunk lost with the database server (not with this
    process) leaves ``audience_size`` at 0 and the sweep writes it again, a task row
    lost so leaves its rows ``queued`` for the sweep."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SET LOCAL synchronous_commit = off")


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
                _commit_without_flush()
                # The chunk's new ids come back from the INSERT (at most a chunk's worth):
                # enqueued as they are, without reading them again.
                new = _insert_outbox(alert, now, subscribers=(start, end), returning=True)
                transaction.on_commit(lambda new=new: _enqueue_ids(new, alert.pk))
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


def refresh_alert_status(alert_id: int) -> None:
    pending = Delivery.objects.filter(alert_id=alert_id, status__in=[
        Delivery.Status.QUEUED, Delivery.Status.SENDING]).exists()
    if not pending:  # audience_size is 0 while the outbox is still being written
        Alert.objects.filter(pk=alert_id, status=Alert.Status.SENDING,
                             audience_size__gt=0).update(status=Alert.Status.SENT)


def deliver_task():
    """The ``deliver_batch`` task of ``tasks.py``, looked up by its dotted path.

    ``tasks`` is the layer above this package: a worker runs a task, the task calls
    ``services.delivery``.  Importing ``tasks`` here, even inside a function, would
    close a circle (services → tasks → services); the queue's worker itself finds the
    task by this same path, so naming it here is the same contract, one way round."""
    return import_string(DELIVER_TASK)
