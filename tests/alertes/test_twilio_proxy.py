"""The Twilio client through the city's outgoing proxy (``https_proxy``), against a real
forwarding proxy on 127.0.0.1: a ``CONNECT`` tunnel for Twilio's HTTPS API (the proxy
sees only ciphertext), absolute URLs for an http base, the proxy's credentials from the
proxy URL, and ``no_proxy`` naming a host that is reached directly."""

import base64
import contextlib
import socket
import ssl
import threading

import pytest

from modules.alertes.channels import DeliveryError
from modules.alertes.channels import twilio as client
from tests.alertes.conftest import SID, TOKEN
from tests.alertes.test_twilio_wire import RawServer, certificate, send


class ForwardProxy(RawServer):
    """An HTTP proxy: ``CONNECT host:port`` opens a tunnel (``200``, then bytes both
    ways); a request in absolute form (``POST http://host:port/…``) is passed on to its
    host as it came, with what follows on the connection.  With ``credentials`` set, a
    request without that ``Proxy-Authorization`` gets ``407``.  Keeps each first request
    head and every byte the clients sent through it (the listener, its accepting thread
    and the connection count are ``RawServer``'s)."""

    def __init__(self, credentials: str | None = None):
        self.credentials = credentials
        self.heads: list[bytes] = []
        self.from_clients = bytearray()
        super().__init__()
        self.url = f"http://127.0.0.1:{self.port}"

    def _serve(self, sock):
        head = b""
        while not head.endswith(b"\r\n\r\n"):
            byte = sock.recv(1)
            if not byte:
                sock.close()
                return
            head += byte
        self.heads.append(head)
        method, target, _ = head.split(b"\r\n", 1)[0].decode().split(" ")
        fields = {line.split(b":", 1)[0].strip().lower(): line.split(b":", 1)[1].strip()
                  for line in head.split(b"\r\n")[1:] if b":" in line}
        if self.credentials is not None:
            expected = b"Basic " + base64.b64encode(self.credentials.encode())
            if fields.get(b"proxy-authorization") != expected:
                sock.sendall(b"HTTP/1.1 407 Proxy Authentication Required\r\n"
                             b"Proxy-Authenticate: Basic realm=\"ville\"\r\n"
                             b"Content-Length: 0\r\nConnection: close\r\n\r\n")
                sock.close()
                return
        if method == "CONNECT":
            host, port = target.rsplit(":", 1)
            upstream = socket.create_connection((host, int(port)))
            sock.sendall(b"HTTP/1.1 200 Connection established\r\n\r\n")
        else:
            authority = target.split("://", 1)[1].split("/", 1)[0]
            host, port = authority.rsplit(":", 1)
            upstream = socket.create_connection((host, int(port)))
            self.from_clients += head
            upstream.sendall(head)
        threading.Thread(target=self._pipe, args=(upstream, sock, False), daemon=True).start()
        self._pipe(sock, upstream, True)

    def _pipe(self, source, sink, from_client):
        try:
            while data := source.recv(65536):
                if from_client:
                    self.from_clients += data
                sink.sendall(data)
        except OSError:
            pass
        finally:
            for end in (source, sink):
                with contextlib.suppress(OSError):
                    end.shutdown(socket.SHUT_RDWR)


@pytest.fixture
def environment(monkeypatch):
    """A clean proxy environment, read again by the client (it reads it once per
    process); left clean for the next test."""
    for name in ("https_proxy", "HTTPS_PROXY", "http_proxy", "HTTP_PROXY",
                 "no_proxy", "NO_PROXY", "all_proxy", "ALL_PROXY"):
        monkeypatch.delenv(name, raising=False)
    client._proxies.clear()
    yield monkeypatch
    client._proxies.clear()


@pytest.fixture
def account(settings):
    settings.ALERTES_TWILIO_ACCOUNT_SID, settings.ALERTES_TWILIO_AUTH_TOKEN = SID, TOKEN
    return settings


