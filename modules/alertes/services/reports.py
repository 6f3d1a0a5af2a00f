"""What the city reads back: an alert's delivery report (two aggregate queries whatever
the audience) and its CSV, subscriber counts per topic, zone and channel, and the
subscriber search of the admin.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator

from django.db.models import (
    Count,
    Max,
    Min,
    Q,
)
from django.utils import timezone
from django.utils.translation import gettext as _

from ..models import (
    Address,
    Alert,
    Delivery,
    Subscriber,
    Topic,
)

logger = logging.getLogger(__name__)


def report(alert: Alert) -> dict:
    """The alert's report, aggregated in SQL (two queries whatever the audience): per
    channel the count in each status and of voice confirmations, first and last hand-over
    to a provider and delivery confirmation (and their delay after "send"), the failure
    reasons with their counts and the first failed or to-check rows; ``sandbox``: the
    rows sent to the test box (``channels.sandbox``), per channel and in all."""
    statuses = Delivery.Status.values
    rows = (Delivery.objects.filter(alert=alert).values("channel")
            .annotate(**{f"n_{code}": Count("pk", filter=Q(status=code)) for code in statuses},
                      confirmed=Count("pk", filter=Q(acknowledged_at__isnull=False)),
                      # Sent to the sandbox's test box (no provider): not to a phone.
                      sandbox=Count("pk", filter=Q(provider_id__startswith="sandbox:")),
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
            "confirmed": row["confirmed"], "sandbox": row["sandbox"],
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
    # A row to check shows its evidence: the reason (what is known of the attempt), the
    # reference chosen before the send (an email's Message-ID) and when it was tried.
    failures = list(failed.values("pk", "channel", "status", "error", "attempts",
                                  "provider_id", "attempted_at").order_by("pk")[:200])
    sent = [c[k] for c in channels for k in ("first_sent", "last_sent") if c[k]]
    return {"per_channel": per_channel, "channels": channels,
            "total": sum(c["total"] for c in channels),
            "confirmed": sum(c["confirmed"] for c in channels),
            "sandbox": sum(c["sandbox"] for c in channels),
            "audience": alert.audience_size,
            "first_sent": min(sent) if sent else None, "last_sent": max(sent) if sent else None,
            "reasons": reasons, "failures": failures}


def report_columns() -> list[str]:
    """The CSV's header, in the active language: the file is read by city staff in a
    spreadsheet, so it names things as the report page does (a status's label, never its
    code)."""
    return [_("Channel"), _("Deliveries"),
            *(str(label) for label in Delivery.Status.labels), _("Calls confirmed"),
            _("First hand-over"), _("Last hand-over"),
            _("Seconds to first hand-over"), _("Seconds to last hand-over"),
            _("First delivery confirmed"), _("Last delivery confirmed"),
            _("Seconds to first delivery confirmed"), _("Seconds to last delivery confirmed")]


def report_rows(alert: Alert) -> Iterator[list]:
    """The report as CSV rows in the active language: a header, one line per channel, a
    total line, then the failure reasons (described as on the report page, with the
    provider's own words beside them).  Text cells that a spreadsheet would run as a
    formula are neutralised."""
    from ..channels import channel_label
    from .status import describe_error, status_label

    data = report(alert)

    def when(value):
        return timezone.localtime(value).isoformat() if value else ""

    def secs(value):
        return "" if value is None else f"{value:.1f}"

    yield report_columns()
    for c in data["channels"]:
        yield [channel_label(c["channel"]), c["total"],
               *(c["counts"][code] for code in Delivery.Status.values),
               c["confirmed"], when(c["first_sent"]), when(c["last_sent"]),
               secs(c["to_first_sent"]), secs(c["to_last_sent"]),
               when(c["first_delivered"]), when(c["last_delivered"]),
               secs(c["to_first_delivered"]), secs(c["to_last_delivered"])]
    totals = {code: sum(c["counts"][code] for c in data["channels"])
              for code in Delivery.Status.values}
    yield [_("Total"), data["total"], *totals.values(), data["confirmed"],
           when(data["first_sent"]), when(data["last_sent"]), "", "", "", "", "", ""]
    if data["reasons"]:
        yield []
        yield [_("Channel"), _("Status"), _("Reason"), _("Provider's answer"), _("Count")]
        for reason in data["reasons"]:
            yield [channel_label(reason["channel"]), status_label(reason["status"]),
                   csv_safe(describe_error(reason["error"])), csv_safe(reason["error"]),
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
