"""A citizen's data (DESIGN.md: export and erasure of everything the module holds about
a person): subscriptions, addresses, consent history, deliveries and personal notices.
"""

from __future__ import annotations

import logging

from django.db.models import (
    CharField,
    Value,
)
from django.db.models.functions import Cast, Concat

from ..models import (
    ConsentRecord,
)
from .subscriptions import record_consent, subscriber_for

logger = logging.getLogger(__name__)


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
