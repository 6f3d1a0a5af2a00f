"""alertes' delivery channels, one transport per file (``email``, ``twilio_sms``,
``voice``, ``webpush``; Twilio's REST client and signature in ``twilio``), declared
through alertes' ``alertes_channels`` hook, and the contract with the registry that
collects every enabled module's channels (``contract``).

Channels are transports only: the subscription side (addresses, confirmations, push
subscriptions, call outcomes) is in ``services``.  This package re-exports the names
its callers use, so ``from .channels import available_channels`` keeps working.
"""

from .contract import (
    CODE_MAX_LENGTH,
    AddressGone,
    DeliveryError,
    Throttle,
    available_channels,
    channel_choices,
    channel_label,
    needs_verification,
    setting,
    unverified_reachable,
)
from .email import EmailChannel
from .links import unsubscribe_url, url
from .twilio import TWILIO_BAD_NUMBER, twilio_post, twilio_signature
from .twilio_sms import TwilioSMSChannel, notice_sms

__all__ = ["CODE_MAX_LENGTH", "TWILIO_BAD_NUMBER", "AddressGone", "DeliveryError",
           "EmailChannel", "Throttle", "TwilioSMSChannel", "available_channels",
           "channel_choices", "channel_label", "needs_verification",
           "notice_sms", "setting", "twilio_post", "twilio_signature", "unsubscribe_url",
           "unverified_reachable", "url"]
