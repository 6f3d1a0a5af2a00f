"""A delivery channel from outside `alertes`: each message POSTed as JSON to an address
the subscriber gives (a building's display board, a home-automation hub, a partner's
system).

It reaches `alertes` only through its ``alertes_channels`` hook (``plugin.py``) and
imports nothing of it but ``modules.alertes.hookspecs``, alertes' public surface for
plugins (the :class:`DeliveryError` a channel raises).  The webhook answers with any 2xx;
its ``X-Request-Id`` header, when given, is kept as the provider id.
"""

from __future__ import annotations

import ipaddress
import json
import urllib.error
import urllib.parse
import urllib.request

from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from modules.alertes.hookspecs import DeliveryError

USER_AGENT = "EspaceCitoyen-Webhook/1.0"


def _loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _private(host: str) -> bool:
    """An address literal outside the public Internet (the city's own network): refused,
    or any resident could make the city's workers call its internal services."""
    if host == "localhost" or host.endswith((".localhost", ".local", ".internal")):
        return True
    try:
        return not ipaddress.ip_address(host).is_global
    except ValueError:
        return False


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    """A redirect is an answer, not an invitation: followed, it could lead anywhere."""

    def redirect_request(self, req, fp, code, msg, headers, newurl):
        return None


_opener = urllib.request.build_opener(_NoRedirect)


class WebhookChannel:
    code = "webhook"
    label = _("Web address (webhook)")
    concurrent = True  # send() touches no database: the worker may call it from threads
    needs_verification = False  # the resident's own system; nothing to type back
    timeout = 10

    @staticmethod
    def normalize_address(value: str) -> str:
        value = (value or "").strip()
        try:
            parts = urllib.parse.urlsplit(value)
            host = parts.hostname or ""
            parts.port  # noqa: B018 (a bad port raises ValueError)
        except ValueError:
            host = ""
        if not host or parts.scheme not in ("https", "http") or parts.username \
                or parts.password:
            raise ValidationError(_("Enter a web address such as "
                                    "https://example.com/alerts."))
        local_ok = getattr(settings, "THROWAWAY_WEBHOOK_ALLOW_LOOPBACK", False) \
            and _loopback(host)
        if _private(host) and not local_ok:
            raise ValidationError(_("This web address is not on the Internet."))
        if parts.scheme != "https" and not local_ok:
            raise ValidationError(_("The web address must start with https://."))
        return urllib.parse.urlunsplit(parts._replace(fragment=""))

    @staticmethod
    def payload(delivery) -> dict:
        """What the webhook receives: the message in the subscriber's language."""
        language = delivery.language
        alert = delivery.alert
        if alert is not None:
            return {"type": "alert", "id": str(alert.identifier), "kind": alert.kind,
                    "severity": alert.severity, "language": language,
                    "title": alert.title(language), "text": alert.body(language),
                    "short": alert.sms(language)}
        notice = delivery.notice
        return {"type": "notice", "id": f"notice-{notice.pk}", "topic": notice.topic,
                "urgency": notice.urgency, "language": language, "title": notice.subject,
                "text": notice.body, "short": notice.sms(), "url": notice.url}

    def send(self, delivery) -> str:
        body = json.dumps(self.payload(delivery)).encode()
        request = urllib.request.Request(
            delivery.address, data=body, method="POST",
            headers={"Content-Type": "application/json", "User-Agent": USER_AGENT,
                     # The same message on a retry: the receiver may drop the repeat.
                     "Idempotency-Key": f"{delivery.channel}-{delivery.pk}"})
        try:
            with _opener.open(request, timeout=self.timeout) as response:
                return response.headers.get("X-Request-Id", "")[:120]
        except urllib.error.HTTPError as exc:
            status = exc.code
            reason = f"HTTP {status} from the webhook"
            if status in (408, 425, 429) or status >= 500:
                raise DeliveryError(reason, transient=True) from exc
            # 404/410: nothing listens there any more; other answers will not change.
            raise DeliveryError(reason, transient=False,
                                address_failing=status in (404, 410)) from exc
        except (urllib.error.URLError, OSError, ValueError) as exc:
            raise DeliveryError(f"webhook unreachable: {exc}"[:400], transient=True) from exc
