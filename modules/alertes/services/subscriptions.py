"""Subscribers and their consent (DESIGN.md: every topic or channel given or withdrawn
is a ``ConsentRecord``, because the city must be able to prove who agreed to what, and
when): a citizen's subscriber, their preferences and zone, leaving in one step.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from .. import tokens
from ..models import (
    ConsentRecord,
    Subscriber,
    Topic,
    TopicSubscription,
)

logger = logging.getLogger(__name__)


def subscriber_for(user, *, create: bool = True) -> Subscriber | None:
    """The subscriber of a signed-in citizen (created on first use)."""
    try:
        return user.alert_subscriber
    except Subscriber.DoesNotExist:
        if not create:
            return None
    language = getattr(user, "preferred_language", "fr")
    return Subscriber.objects.create(user=user, language=language if language in ("fr", "en")
                                     else "fr")


def record_consent(subscriber, action: str, scope: str, method: str, actor=None,
                   note: str = "") -> ConsentRecord:
    return ConsentRecord.objects.create(subscriber=subscriber, action=action, scope=scope[:120],
                                        method=method, actor=actor, note=note[:255])


def emergency_topics():
    return Topic.objects.filter(is_emergency=True)


def place_resident(civic_address: str = "", point=None):
    """Where a resident lives, from the civic address register (``hub.addresses``):
    ``(address as stored, district)``.  A point ``(latitude, longitude)`` wins over the
    address; an address not in the register (or in no district) is a ``ValidationError``
    on ``civic_address``, unless the city has loaded no register yet (the typed text is
    kept, no district)."""
    from hub import addresses
    from hub.models import CivicAddress

    civic_address = " ".join((civic_address or "").split())[:255]
    if point is not None:
        district = addresses.district_for_point(*point)
        if district is None:
            raise ValidationError({"latitude": _(
                "This point is in none of the city's districts: place it where you live, "
                "in the city.")})
        return civic_address, district
    if not civic_address:
        return "", None
    found = addresses.geocode(civic_address)
    if found is None:
        if not CivicAddress.objects.exists():
            return civic_address, None
        raise ValidationError({"civic_address": _(
            "This address is not in the city's address register. Check the civic number "
            "and the street (for example: 41 rue Victoria), or place a point on the map.")})
    if found.district_id is None:
        raise ValidationError({"civic_address": _(
            "This address is in none of the city's districts.")})
    return found.label, found.district


@transaction.atomic
def update_preferences(subscriber: Subscriber, *, topics: Iterable[Topic], language: str,
                       district=None, quiet_start=None, quiet_end=None, method: str = "web",
                       actor=None, civic_address: str | None = None,
                       point: tuple[float, float] | None = None) -> Subscriber:
    """Set the topics (emergency topics are always kept), language, zone and quiet
    hours; every topic added or removed is a consent record.  With ``civic_address``
    (or a map ``point``), the zone is the district of that address in the civic address
    register (``place_resident``) unless ``district`` is given (staff override); an
    address not found is an error and nothing changes.  ``civic_address=None`` leaves the
    stored address alone."""
    if language not in ("fr", "en"):
        raise ValidationError({"language": _("Choose French or English.")})
    if (quiet_start is None) != (quiet_end is None):
        raise ValidationError({"quiet_end": _("Give both the start and the end of the "
                                              "quiet hours, or neither.")})
    if civic_address is not None or point is not None:
        stored, placed = place_resident(civic_address or "", point)
        if civic_address is not None:
            subscriber.civic_address = stored
        if district is None:
            district = placed
    wanted = {t.pk: t for t in topics} | {t.pk: t for t in emergency_topics()}
    current = set(TopicSubscription.objects.filter(subscriber=subscriber)
                  .values_list("topic_id", flat=True))
    for topic_id in set(wanted) - current:
        TopicSubscription.objects.create(subscriber=subscriber, topic_id=topic_id)
        record_consent(subscriber, ConsentRecord.Action.GIVEN, f"topic:{wanted[topic_id].slug}",
                       method, actor)
    removed = current - set(wanted)
    for topic in Topic.objects.filter(pk__in=removed):
        record_consent(subscriber, ConsentRecord.Action.WITHDRAWN, f"topic:{topic.slug}",
                       method, actor)
    TopicSubscription.objects.filter(subscriber=subscriber, topic_id__in=removed).delete()
    if not subscriber.active:
        record_consent(subscriber, ConsentRecord.Action.GIVEN, "all", method, actor)
    subscriber.active = True
    subscriber.language = language
    subscriber.district = district
    subscriber.quiet_start, subscriber.quiet_end = quiet_start, quiet_end
    subscriber.save()
    return subscriber


@transaction.atomic
def leave(subscriber: Subscriber, method: str, actor=None, note: str = "") -> None:
    """Leave the service in one step: nothing more is sent to this subscriber."""
    if subscriber.active:
        subscriber.active = False
        subscriber.save(update_fields=["active"])
    record_consent(subscriber, ConsentRecord.Action.WITHDRAWN, "all", method, actor, note)


def unsubscribe_with_token(token: str) -> Subscriber:
    """One-click unsubscribe from an email link (RFC 8058).  Raises ``tokens.BadToken``."""
    subscriber_id = tokens.read_unsubscribe_token(token)
    subscriber = Subscriber.objects.filter(pk=subscriber_id).first()
    if subscriber is None:
        raise tokens.BadToken("unknown subscriber")
    leave(subscriber, ConsentRecord.Method.EMAIL_LINK)
    return subscriber
