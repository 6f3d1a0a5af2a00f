"""Twilio's REST API over kept-alive HTTP connections (one per sending thread), and its
webhook signature; shared by the text-message and voice channels."""

from __future__ import annotations

import base64
import contextlib
import functools
import hashlib
import hmac
import http.client
import json
import os
import re
import select
import ssl
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


_local = threading.local()
_proxies: dict = {}


def _proxy(host: str) -> str | None:
    """The environment's HTTPS proxy (``https_proxy``, read once per process) for
    ``host``, or None when ``no_proxy`` names that host (a provider or a relay on the
    city's own network is reached directly, as curl and requests do)."""
    pid = os.getpid()
    if pid not in _proxies:
        _proxies.clear()
        _proxies[pid] = urllib.request.getproxies().get("https")
    proxy = _proxies[pid]
    if proxy and host and urllib.request.proxy_bypass_environment(host):
        return None
    return proxy


def _proxy_authorization(proxy: str) -> str | None:
    """``Basic …`` for a proxy given as ``http://user:password@host:port`` (the
    credentials percent-encoded in the URL, as curl reads them), else None."""
    via = urllib.parse.urlsplit(proxy if "://" in proxy else f"http://{proxy}")
    if via.username is None:
        return None
    pair = (f"{urllib.parse.unquote(via.username)}:"
            f"{urllib.parse.unquote(via.password or '')}")
    return "Basic " + base64.b64encode(pair.encode()).decode("ascii")


class _Response(http.client.HTTPResponse):
    """``http.client``'s response, its header block read without the email parser
    (which cost a third of an exchange): the same checks (line length, header count),
    the same ``HTTPMessage`` (names case-insensitive, folded lines joined), then the
    same framing as ``HTTPResponse.begin`` (chunked, ``Content-Length``, keep-alive)."""

    def _header_block(self) -> http.client.HTTPMessage:
        fields: list[list[str]] = []
        while True:
            line = self.fp.readline(_MAXLINE + 1)
            if len(line) > _MAXLINE:
                raise http.client.LineTooLong("header line")
            if len(fields) >= _MAXHEADERS:
                raise http.client.HTTPException(f"got more than {_MAXHEADERS} headers")
            if line in (b"\r\n", b"\n", b""):
                break
            text = line.decode("iso-8859-1").rstrip("\r\n")
            if text[:1] in (" ", "\t") and fields:  # a folded line
                fields[-1][1] += "\r\n" + text
            elif ":" in text:
                name, value = text.split(":", 1)
                fields.append([name, value.lstrip(" \t")])
        message = http.client.HTTPMessage()
        for name, value in fields:
            message.set_raw(name, value)
        return message

    def begin(self):
        if self.headers is not None:
            return
        while True:  # until an answer that is not "100 Continue"
            version, status, reason = self._read_status()
            if status != http.client.CONTINUE:
                break
            self._header_block()
        self.code = self.status = status
        self.reason = reason.strip()
        if version in ("HTTP/1.0", "HTTP/0.9"):
            self.version = 10
        elif version.startswith("HTTP/1."):
            self.version = 11
        else:
            raise http.client.UnknownProtocol(version)
        self.headers = self.msg = self._header_block()
        encoding = self.headers.get("transfer-encoding")
        self.chunked = bool(encoding) and encoding.lower() == "chunked"
        self.chunk_left = None
        self.will_close = self._check_close()
        self.length = None
        length = self.headers.get("content-length")
        if length and not self.chunked:
            with contextlib.suppress(ValueError):
                self.length = int(length) if int(length) >= 0 else None
        if status in (204, 304) or 100 <= status < 200 or self._method == "HEAD":
            self.length = 0
        if not self.will_close and not self.chunked and self.length is None:
            self.will_close = True


_MAXLINE = 65536
_MAXHEADERS = 100


def _new_connection(base: str, timeout: float) -> tuple[http.client.HTTPConnection, str]:
    """A connection to ``base`` (through the HTTPS proxy if there is one: a tunnel for
    https, absolute URLs for http) and the prefix of its request paths."""
    target = urllib.parse.urlsplit(base)
    proxy = _proxy(target.hostname or "")
    context = None
    if target.scheme == "https":
        ca = os.environ.get("REQUESTS_CA_BUNDLE") or os.environ.get("SSL_CERT_FILE")
        context = ssl.create_default_context(cafile=ca or None)
    if proxy:
        via = urllib.parse.urlsplit(proxy if "://" in proxy else f"http://{proxy}")
        if context is not None:
            connection = http.client.HTTPSConnection(via.hostname, via.port or 80,
                                                     timeout=timeout, context=context)
            authorization = _proxy_authorization(proxy)
            connection.set_tunnel(target.hostname, target.port or 443, headers=(
                {"Proxy-Authorization": authorization} if authorization else None))
            return connection, target.path
        return (http.client.HTTPConnection(via.hostname, via.port or 80, timeout=timeout),
                base)
    if context is not None:
        return (http.client.HTTPSConnection(target.hostname, target.port or 443,
                                            timeout=timeout, context=context), target.path)
    return (http.client.HTTPConnection(target.hostname, target.port or 80, timeout=timeout),
            target.path)


