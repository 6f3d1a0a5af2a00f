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
    other 4xx: permanent, ``address_failing`` for Twilio's bad-number codes)."""
    import urllib3

    sid = setting("ALERTES_TWILIO_ACCOUNT_SID")
    base = setting("ALERTES_TWILIO_BASE_URL", "https://api.twilio.com").rstrip("/")
    if not base.startswith(("https://", "http://")):
        raise DeliveryError("ALERTES_TWILIO_BASE_URL must be an http(s) URL",
                            transient=False)
    url = f"{base}/2010-04-01/Accounts/{sid}/{resource}"
    auth = base64.b64encode(f"{sid}:{setting('ALERTES_TWILIO_AUTH_TOKEN')}".encode())
    try:
        # urllib3 directly (requests' per-call preparation cost more CPU than the post);
        # the body as bytes leaves in the same packet as the headers.
        response = http_pool().request(
            "POST", url, body=urllib.parse.urlencode(fields).encode(),
            headers={"Authorization": f"Basic {auth.decode()}",
                     "Content-Type": "application/x-www-form-urlencoded",
                     "Accept": "application/json"},
            timeout=urllib3.Timeout(connect=timeout, read=timeout), retries=False,
            redirect=False)
        content = response.data
    except (urllib3.exceptions.HTTPError, OSError) as exc:
        raise DeliveryError(f"Twilio unreachable: {exc}"[:400], transient=True) from exc
    status = response.status
    if 200 <= status < 300:
        try:
            return json.loads(content or b"{}")
        except ValueError as exc:
            raise DeliveryError("Twilio answered something that is not JSON",
                                transient=True) from exc
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
