"""A citizen's data (DESIGN.md: export and erasure of everything the module holds about
a person): subscriptions, addresses, consent history, deliveries, personal notices and
the messages of the sandbox's test box.
"""

from __future__ import annotations

import logging

from django.db.models import (
    CharField,
    Q,
    Value,
)
from django.db.models.functions import Cast, Concat

from ..models import (
    ConsentRecord,
    SandboxMessage,
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
        "test_box": [{"channel": m.channel, "to": m.address, "kind": m.kind,
                      "title": m.title, "text": m.body, "link": m.url,
                      "voice_language": m.say_language,
                      "when": m.created_at.isoformat()}
                     for m in sandbox_messages(subscriber).order_by("created_at", "pk")],
    }


def sandbox_messages(subscriber):
    """The test box's messages of a subscriber (``channels.sandbox``): those of its
    deliveries, and those sent to one of its addresses on the same channel (a phone
    verification code has no delivery)."""
    mine = Q(subscriber=subscriber)
    for channel, value in subscriber.addresses.values_list("channel", "value"):
        mine |= Q(channel=channel, address=value)
    return SandboxMessage.objects.filter(mine)


def erase_user(user) -> None:
    """Test box messages deleted, addresses removed, delivery rows anonymised, consent
    history kept without the link to the person (the city must be able to prove consent
    was withdrawn); personal notices anonymised the same way (``notices.erase``)."""
    from .. import notices

    notices.erase(user)
    subscriber = subscriber_for(user, create=False)
    if subscriber is None:
        return
    sandbox_messages(subscriber).delete()  # test box copies of the messages sent
    subscriber.deliveries.update(
        address=Concat(Value("erased:"), Cast("pk", output_field=CharField())),
        subscriber=None)
    record_consent(subscriber, ConsentRecord.Action.WITHDRAWN, "all",
                   ConsentRecord.Method.ERASURE)
    subscriber.consents.update(subscriber=None, actor=None)
    subscriber.delete()