def _connection(base: str, timeout: float) -> tuple[http.client.HTTPConnection, str]:
    """This thread's kept-alive connection to ``base``: each sending thread keeps its
    own (no pool, no lock), opened at its first request; one the server has closed
    meanwhile (readable while idle) is replaced before it is used."""
    if getattr(_local, "pid", None) != os.getpid():  # a forked process opens its own
        _local.pid, _local.connections = os.getpid(), {}
    key = (base, timeout)
    found = _local.connections.get(key)
    if found is not None:
        sock = found[0].sock
        if sock is None or not select.select([sock], [], [], 0)[0]:
            return found
        found[0].close()
    found = _local.connections[key] = _new_connection(base, timeout)
    return found


# Characters a request line or a header value must not hold (as ``http.client``
# refuses them): controls, space, DEL.
_UNSAFE = re.compile("[\x00-\x20\x7f]")
_accounts: dict = {}
_quote = functools.lru_cache(maxsize=2048)(urllib.parse.quote_plus)


def _account(base: str, path: str) -> tuple[str, bytes]:
    """The account's request-path prefix (``path``, the connection's prefix, then
    ``/2010-04-01/Accounts/{sid}/``) and the header lines every request carries
    (``Host``, ``Authorization``…), built once per base URL, account and token instead
    of for every message."""
    sid = setting("ALERTES_TWILIO_ACCOUNT_SID")
    token = setting("ALERTES_TWILIO_AUTH_TOKEN")
    key = (base, path, sid, token)
    found = _accounts.get(key)
    if found is None:
        target = urllib.parse.urlsplit(base)
        prefix = f"{path}/2010-04-01/Accounts/{sid}/"
        auth = base64.b64encode(f"{sid}:{token}".encode()).decode()
        if _UNSAFE.search(prefix) or _UNSAFE.search(target.netloc) or not prefix.isascii():
            raise DeliveryError("ALERTES_TWILIO_BASE_URL or the account sid holds characters "
                                "a URL cannot", transient=False)
        head = (f"Host: {target.netloc.encode('idna').decode('ascii')}\r\n"
                f"Accept-Encoding: identity\r\nAuthorization: Basic {auth}\r\n"
                f"Accept: application/json\r\n").encode("ascii")
        proxy = _proxy(target.hostname or "") if path.startswith("http") else None
        authorization = _proxy_authorization(proxy) if proxy else None
        if authorization:  # an http base through a proxy: absolute URLs, its credentials
            head += f"Proxy-Authorization: {authorization}\r\n".encode("ascii")
        if len(_accounts) > 16:
            _accounts.clear()
        found = _accounts[key] = (prefix, head)
    return found


def _form(fields: dict) -> bytes:
    """``urllib.parse.urlencode(fields)`` of string fields, each name and value quoted
    once per process (the same callback URLs, sender and texts go with every message)."""
    return "&".join([f"{_quote(k)}={_quote(v)}" if isinstance(v, str)
                     else f"{_quote(k)}={_quote(str(v))}"
                     for k, v in fields.items()]).encode("ascii")


def _twilio_request(method: str, resource: str, fields: dict, *, timeout: float) -> dict:
    base = setting("ALERTES_TWILIO_BASE_URL", "https://api.twilio.com").rstrip("/")
    if not base.startswith(("https://", "http://")):
        raise DeliveryError("ALERTES_TWILIO_BASE_URL must be an http(s) URL",
                            transient=False)
    connection, path = _connection(base, timeout)
    prefix, head = _account(base, path)
    if method == "POST":
        body = _form(fields)
        data = (f"POST {prefix}{resource} HTTP/1.1\r\n".encode("ascii") + head
                + b"Content-Type: application/x-www-form-urlencoded\r\nContent-Length: "
                + str(len(body)).encode("ascii") + b"\r\n\r\n" + body)
    else:
        query = urllib.parse.urlencode(fields)
        data = (f"{method} {prefix}{resource}?{query} HTTP/1.1\r\n".encode("ascii")
                + head + b"\r\n")
    try:
        if connection.sock is None:
            connection.connect()
    except OSError as exc:
        # Not connected (refused, unreachable, connect timeout): nothing was sent.
        connection.close()
        raise DeliveryError(f"Twilio unreachable: {exc}"[:400], transient=True) from exc
    try:
        # The request written by hand in one write (head and body together), on the
        # connection ``http.client`` opened (TLS, proxy tunnel); its answer read by
        # ``http.client``'s response.  ``HTTPConnection.request`` checked and encoded
        # each header again for every message, and wrote the body apart.
        connection.sock.sendall(data)
        response = _Response(connection.sock, method=method)
        response.begin()
        content = response.read()
    except (http.client.HTTPException, OSError) as exc:
        # Connected, then no answer (read timeout, connection dropped): Twilio may have
        # taken the request.
        connection.close()
        raise DeliveryError(f"Twilio did not answer: {exc}"[:400], transient=True,
                            ambiguous=method == "POST") from exc
    if response.will_close:
        connection.close()
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
