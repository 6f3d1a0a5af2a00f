"""Push notifications: browsers through Web Push (RFC 8030) with VAPID (RFC 8292) and
``aes128gcm`` payload encryption (RFC 8291), apps through the ``alertes_app_push`` hook.

A browser subscription is an ``Address(channel="push")`` whose value is the push
service's endpoint URL and whose ``push_keys`` hold the browser's ``p256dh`` and ``auth``
keys.  An app device token is an address ``fcm:<token>`` or ``apns:<token>``: the
module does not speak FCM or APNs itself; a plugin implementing ``alertes_app_push``
does (see ``hookspecs``), and without one such deliveries fail saying so.

Web Push answers: 201 → ``sent`` (the push service took it; no delivery receipt exists);
404/410 → the subscription is gone: the delivery failed and the address is marked failing
(no alert tries it again; it is kept so that the service worker's
``pushsubscriptionchange`` can replace it, see ``services.push_subscriptions``);
429/5xx/network errors → retried by the outbox; 403 → the subscription was made for
another VAPID key (the address is marked failing).

This module is the transport and the checks of what a browser hands over; storing,
renewing and forgetting subscriptions is ``services.push_subscriptions``.

Settings: ``ALERTES_VAPID_PRIVATE_KEY``, ``ALERTES_VAPID_PUBLIC_KEY`` (``manage.py
alertes vapid`` makes a pair), ``ALERTES_VAPID_SUBJECT`` (``mailto:`` or ``https:``),
``ALERTES_PUSH_TTL`` (seconds a push service keeps an undelivered message, default a
day, never past the alert's expiry), ``ALERTES_PUSH_SERVICE_HOSTS`` (push services
accepted at subscription time; empty: any HTTPS host), ``ALERTES_PUSH_ALLOW_LOOPBACK``
(``http://127.0.0.1`` endpoints, for development and tests; default ``DEBUG``).
"""

from __future__ import annotations

import base64
import binascii
import ipaddress
import json
from urllib.parse import urlsplit

from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from .. import tokens
from ..models import Address, Channel, Delivery
from .contract import AddressGone, DeliveryError, setting

APP_PREFIXES = ("fcm:", "apns:")
DEFAULT_PUSH_HOSTS = (
    "fcm.googleapis.com",                 # Chrome, Edge on Android, Opera
    "updates.push.services.mozilla.com",  # Firefox
    ".notify.windows.com",                # Edge on Windows
    ".push.apple.com",                    # Safari
)


def b64url_decode(value: str) -> bytes:
    value = (value or "").strip()
    return base64.urlsafe_b64decode(value + "=" * (-len(value) % 4))


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def generate_vapid_keys() -> tuple[str, str]:
    """A new VAPID key pair: the private key as its raw 32 bytes and the public key as
    an uncompressed P-256 point (what browsers take as ``applicationServerKey``), both
    base64url without padding."""
    key = ec.generate_private_key(ec.SECP256R1())
    private = key.private_numbers().private_value.to_bytes(32, "big")
    public = key.public_key().public_bytes(Encoding.X962, PublicFormat.UncompressedPoint)
    return b64url(private), b64url(public)


def public_key() -> str:
    return setting("ALERTES_VAPID_PUBLIC_KEY", "") or ""


def configured() -> bool:
    return bool(setting("ALERTES_VAPID_PRIVATE_KEY") and public_key()
                and setting("ALERTES_VAPID_SUBJECT"))


# --- what a browser hands over ------------------------------------------------------------

def allow_loopback() -> bool:
    return bool(setting("ALERTES_PUSH_ALLOW_LOOPBACK", settings.DEBUG))


