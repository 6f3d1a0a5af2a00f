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
