"""What citizens see: the alerts in force (the public page and the emergency banner) and
the messages a citizen received (Mon Espace).  The views and the hub's hooks
(``plugin.py``) read them here, so a page and a banner cannot disagree."""

from __future__ import annotations

from ..models import Alert, Delivery
from .subscriptions import subscriber_for

ACTIVE_LIMIT = 50


def active_alerts(limit: int = ACTIVE_LIMIT) -> list[Alert]:
    """The alerts in force (``Alert.objects.active()``), newest first."""
    return list(Alert.objects.active().prefetch_related("topics", "districts")[:limit])


def emergencies_in_force() -> list[Alert]:
    """The emergencies among the alerts in force: the hub's banner."""
    return [alert for alert in active_alerts() if alert.is_emergency]


def received(user, limit: int = 20) -> list[Delivery]:
    """The messages a citizen received, alerts and personal notices: what, channel,
    time, status and a failure's reason (Mon Espace)."""
    subscriber = subscriber_for(user, create=False)
    if subscriber is None:
        return []
    # Alerts and personal notices alike, each row one channel with its own state; the
    # alert or notice comes in the same query.
    return list(Delivery.objects.filter(subscriber=subscriber)
                .select_related("alert", "notice").order_by("-queued_at", "-pk")[:limit])


MESSAGES_LIMIT = 100


def messages_received(user, limit: int = MESSAGES_LIMIT) -> list[dict]:
    """The "messages reçus" page: what the city sent this citizen on every channel,
    newest first — each delivery (alert or personal notice, with its channel and
    state) and, for what went to the sandbox's test box (no provider configured), the
    message exactly as recorded, phone verification codes included.  Only the
    citizen's own subscriber and addresses (``privacy.sandbox_messages``)."""
    from .privacy import sandbox_messages

    subscriber = subscriber_for(user, create=False)
    if subscriber is None:
        return []
    entries = []
    recorded = list(sandbox_messages(subscriber).select_related(
        "delivery__alert", "delivery__notice").order_by("-created_at", "-pk")[:limit])
    boxed = {m.delivery_id for m in recorded if m.delivery_id}
    for message in recorded:
        delivery = message.delivery
        entries.append({"when": message.created_at, "channel": message.channel,
                        "test_box": True, "message": message, "delivery": delivery,
                        "alert": delivery.alert if delivery else None,
                        "notice": delivery.notice if delivery else None})
    deliveries = (Delivery.objects.filter(subscriber=subscriber)
                  .exclude(pk__in=boxed).exclude(provider_id__startswith="sandbox:")
                  .select_related("alert", "notice").order_by("-queued_at", "-pk")[:limit])
    for delivery in deliveries:
        entries.append({"when": delivery.sent_at or delivery.queued_at,
                        "channel": delivery.channel, "test_box": False, "message": None,
                        "delivery": delivery, "alert": delivery.alert,
                        "notice": delivery.notice})
    entries.sort(key=lambda e: e["when"], reverse=True)
    return entries[:limit]
