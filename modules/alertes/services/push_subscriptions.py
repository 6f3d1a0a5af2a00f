"""Push subscriptions: a browser's (``subscribe``; renewed by its service worker,
``replace_subscription``) or an app's device token (``add_device_token``), with the
consent records they give or withdraw; ``forget`` when the push service says one is
gone.  The checks of what the browser hands over and the sending are the push
channel's (``channels.webpush``)."""

from __future__ import annotations

import hmac
import logging

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from ..channels.webpush import APP_PREFIXES, validate_endpoint, validate_keys
from ..models import Address, Channel, ConsentRecord, Delivery

logger = logging.getLogger(__name__)


@transaction.atomic
def subscribe(subscriber, endpoint: str, keys, *, actor=None, method: str = "web") -> Address:
    """Store this browser's push subscription for ``subscriber``.  A browser belongs to
    whoever subscribed it last: the same endpoint under another subscriber (another
    account signed in on the same computer) is removed, so their alerts stop here."""
    endpoint = validate_endpoint(endpoint)
    keys = validate_keys(keys)
    for other in Address.objects.filter(channel=Channel.PUSH, value=endpoint).exclude(
            subscriber=subscriber).select_related("subscriber"):
        _withdraw(other, method, actor, "browser subscribed by another account")
    address, created = Address.objects.get_or_create(
        subscriber=subscriber, channel=Channel.PUSH, value=endpoint,
        defaults={"push_keys": keys, "verified_at": timezone.now()})
    if not created:
        address.push_keys, address.failing, address.failing_reason = keys, False, ""
        address.verified_at = address.verified_at or timezone.now()
        address.save(update_fields=["push_keys", "failing", "failing_reason", "verified_at"])
    else:
        ConsentRecord.objects.create(subscriber=subscriber, action=ConsentRecord.Action.GIVEN,
                                     scope="channel:push", method=method, actor=actor)
    return address


@transaction.atomic
def add_device_token(subscriber, token: str, *, actor=None, method: str = "api") -> Address:
    """An app's device token (``fcm:…`` or ``apns:…``), sent through ``alertes_app_push``."""
    token = (token or "").strip()
    prefix = token.split(":", 1)[0] + ":" if ":" in token else ""
    if prefix not in APP_PREFIXES or not (8 <= len(token) - len(prefix) <= 400) \
            or any(c.isspace() for c in token):
        raise ValidationError(_("Give a device token starting with fcm: or apns:."),
                              code="token")
    address, created = Address.objects.get_or_create(
        subscriber=subscriber, channel=Channel.PUSH, value=token,
        defaults={"verified_at": timezone.now()})
    if created:
        ConsentRecord.objects.create(subscriber=subscriber, action=ConsentRecord.Action.GIVEN,
                                     scope="channel:push", method=method, actor=actor)
    return address


def _withdraw(address: Address, method: str, actor, note: str) -> None:
    ConsentRecord.objects.create(subscriber=address.subscriber,
                                 action=ConsentRecord.Action.WITHDRAWN, scope="channel:push",
                                 method=method, actor=actor, note=note[:255])
    address.delete()


def forget(value: str, reason: str) -> int:
    """The push service or app service says this subscription no longer exists: delete
    every address with it (no consent record: the person did not withdraw)."""
    deleted, _rows = Address.objects.filter(channel=Channel.PUSH, value=value).delete()
    if deleted:
        logger.info("Push subscription removed: %s", reason)
    return deleted


def keys_match(address: Address, keys: dict) -> bool:
    """``keys`` (normalised by ``validate_keys``) are this address's ``p256dh`` and
    ``auth``, compared in constant time: the 16-byte ``auth`` secret, which only the
    browser and this server know, is what proves the browser owns the subscription."""
    stored = address.push_keys or {}
    return all(isinstance(stored.get(name), str)
               and hmac.compare_digest(stored[name].encode(), keys[name].encode())
               for name in ("p256dh", "auth"))


@transaction.atomic
def replace_subscription(old_endpoint, old_keys, new_endpoint, new_keys) -> Address:
    """The browser renewed its push subscription (the service worker's
    ``pushsubscriptionchange``): the stored address with ``old_endpoint`` *and* its keys
    gets ``new_endpoint`` and ``new_keys``, failing or not, and stays its subscriber's.

    No session is needed (a service worker's request may have none): knowing the old
    subscription's ``auth`` secret is the authorisation.  Refused (``ValidationError``,
    nothing changed): an unknown old subscription or keys that do not match (one
    message for both, so nobody learns which endpoints exist), an invalid new endpoint or
    keys, a new endpoint already stored for another subscriber.  Deliveries still queued
    for the old endpoint follow it."""
    if not isinstance(old_endpoint, str) or not old_endpoint or len(old_endpoint) > 500:
        raise ValidationError(_("Give the previous subscription's endpoint."), code="old")
    try:
        old_keys = validate_keys(old_keys)
    except ValidationError:
        raise ValidationError(_("The previous subscription's keys are invalid."),
                              code="old") from None
    new_endpoint = validate_endpoint(new_endpoint)
    new_keys = validate_keys(new_keys)
    unknown = ValidationError(_("This push subscription is not known here: turn "
                                "notifications on again from the subscription page."),
                              code="old")
    candidates = list(Address.objects.select_for_update().filter(
        channel=Channel.PUSH, value=old_endpoint.strip()).order_by("pk"))
    owned = [address for address in candidates if keys_match(address, old_keys)]
    if not owned:
        raise unknown
    address = owned[0]
    if Address.objects.filter(channel=Channel.PUSH, value=new_endpoint).exclude(
            subscriber_id=address.subscriber_id).exists():
        raise ValidationError(_("This new subscription belongs to someone else."),
                              code="taken")
    existing = (Address.objects.select_for_update().filter(
        subscriber_id=address.subscriber_id, channel=Channel.PUSH, value=new_endpoint)
        .exclude(pk=address.pk).first())
    queued = Delivery.objects.filter(channel=Channel.PUSH, address=address.value,
                                     status=Delivery.Status.QUEUED)
    if address.value != new_endpoint:
        # Not for an alert (or notice) that already has a row for the new endpoint (one
        # per address); NULLs left out of the lists, or ``NOT IN`` would match nothing.
        taken = Delivery.objects.filter(channel=Channel.PUSH, address=new_endpoint)
        queued.exclude(alert_id__in=taken.filter(alert__isnull=False).values("alert_id")) \
            .exclude(notice_id__in=taken.filter(notice__isnull=False).values("notice_id")) \
            .update(address=new_endpoint)
    if existing is not None:  # renewed twice, or subscribed again from the page meanwhile
        address.delete()
        address = existing
    address.value, address.push_keys = new_endpoint, new_keys
    address.failing, address.failing_reason = False, ""
    address.verified_at = address.verified_at or timezone.now()
    address.save(update_fields=["value", "push_keys", "failing", "failing_reason",
                                "verified_at"])
    logger.info("Push subscription renewed for address %s", address.pk)
    return address
