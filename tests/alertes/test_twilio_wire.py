"""The Twilio client writes its requests and reads the answers' headers itself (one
write a message, no email parser: ``channels/twilio.py``); these tests put it against
a server that answers with raw bytes, the HTTP a real server or proxy may send: an
interim ``100 Continue``, chunked bodies, folded and mixed-case headers, ``Connection:
close``, an HTTP/1.0 answer, an oversized header, and the same over TLS (Twilio's API
is HTTPS) with a certificate made for the test."""

import datetime
import json
import socket
import ssl
import threading

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from modules.alertes.channels import DeliveryError
from modules.alertes.channels.twilio import twilio_post
from tests.alertes.conftest import SID, TOKEN

CREATED = json.dumps({"sid": "SM" + "1" * 32, "status": "queued"}).encode()


def chunked(body: bytes) -> bytes:
    half = len(body) // 2
    return (f"{half:x}\r\n".encode() + body[:half] + b"\r\n"
            + f"{len(body) - half:x};ext=1\r\n".encode() + body[half:] + b"\r\n0\r\n\r\n")


ANSWERS = {
    "plain": b"HTTP/1.1 201 Created\r\nContent-Type: application/json\r\n"
             b"Content-Length: %d\r\n\r\n" % len(CREATED) + CREATED,
    "continue-chunked-folded": b"HTTP/1.1 100 Continue\r\n\r\n"
                               b"HTTP/1.1 201 Created\r\ntransfer-ENCODING: chunked\r\n"
                               b"X-Folded: first\r\n  second\r\n\r\n" + chunked(CREATED),
    "close": b"HTTP/1.1 201 Created\r\nConnection: close\r\n"
             b"Content-Length: %d\r\n\r\n" % len(CREATED) + CREATED,
    "http10": b"HTTP/1.0 201 Created\r\n\r\n" + CREATED,
    "huge-header": b"HTTP/1.1 201 Created\r\nX-Big: " + b"a" * 70000 + b"\r\n\r\n",
    "not-http": b"SSH-2.0-OpenSSH_9.2\r\n\r\n",
}


class RawServer:
    """Reads each request whole (head and ``Content-Length`` body) and answers with the
    bytes of ``ANSWERS[self.answer]``; closes after an answer that says so.  Counts
    connections and keeps the requests' bytes."""

    def __init__(self, context: ssl.SSLContext | None = None):
        self.answer = "plain"
        self.connections = 0
        self.requests: list[bytes] = []
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.context = context
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self):
        while True:
            try:
                sock, _ = self.listener.accept()
            except OSError:
                return
            self.connections += 1
            threading.Thread(target=self._serve, args=(sock,), daemon=True).start()

    def _serve(self, sock):
        try:
            if self.context is not None:
                sock = self.context.wrap_socket(sock, server_side=True)
            reader = sock.makefile("rb")
            while True:
                head = b""
                while not head.endswith(b"\r\n\r\n"):
                    line = reader.readline()
                    if not line:
                        return
                    head += line
                length = 0
                for line in head.split(b"\r\n"):
                    if line.lower().startswith(b"content-length:"):
                        length = int(line.split(b":")[1])
                self.requests.append(head + reader.read(length))
                answer = ANSWERS[self.answer]
                sock.sendall(answer)
                if self.answer in ("close", "http10", "huge-header", "not-http"):
                    return
        except OSError:
            return
        finally:
            sock.close()

    def stop(self):
        self.listener.close()


def certificate(tmp_path):
    """A self-signed certificate for 127.0.0.1, and the file that trusts it."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = datetime.datetime.now(datetime.UTC)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name)
            .public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(minutes=5))
            .not_valid_after(now + datetime.timedelta(days=1))
            .add_extension(x509.SubjectAlternativeName(
                [x509.IPAddress(__import__("ipaddress").ip_address("127.0.0.1"))]),
                critical=False)
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .sign(key, hashes.SHA256()))
    cert_file, key_file = tmp_path / "cert.pem", tmp_path / "key.pem"
    cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(key.private_bytes(serialization.Encoding.PEM,
                                           serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    return cert_file, key_file


@pytest.fixture(params=["http", "https"])
def server(request, settings, tmp_path, monkeypatch):
    context = None
    if request.param == "https":
        cert_file, key_file = certificate(tmp_path)
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(cert_file, key_file)
        monkeypatch.setenv("SSL_CERT_FILE", str(cert_file))  # the client trusts it
        monkeypatch.delenv("REQUESTS_CA_BUNDLE", raising=False)
    raw = RawServer(context)
    settings.ALERTES_TWILIO_BASE_URL = f"{request.param}://127.0.0.1:{raw.port}"
    settings.ALERTES_TWILIO_ACCOUNT_SID, settings.ALERTES_TWILIO_AUTH_TOKEN = SID, TOKEN
    yield raw
    raw.stop()


def send(to="+14505551234", body="Avis d’ébullition: rue Victoria & 1re Avenue"):
    return twilio_post("Messages.json", {"To": to, "From": "+14505550000", "Body": body},
                       timeout=3)


def test_answers_as_servers_send_them_are_read_and_the_connection_kept(server):
    assert send()["status"] == "queued"
    server.answer = "continue-chunked-folded"
    assert send()["sid"] == "SM" + "1" * 32
    server.answer = "plain"
    assert send()["status"] == "queued"
    assert server.connections == 1  # one kept-alive connection for the three
    request = server.requests[0]
    head, body = request.split(b"\r\n\r\n", 1)
    assert head.startswith(f"POST /2010-04-01/Accounts/{SID}/Messages.json HTTP/1.1".encode())
    lines = {line.split(b":")[0].lower(): line for line in head.split(b"\r\n")[1:]}
    assert lines[b"host"] == f"Host: 127.0.0.1:{server.port}".encode()
    assert lines[b"authorization"].startswith(b"Authorization: Basic ")
    assert lines[b"content-length"] == f"Content-Length: {len(body)}".encode()
    assert body == (b"To=%2B14505551234&From=%2B14505550000&Body=Avis+d%E2%80%99%C3%A9bullition"
                    b"%3A+rue+Victoria+%26+1re+Avenue")


@pytest.mark.parametrize("answer", ["close", "http10"])
def test_a_server_that_closes_gets_a_new_connection(server, answer):
    server.answer = answer
    assert send()["status"] == "queued"
    server.answer = "plain"
    assert send()["status"] == "queued"
    assert server.connections == 2


@pytest.mark.parametrize("answer", ["huge-header", "not-http"])
def test_an_answer_that_is_not_http_is_an_unknown_outcome_not_a_crash(server, answer):
    server.answer = answer
    with pytest.raises(DeliveryError) as caught:
        send()
    assert caught.value.transient and caught.value.ambiguous  # maybe created: looked up
    server.answer = "plain"
    assert send()["status"] == "queued"  # and the next message goes on a new connection
