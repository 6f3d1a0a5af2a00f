"""The channel contract and the registry of channels.

A channel (``code``, ``label``, ``send(delivery) -> provider id``, ``normalize_address``,
``needs_verification``, ``concurrent``, ``batch()``, ``throttle(delivery)``) and its error
type :class:`DeliveryError` are documented in ``hookspecs.py``, the module a third-party
channel may import; they are re-exported here with :class:`Throttle`.  ``send`` raises
:class:`DeliveryError` with ``transient=True`` for errors worth retrying (HTTP 429/5xx,
timeouts, SMTP 4xx) and ``transient=False`` otherwise (invalid number, hard bounce),
``address_failing=True`` when the address itself is bad, and :class:`AddressGone` when
the provider says the address no longer exists (the worker deletes it).  A channel's
``throttle(delivery)`` returns the ``Throttle`` (bucket and rate) the worker waits on
before ``send``; without it the bucket is the channel's code at
``ALERTES_RATE_LIMITS[code]`` (unlimited by default).

Channels are transports only: they read settings and the message, speak their
provider's protocol and report what happened; subscribing, confirming, forgetting an
address are the services' (``services.addresses``, ``services.push_subscriptions``).
"""

from __future__ import annotations

import logging

from django.conf import settings

from ..hookspecs import DeliveryError, Throttle

__all__ = ["CODE_MAX_LENGTH", "AddressGone", "DeliveryError", "Throttle",
           "available_channels", "channel_choices", "channel_label", "needs_verification",
           "setting", "unverified_reachable"]

logger = logging.getLogger(__name__)


def setting(name: str, default=None):
    return getattr(settings, name, default)


class AddressGone(DeliveryError):
    """The provider says this address no longer exists (an app token unregistered): the
    row fails and the worker deletes the address, without a consent record since the
    person withdrew nothing."""

    def __init__(self, message: str):
        super().__init__(message, transient=False, address_failing=True)


CODE_MAX_LENGTH = 10  # Address.channel and Delivery.channel are 10 characters


def _valid(channel, module: str) -> bool:
    code = getattr(channel, "code", None)
    if not isinstance(code, str) or not code or len(code) > CODE_MAX_LENGTH:
        logger.warning("Channel %r of module %s ignored: its code must be a string of 1 to "
                       "%d characters", channel, module, CODE_MAX_LENGTH)
        return False
    if not callable(getattr(channel, "send", None)) or not getattr(channel, "label", None):
        logger.warning("Channel %r of module %s ignored: it needs a label and send(delivery)",
                       code, module)
        return False
    return True


def available_channels() -> dict:
    """Every channel the enabled modules declare through ``alertes_channels``, by code,
    in module order (``hub_module()["order"]``; alertes' own is 20).  A code declared
    twice keeps the first module's channel, and the other is logged; an object without
    a usable code, label or ``send`` is logged and left out."""
    from hub.plugins.manager import hooks, ordered_hookimpls

    caller = getattr(hooks(), "alertes_channels", None)
    if caller is None:  # alertes' hookspecs not added (cannot happen while it is enabled)
        return {}
    found: dict = {}
    owners: dict[str, str] = {}
    for impl in ordered_hookimpls(caller):
        for channel in impl.function() or []:
            if not _valid(channel, impl.plugin_name):
                continue
            if channel.code in found:
                logger.warning("Channel %r of module %s ignored: module %s already declares "
                               "it", channel.code, impl.plugin_name, owners[channel.code])
                continue
            found[channel.code] = channel
            owners[channel.code] = impl.plugin_name
    return found


def channel_label(code: str) -> str:
    """The label of a registered channel, or the bare code of one no longer installed
    (its old addresses and deliveries still show)."""
    channel = available_channels().get(code)
    return str(channel.label) if channel is not None else code


def channel_choices(*, addable: bool = False) -> list[tuple[str, str]]:
    """``[(code, label)]`` of the registered channels, for forms and serializers;
    ``addable`` keeps those a resident can type an address for (``normalize_address``)."""
    return [(code, channel.label) for code, channel in available_channels().items()
            if not addable or callable(getattr(channel, "normalize_address", None))]


def needs_verification(code: str) -> bool:
    """Whether an address on this channel must be confirmed before it is reached (an
    unknown channel is never reached: it counts as needing it)."""
    channel = available_channels().get(code)
    return channel is None or bool(getattr(channel, "needs_verification", False))


def unverified_reachable(channels: dict | None = None) -> list[str]:
    """Codes of the channels whose addresses are reached without a confirmation."""
    channels = available_channels() if channels is None else channels
    return [code for code, channel in channels.items()
            if not getattr(channel, "needs_verification", False)]