@pytest.fixture
def tls_server(tmp_path, environment):
    cert_file, key_file = certificate(tmp_path)
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert_file, key_file)
    environment.setenv("SSL_CERT_FILE", str(cert_file))
    environment.delenv("REQUESTS_CA_BUNDLE", raising=False)
    raw = RawServer(context)
    yield raw
    raw.stop()


def test_https_goes_through_a_connect_tunnel_the_proxy_cannot_read(
        account, environment, tls_server):
    proxy = ForwardProxy()
    environment.setenv("https_proxy", proxy.url)
    account.ALERTES_TWILIO_BASE_URL = f"https://127.0.0.1:{tls_server.port}"
    assert send()["status"] == "queued"
    assert send(to="+14505559876")["status"] == "queued"
    assert proxy.connections == 1 and tls_server.connections == 1  # one kept-alive tunnel
    assert proxy.heads[0].startswith(f"CONNECT 127.0.0.1:{tls_server.port} HTTP/1.".encode())
    assert b"Proxy-Authorization" not in proxy.heads[0]
    assert len(tls_server.requests) == 2
    assert tls_server.requests[0].startswith(
        f"POST /2010-04-01/Accounts/{SID}/Messages.json HTTP/1.1".encode())
    # What crossed the proxy is TLS: neither the account's credentials nor the text.
    carried = bytes(proxy.from_clients)
    assert carried and b"Authorization" not in carried and b"Victoria" not in carried
    assert base64.b64encode(f"{SID}:{TOKEN}".encode()) not in carried
    proxy.stop()


def test_the_proxy_credentials_in_its_url_open_the_tunnel(account, environment, tls_server):
    proxy = ForwardProxy(credentials="ville:s3crèt:#")
    environment.setenv("https_proxy", proxy.url.replace(
        "http://", "http://ville:s3cr%C3%A8t%3A%23@"))
    account.ALERTES_TWILIO_BASE_URL = f"https://127.0.0.1:{tls_server.port}"
    assert send()["status"] == "queued"
    assert len(tls_server.requests) == 1
    proxy.stop()


def test_a_proxy_that_refuses_is_an_error_that_says_so_and_nothing_is_sent(
        account, environment, tls_server):
    proxy = ForwardProxy(credentials="ville:autre")
    environment.setenv("https_proxy", proxy.url)  # no credentials given
    account.ALERTES_TWILIO_BASE_URL = f"https://127.0.0.1:{tls_server.port}"
    with pytest.raises(DeliveryError) as caught:
        send()
    # Refused before anything reached Twilio: retried later, no lookup needed.
    assert caught.value.transient and not caught.value.ambiguous
    assert "407" in str(caught.value)
    assert tls_server.requests == []
    proxy.stop()


def test_an_http_base_is_asked_for_by_absolute_url_with_the_proxy_credentials(
        account, environment):
    raw = RawServer()
    proxy = ForwardProxy(credentials="ville:mot de passe")
    environment.setenv("https_proxy", proxy.url.replace(
        "http://", "http://ville:mot%20de%20passe@"))
    account.ALERTES_TWILIO_BASE_URL = f"http://127.0.0.1:{raw.port}"
    assert send()["status"] == "queued"
    assert send(to="+14505559876")["status"] == "queued"
    line = (f"POST http://127.0.0.1:{raw.port}/2010-04-01/Accounts/{SID}/Messages.json "
            f"HTTP/1.1").encode()
    assert bytes(proxy.from_clients).count(line) == 2  # both through the proxy
    assert proxy.connections == 1 and len(raw.requests) == 2
    raw.stop()
    proxy.stop()


def test_no_proxy_naming_the_host_reaches_it_directly(account, environment, tls_server):
    proxy = ForwardProxy()
    environment.setenv("https_proxy", proxy.url)
    environment.setenv("no_proxy", "localhost,127.0.0.1")
    account.ALERTES_TWILIO_BASE_URL = f"https://127.0.0.1:{tls_server.port}"
    assert send()["status"] == "queued"
    assert proxy.connections == 0 and len(tls_server.requests) == 1
    proxy.stop()
