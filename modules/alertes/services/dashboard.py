"""The Mon Espace panel of `alertes`: a citizen's subscription (topics, channels) and the
messages they received, read in two queries and never cached, so a change of topics, a
confirmed number or a message just sent shows on the next page."""

from __future__ import annotations

from django.db import models

from hub.prepared import PreparedQuery, Slot

from ..channels import available_channels
from ..models import Address, Delivery, Subscriber, Topic

RECEIVED_LIMIT = 20
# What the panel shows of a message received (``alertes/panel.html``), nothing more.
RECEIVED_FIELDS = ("alert_id", "notice_id", "channel", "status", "queued_at", "sent_at",
                   "not_before", "attempts", "error", "alert__title_fr", "alert__title_en",
                   "notice__subject", "notice__url")

# Both queries compiled once per process (hub.prepared): Mon Espace runs them on every
# visit, and compiling them cost more than running them.
_SUBSCRIPTION_ROWS = PreparedQuery(lambda: Subscriber.objects.filter(
    user_id=Slot("user", models.IntegerField())).values(
    "pk", "active", "topics__pk", "topics__slug", "topics__order", "topics__name_fr",
    "topics__name_en", "addresses__pk", "addresses__channel", "addresses__verified_at"))
_RECEIVED = PreparedQuery(lambda: Delivery.objects.filter(
    subscriber_id=Slot("subscriber", models.IntegerField()))
    .select_related("alert", "notice").only(*RECEIVED_FIELDS)
    .order_by("-queued_at", "-pk")[:RECEIVED_LIMIT])


def panel_context(user) -> dict:
    """``subscriber`` (``None`` before the citizen ever subscribed; only ``active`` is
    read), ``topics`` and ``addresses`` (in their usual order; each with its
    ``channel_name`` and ``to_confirm``) and ``received`` (each with its
    ``channel_name``).

    The subscriber, its topics and its addresses come in one query (the two joins give
    one row per topic and address pair: a handful), the deliveries in one more."""
    rows = _SUBSCRIPTION_ROWS.fetch(user=user.pk)
    if not rows:
        return {"subscriber": None, "topics": [], "addresses": [], "received": []}
    first = rows[0]
    subscriber = Subscriber(pk=first["pk"], user=user, active=first["active"])
    topics, addresses = {}, {}
    for row in rows:
        if row["topics__pk"] is not None and row["topics__pk"] not in topics:
            topics[row["topics__pk"]] = Topic(
                pk=row["topics__pk"], slug=row["topics__slug"], order=row["topics__order"],
                name_fr=row["topics__name_fr"], name_en=row["topics__name_en"])
        if row["addresses__pk"] is not None and row["addresses__pk"] not in addresses:
            addresses[row["addresses__pk"]] = Address(
                pk=row["addresses__pk"], subscriber=subscriber,
                channel=row["addresses__channel"], verified_at=row["addresses__verified_at"])
    # The registered channels, read once for the whole panel rather than once for each
    # address and message (``channel_label`` and ``reached_unconfirmed`` each ask every
    # module): the same rules, in the same words.
    channels = available_channels()
    ordered = sorted(addresses.values(), key=lambda address: address.pk)
    for address in ordered:
        address.channel_name = _label(channels, address.channel)
        channel = channels.get(address.channel)
        needs = channel is None or bool(getattr(channel, "needs_verification", False))
        address.to_confirm = not address.verified and needs
    messages = received(subscriber.pk)
    for delivery in messages:
        delivery.channel_name = _label(channels, delivery.channel)
    return {
        "subscriber": subscriber,
        "topics": sorted(topics.values(), key=lambda topic: (topic.order, topic.slug)),
        "addresses": ordered,
        "received": messages,
    }


def _label(channels: dict, code: str) -> str:
    """``channels.channel_label``'s rule: the label, or the bare code of a channel no
    longer installed."""
    channel = channels.get(code)
    return str(channel.label) if channel is not None else code


def received(subscriber_id: int) -> list[Delivery]:
    """``services.received`` (alerts and personal notices, newest first, each row one
    channel with its state) for a subscriber already known, only the columns shown."""
    return _RECEIVED.fetch(subscriber=subscriber_id)
