"""What the providers tell us: Twilio's inbound SMS (the mandatory STOP/HELP keywords,
answered whether or not the sender is subscribed) and its delivery status callbacks.
"""

from __future__ import annotations

import logging

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from hub.text import fold

from .. import sms as sms_length
from ..models import (
    Address,
    Channel,
    ConsentRecord,
    Delivery,
)
from ..phones import normalize_phone
from .subscriptions import record_consent

logger = logging.getLogger(__name__)


STOP_WORDS = {"stop": "en", "unsubscribe": "en", "arret": "fr", "desabonner": "fr"}
HELP_WORDS = {"help": "en", "aide": "fr", "info": None}


def _keyword(body: str) -> str:
    return fold((body or "").strip()).strip(" .!")


def help_text(language: str) -> str:
    from hub.models import SiteSettings

    city_settings = SiteSettings.current()
    city, phone = city_settings.city_name, city_settings.intake_phone
    with translation.override(language):
        text = _("%(city)s alerts: message frequency varies. Help: %(phone)s. "
                 "Reply STOP to unsubscribe.") % {"city": city, "phone": phone}
    return sms_length.gsm7_safe(text)[:160]


def handle_inbound_sms(sender: str, body: str) -> str | None:
    """Answer the mandatory keywords (CWTA): STOP/ARRÊT/… unsubscribe the number, HELP/
    AIDE/INFO describe the service; whether or not the sender is subscribed."""
    word = _keyword(body)
    try:
        number = normalize_phone(sender)
    except ValidationError:
        number = sender
    if word in STOP_WORDS:
        language = STOP_WORDS[word]
        with transaction.atomic():
            for address in Address.objects.filter(channel=Channel.SMS, value=number) \
                    .select_related("subscriber"):
                record_consent(address.subscriber, ConsentRecord.Action.WITHDRAWN,
                               "channel:sms", ConsentRecord.Method.SMS, note=word.upper())
                address.delete()
        with translation.override(language):
            text = _("You are unsubscribed from the city's text message alerts. "
                     "No more messages will be sent.")
        return sms_length.gsm7_safe(text)
    if word in HELP_WORDS:
        language = HELP_WORDS[word]
        if language is None:
            address = Address.objects.filter(channel=Channel.SMS, value=number) \
                .select_related("subscriber").first()
            language = address.subscriber.language if address else "fr"
        return help_text(language)
    return None


def handle_status_callback(message_sid: str, status: str, error_code: str = "") -> int:
    """Twilio's delivery report: ``delivered`` or ``undelivered``/``failed``."""
    now = timezone.now()
    rows = Delivery.objects.filter(provider_id=message_sid, channel=Channel.SMS)
    if status == "delivered":
        return rows.filter(status__in=[Delivery.Status.SENT, Delivery.Status.SENDING]) \
            .update(status=Delivery.Status.DELIVERED, delivered_at=now)
    if status in ("undelivered", "failed"):
        return rows.exclude(status=Delivery.Status.FAILED).update(
            status=Delivery.Status.FAILED, failed_at=now,
            error=f"Twilio {status} {error_code}".strip()[:500])
    return 0
