"""Twilio's REST API over kept-alive HTTP connections, and its webhook signature;
shared by the text-message and voice channels."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
import threading
import urllib.parse
import urllib.request
from datetime import UTC, timedelta
from email.utils import parsedate_to_datetime

from .contract import DeliveryError, setting

# Twilio error codes that mean "this number will never work".
TWILIO_BAD_NUMBER = {21211, 21214, 21217, 21401, 21407, 21421, 21610, 21612, 21614}


def twilio_signature(url: str, params: dict, token: str) -> str:
    """``X-Twilio-Signature``: base64 HMAC-SHA1 of the URL followed by every POST
    parameter, sorted by name, as name + value."""
    payload = url + "".join(f"{key}{params[key]}" for key in sorted(params))
    digest = hmac.new(token.encode(), payload.encode(), hashlib.sha1).digest()
    return base64.b64encode(digest).decode()


_http_lock = threading.Lock()
_http_pools: dict = {}


def http_pool():
    """The process's pool of kept-alive HTTP connections to providers (urllib3,
    thread-safe: each sending thread takes its own connection; up to 16 per host).  The
    environment's HTTPS proxy (``https_proxy``) is honoured, read once."""
    import urllib3

    key = os.getpid()
    with _http_lock:
        pool = _http_pools.get(key)
        if pool is None:
            proxy = urllib.request.getproxies().get("https")
            options = {"maxsize": 16, "block": False, "retries": False}
            ca = os.environ.get("REQUESTS_CA_BUNDLE") or os.environ.get("SSL_CERT_FILE")
            if ca:
                options["ca_certs"] = ca
            pool = (urllib3.ProxyManager(proxy, **options) if proxy
                    else urllib3.PoolManager(**options))
            _http_pools.clear()
            _http_pools[key] = pool
        return pool


def twilio_post(resource: str, fields: dict, *, timeout: float = 10) -> dict:
    """``POST /2010-04-01/Accounts/{sid}/{resource}`` with HTTP basic auth over a kept-alive
    connection; the JSON answer, or :class:`DeliveryError` (429/5xx/network: transient;
    other 4xx: permanent, ``address_failing`` for Twilio's bad-number codes).  A failure
    after the request was written (read timeout, connection dropped) is ``ambiguous``:
    Twilio may have created the message, so the retry looks it up first."""
    return _twilio_request("POST", resource, fields, timeout=timeout)


def twilio_get(resource: str, params: dict, *, timeout: float = 10) -> dict:
    """``GET /2010-04-01/Accounts/{sid}/{resource}?params`` (a list: ``Messages.json``,
    ``Calls.json``); the JSON answer, or :class:`DeliveryError`."""
    return _twilio_request("GET", resource, params, timeout=timeout)


def _twilio_request(method: str, resource: str, fields: dict, *, timeout: float) -> dict:
    import urllib3

    sid = setting("ALERTES_TWILIO_ACCOUNT_SID")
    base = setting("ALERTES_TWILIO_BASE_URL", "https://api.twilio.com").rstrip("/")
    if not base.startswith(("https://", "http://")):
        raise DeliveryError("ALERTES_TWILIO_BASE_URL must be an http(s) URL",
                            transient=False)
    url = f"{base}/2010-04-01/Accounts/{sid}/{resource}"
    auth = base64.b64encode(f"{sid}:{setting('ALERTES_TWILIO_AUTH_TOKEN')}".encode())
    headers = {"Authorization": f"Basic {auth.decode()}", "Accept": "application/json"}
    body = None
    if method == "POST":
        # The body as bytes leaves in the same packet as the headers.
        body = urllib.parse.urlencode(fields).encode()
        headers["Content-Type"] = "application/x-www-form-urlencoded"
    else:
        url += "?" + urllib.parse.urlencode(fields)
    try:
        # urllib3 directly (requests' per-call preparation cost more CPU than the post).
        response = http_pool().request(
            method, url, body=body, headers=headers,
            timeout=urllib3.Timeout(connect=timeout, read=timeout), retries=False,
            redirect=False)
        content = response.data
    except urllib3.exceptions.ConnectTimeoutError as exc:
        # Not connected (refused, unreachable, connect timeout): nothing was sent.
        raise DeliveryError(f"Twilio unreachable: {exc}"[:400], transient=True) from exc
    except (urllib3.exceptions.HTTPError, OSError) as exc:
        # Connected, then no answer (read timeout, connection dropped): Twilio may have
        # taken the request.
        raise DeliveryError(f"Twilio did not answer: {exc}"[:400], transient=True,
                            ambiguous=method == "POST") from exc
    status = response.status
    if 200 <= status < 300:
        try:
            return json.loads(content or b"{}")
        except ValueError as exc:
            raise DeliveryError("Twilio answered something that is not JSON",
                                transient=True, ambiguous=method == "POST") from exc
    try:
        data = json.loads(content or b"{}")
    except ValueError:
        data = {}
    if not isinstance(data, dict):
        data = {}
    code = data.get("code")
    message = f"HTTP {status} Twilio {code or ''}: {data.get('message', '')}"[:400]
    if status == 429 or status >= 500 or status < 200:
        raise DeliveryError(message, transient=True)
    raise DeliveryError(message, transient=False, address_failing=code in TWILIO_BAD_NUMBER)


LOOKUP_SKEW = timedelta(minutes=2)  # clocks of Twilio and of this server may differ


def twilio_lookup(resource: str, key: str, delivery, params: dict, *, timeout: float = 10,
                  match=None) -> tuple[str, str]:
    """Whether Twilio holds the message or call of ``delivery``, created since its
    attempt (``delivery.attempted_at``): ``GET {resource}?To=…&From=…`` (the newest
    first), matched on the number, the creation time and ``match(item)``.  ``("sent",
    sid)`` or ``("absent", why)``; :class:`DeliveryError` when Twilio cannot be asked."""
    since = delivery.attempted_at - LOOKUP_SKEW
    data = twilio_get(resource, {**params, "PageSize": 100}, timeout=timeout)
    items = data.get(key) if isinstance(data, dict) else None
    if not isinstance(items, list):
        raise DeliveryError(f"Twilio's {resource} list is not readable", transient=True)
    for item in items:
        if not isinstance(item, dict) or item.get("to") != delivery.address:
            continue
        try:
            created = parsedate_to_datetime(item.get("date_created") or "")
        except (TypeError, ValueError):
            continue
        if created.tzinfo is None:
            created = created.replace(tzinfo=UTC)
        if created >= since and (match is None or match(item)) and item.get("sid"):
            return "sent", str(item["sid"])
    return "absent", (f"Twilio holds no {resource.split('.')[0].lower()[:-1]} to "
                      f"{delivery.address} created since {since:%Y-%m-%d %H:%M:%S} UTC")