def validate_endpoint(endpoint: str) -> str:
    """An HTTPS URL of a known push service (``http://127.0.0.1`` only when allowed):
    the server will POST to it, so it must not point anywhere else."""
    endpoint = (endpoint or "").strip()
    invalid = ValidationError(_("This push subscription has an invalid endpoint."),
                              code="endpoint")
    if not endpoint or len(endpoint) > 500:
        raise invalid
    try:
        parts = urlsplit(endpoint)
        port = parts.port
    except ValueError:
        raise invalid from None
    host = (parts.hostname or "").lower()
    if parts.username or parts.password or not host:
        raise invalid
    if parts.scheme == "http" and host == "127.0.0.1" and allow_loopback():
        return endpoint
    if parts.scheme != "https" or port not in (None, 443):
        raise invalid
    try:
        ipaddress.ip_address(host)
    except ValueError:
        pass
    else:
        raise invalid  # push services have names; a bare IP is someone else's server
    hosts = setting("ALERTES_PUSH_SERVICE_HOSTS", DEFAULT_PUSH_HOSTS)
    if hosts and not any(host == h or (h.startswith(".") and host.endswith(h))
                         for h in hosts):
        raise invalid
    return endpoint


def validate_keys(keys) -> dict:
    """``p256dh``: an uncompressed P-256 public key (65 bytes); ``auth``: 16 bytes;
    both base64url, as ``PushSubscription.toJSON()`` gives them."""
    invalid = ValidationError(_("This push subscription has invalid keys."), code="keys")
    if not isinstance(keys, dict):
        raise invalid
    p256dh, auth = keys.get("p256dh"), keys.get("auth")
    if not isinstance(p256dh, str) or not isinstance(auth, str) or len(p256dh) > 100 \
            or len(auth) > 40:
        raise invalid
    try:
        point, secret = b64url_decode(p256dh), b64url_decode(auth)
        ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), point)
    except (ValueError, binascii.Error):
        raise invalid from None
    if len(point) != 65 or point[0] != 4 or len(secret) != 16:
        raise invalid
    return {"p256dh": b64url(point), "auth": b64url(secret)}


# --- the message ---------------------------------------------------------------------------

def notice_payload(delivery: Delivery) -> dict:
    """A personal notice (``hub_notify``): title = its subject, text = its short text,
    link = the page it is about (else the person's notice preferences); ``alert`` is
    ``None`` and ``notice`` its id, so an app push service can tell them apart."""
    notice, language = delivery.notice, delivery.language
    return {
        "title": notice.subject[:200], "body": notice.push()[:240],
        "url": notice.url or tokens.absolute("alertes:subscription", language),
        "tag": f"avis-{notice.pk}",
        "severity": "urgent" if notice.urgency == "urgent" else "normal",
        "lang": language, "alert": None, "notice": notice.pk,
    }


def payload(delivery: Delivery) -> dict:
    """What the service worker (or the app) shows: title, text, link, severity."""
    if delivery.notice_id:
        return notice_payload(delivery)
    alert, language = delivery.alert, delivery.language
    data = {
        "title": alert.title(language), "body": alert.push(language),
        "url": tokens.absolute("alertes:detail", language, pk=alert.pk),
        "tag": f"alerte-{alert.references_id or alert.pk}",
        "severity": alert.severity, "lang": language, "alert": alert.pk,
    }
    return data  # title ≤ 200 and text ≤ 240 characters: well under 4 KB encrypted


def ttl(delivery: Delivery) -> int:
    """Seconds a push service keeps the message for an offline device: at most a day
    (``ALERTES_PUSH_TTL``) and never past the alert's expiry."""
    seconds = int(setting("ALERTES_PUSH_TTL", 86400))
    expires = delivery.alert.expires_at if delivery.alert_id else None
    if expires is not None:
        seconds = min(seconds, int((expires - timezone.now()).total_seconds()))
    return max(0, seconds)


# --- the channel ---------------------------------------------------------------------------

