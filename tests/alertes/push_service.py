"""A Web Push service on 127.0.0.1 (RFC 8030), with browsers' side of the keys.

Each *device* is a browser subscription: a P-256 key pair and a 16-byte auth secret
generated here (as a browser does), and an endpoint ``/push/<id>`` on this server.  The
server checks what a real push service checks, then does what the browser does:

* ``Authorization: vapid t=<JWT>,k=<public key>`` (RFC 8292): ES256 signature valid for
  ``k``, ``k`` the expected application server key, ``aud`` this origin, ``exp`` in the
  future and within 24 h, ``sub`` a contact;
* ``Content-Encoding: aes128gcm`` (RFC 8188/8291): the body decrypted with the device's
  private key and auth secret (``http_ece``), then parsed as JSON.

A device's ``status`` makes the service answer 410 (unsubscribed), 429, 503….
"""

from __future__ import annotations

import base64
import itertools
import json
import os
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import http_ece
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def unb64url(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


class VapidError(Exception):
    pass


def check_vapid(header: str, *, audience: str, public_key: str) -> dict:
    """The JWT claims of a valid ``vapid t=…,k=…`` header, or :class:`VapidError`."""
    scheme, _, params = header.partition(" ")
    if scheme.lower() != "vapid":
        raise VapidError(f"scheme {scheme!r}")
    parts = dict(p.strip().split("=", 1) for p in params.split(",") if "=" in p)
    token, key = parts.get("t", ""), parts.get("k", "")
    if key != public_key:
        raise VapidError("not the application server key")
    try:
        head, claims, signature = token.split(".")
        if json.loads(unb64url(head)) != {"typ": "JWT", "alg": "ES256"}:
            raise VapidError("JWT header")
        raw = unb64url(signature)
        der = encode_dss_signature(int.from_bytes(raw[:32], "big"),
                                   int.from_bytes(raw[32:], "big"))
        verifier = ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(),
                                                                unb64url(key))
        verifier.verify(der, f"{head}.{claims}".encode(), ec.ECDSA(hashes.SHA256()))
    except (ValueError, InvalidSignature) as exc:
        raise VapidError(f"bad JWT: {exc!r}") from exc
    data = json.loads(unb64url(claims))
    now = time.time()
    if data.get("aud") != audience:
        raise VapidError(f"aud {data.get('aud')!r}")
    if not now < int(data.get("exp", 0)) <= now + 86400:
        raise VapidError("exp")
    if not str(data.get("sub", "")).startswith(("mailto:", "https://")):
        raise VapidError("sub")
    return data


class PushService:
    def __init__(self, public_key: str):
        self.public_key = public_key
        self.devices: dict[str, dict] = {}
        self.received: list[dict] = []
        self.refused: list[tuple[str, str]] = []
        self.counter = itertools.count(1)
        service = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                device_id = self.path.rsplit("/", 1)[-1]
                device = service.devices.get(device_id)
                if device is None or not self.path.startswith("/push/"):
                    return self._answer(404)
                if device["status"] != 201:
                    service.refused.append((device_id, str(device["status"])))
                    return self._answer(device["status"])
                try:
                    claims = check_vapid(self.headers.get("Authorization", ""),
                                         audience=service.url,
                                         public_key=service.public_key)
                except VapidError as exc:
                    service.refused.append((device_id, str(exc)))
                    return self._answer(403)
                if self.headers.get("Content-Encoding") != "aes128gcm":
                    service.refused.append((device_id, "encoding"))
                    return self._answer(415)
                plain = http_ece.decrypt(body, private_key=device["private"],
                                         auth_secret=device["auth"], version="aes128gcm")
                number = next(service.counter)
                service.received.append({
                    "device": device_id, "payload": json.loads(plain), "claims": claims,
                    "ttl": self.headers.get("TTL"), "urgency": self.headers.get("Urgency"),
                    "topic": self.headers.get("Topic"), "size": len(body)})
                return self._answer(201, {"Location": f"{service.url}/message/{number}"})

            def _answer(self, status, headers=None):
                self.send_response(status)
                for name, value in (headers or {}).items():
                    self.send_header(name, value)
                self.send_header("Content-Length", "0")
                self.end_headers()

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def new_device(self) -> dict:
        """A browser's ``PushSubscription.toJSON()``."""
        device_id = f"d{len(self.devices) + 1}"
        private = ec.generate_private_key(ec.SECP256R1())
        auth = os.urandom(16)
        self.devices[device_id] = {"private": private, "auth": auth, "status": 201}
        point = private.public_key().public_bytes(Encoding.X962,
                                                  PublicFormat.UncompressedPoint)
        return {"endpoint": f"{self.url}/push/{device_id}",
                "keys": {"p256dh": b64url(point), "auth": b64url(auth)}}

    def stop(self):
        self.server.shutdown()
        self.server.server_close()