class PushChannel:
    """Web Push to browsers; app tokens handed to ``alertes_app_push``."""

    code = "push"
    label = gettext_lazy("Push notification")
    # The browser or the app hands its own subscription over (``subscribe``,
    # ``add_device_token``): no ``normalize_address``, nothing to confirm.
    needs_verification = False
    timeout = 10

    def send(self, delivery) -> str:
        if delivery.address.startswith(APP_PREFIXES):
            return send_app_push(delivery)
        return self.send_web_push(delivery)

    def send_web_push(self, delivery) -> str:
        import requests
        from pywebpush import WebPushException, webpush

        if not configured():
            raise DeliveryError("Web Push not configured (ALERTES_VAPID_PRIVATE_KEY, "
                                "ALERTES_VAPID_PUBLIC_KEY, ALERTES_VAPID_SUBJECT)",
                                transient=False)
        try:
            endpoint = validate_endpoint(delivery.address)
        except ValidationError:
            raise DeliveryError("push endpoint not allowed", transient=False,
                                address_failing=True) from None
        address = (Address.objects.filter(channel=Channel.PUSH, value=endpoint)
                   .exclude(push_keys={}).only("push_keys").first())
        if address is None:
            raise DeliveryError("push subscription removed before sending", transient=False)
        if delivery.notice_id:
            headers = {"Urgency": "high" if delivery.notice.urgency == "urgent" else "normal",
                       "Topic": f"avis-{delivery.notice_id}"}
        else:
            emergency = delivery.alert.is_emergency
            headers = {"Urgency": "high" if emergency else "normal",
                       "Topic": f"alerte-{delivery.alert.references_id or delivery.alert_id}"}
        try:
            response = webpush(
                subscription_info={"endpoint": endpoint, "keys": address.push_keys},
                data=json.dumps(payload(delivery), ensure_ascii=False),
                vapid_private_key=setting("ALERTES_VAPID_PRIVATE_KEY"),
                vapid_claims={"sub": setting("ALERTES_VAPID_SUBJECT")},
                content_encoding="aes128gcm", ttl=ttl(delivery), headers=headers,
                timeout=self.timeout)
        except WebPushException as exc:
            status = exc.response.status_code if exc.response is not None else None
            message = f"Web Push HTTP {status}"
            if status in (404, 410):
                # Marked failing, not deleted: the browser's ``pushsubscriptionchange``
                # proves it owned this one to replace it (``replace_subscription``).
                raise DeliveryError(f"{message}: subscription gone, address marked failing",
                                    transient=False, address_failing=True) from exc
            if status is None or status == 429 or status >= 500:
                raise DeliveryError(message, transient=True) from exc
            raise DeliveryError(message, transient=False,
                                address_failing=status in (401, 403)) from exc
        except (requests.RequestException, OSError) as exc:
            raise DeliveryError(f"push service unreachable: {exc}"[:400],
                                transient=True) from exc
        except (ValueError, TypeError) as exc:  # keys the encryption refuses
            raise DeliveryError(f"push subscription unusable: {exc}"[:400], transient=False,
                                address_failing=True) from exc
        return response.headers.get("Location", "") or f"webpush:{response.status_code}"


def send_app_push(delivery) -> str:
    """Hand an app token to the ``alertes_app_push`` implementations (one per push
    service, each answering for the tokens it knows)."""
    from hub.plugins.manager import hooks

    caller = getattr(hooks(), "alertes_app_push", None)
    results: dict = {}
    for answer in (caller(deliveries=[delivery], payloads={delivery.pk: payload(delivery)})
                   if caller is not None else []):
        if isinstance(answer, dict):
            results.update(answer)
    result = results.get(delivery.pk)
    prefix = delivery.address.split(":", 1)[0]
    if not isinstance(result, dict):
        raise DeliveryError(f"no app push service installed for {prefix}: tokens "
                            "(a plugin implements alertes_app_push)", transient=False)
    if result.get("unregistered"):  # the worker deletes the address
        raise AddressGone(f"{prefix}: token unregistered, address removed")
    if result.get("error"):
        raise DeliveryError(f"{prefix}: {result['error']}"[:400],
                            transient=bool(result.get("retry")))
    return str(result.get("id") or f"{prefix}:sent")[:120]
