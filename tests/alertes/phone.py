"""The telephone side of the Twilio-like test server: plays the calls the fake Twilio
received (``FakeTwilio.calls``) the way Twilio does, sending our webhooks signed
requests (``X-Twilio-Signature``, computed here from Twilio's documented algorithm, not
with the code under test).

Each number has a list of outcomes, one per call: ``"human"`` (listens, presses
nothing), ``"human:1"`` (presses 1), ``"human:5"`` (presses 5, hears it again, hangs
up), ``"machine"`` (voicemail after the beep), ``"fax"``, ``"busy"``, ``"no-answer"``,
``"failed"`` (Twilio error 13224, invalid number).

Requests go through a *transport*: real HTTP (with ``live_server``) or Django's test
client (same requests, same headers, without a socket).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import urllib.error
import urllib.parse
import urllib.request

from django.conf import settings
from lxml import etree

from .conftest import SID, TOKEN

ANSWERED = {"human": "human", "machine": "machine_end_beep", "fax": "fax"}
PARSER = etree.XMLParser(resolve_entities=False, no_network=True)


def parse(body: str):
    return etree.fromstring(body.encode(), parser=PARSER)


def sign(url: str, params: dict, token: str = TOKEN) -> str:
    data = url + "".join(key + params[key] for key in sorted(params))
    return base64.b64encode(hmac.new(token.encode("utf-8"), data.encode("utf-8"),
                                     hashlib.sha1).digest()).decode()


def http_transport(url: str, params: dict, signature: str) -> tuple[int, str]:
    request = urllib.request.Request(url, data=urllib.parse.urlencode(params).encode(),
                                     method="POST",
                                     headers={"X-Twilio-Signature": signature})
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode()


def client_transport(client):
    def post(url: str, params: dict, signature: str) -> tuple[int, str]:
        base = settings.BASE_URL.rstrip("/")
        assert url.startswith(base), url
        response = client.post(url[len(base):], params, HTTP_X_TWILIO_SIGNATURE=signature)
        return response.status_code, response.content.decode()
    return post


class PhoneNetwork:
    def __init__(self, twilio, transport):
        self.twilio = twilio
        self.transport = transport
        self.outcomes: dict[str, list[str]] = {}
        self.log: list[dict] = []

    def post(self, url: str, params: dict) -> tuple[int, str]:
        return self.transport(url, params, sign(url, params))

    def play(self) -> list[dict]:
        """Play every call not played yet; returns what happened on each."""
        played = []
        for call in self.twilio.calls:
            if not call["played"]:
                call["played"] = True
                played.append(self._play(call))
        self.log.extend(played)
        return played

    def _play(self, call: dict) -> dict:
        form = call["form"]
        queue = self.outcomes.get(form["To"]) or []
        outcome = queue.pop(0) if queue else "human"
        base = {"AccountSid": SID, "CallSid": call["sid"], "From": form["From"],
                "To": form["To"], "Direction": "outbound-api", "ApiVersion": "2010-04-01"}
        record = {"sid": call["sid"], "to": form["To"], "outcome": outcome,
                  "documents": [], "statuses": []}
        if outcome in ("busy", "no-answer", "failed"):
            params = {**base, "CallStatus": outcome, "CallDuration": "0"}
            if outcome == "failed":
                params["ErrorCode"] = "13224"
            record["statuses"].append(self.post(form["StatusCallback"], params)[0])
            return record
        kind, _, digits = outcome.partition(":")
        answered = ANSWERED[kind]
        status, body = self.post(form["Url"], {**base, "CallStatus": "in-progress",
                                               "AnsweredBy": answered})
        assert status == 200, (status, body)
        document = parse(body)
        record["documents"].append(document)
        gather = document.find("Gather")
        if digits and gather is not None:
            status, body = self.post(gather.get("action"), {
                **base, "CallStatus": "in-progress", "Digits": digits})
            assert status == 200, (status, body)
            answer = parse(body)
            record["documents"].append(answer)
            redirect = answer.find("Redirect")
            if redirect is not None:  # "press any other key": the message again
                status, body = self.post(redirect.text.strip(),
                                         {**base, "CallStatus": "in-progress"})
                record["documents"].append(parse(body))
        record["statuses"].append(self.post(form["StatusCallback"], {
            **base, "CallStatus": "completed", "AnsweredBy": answered,
            "CallDuration": "37"})[0])
        return record


def says(document) -> list[tuple[str, str]]:
    """``(language, text)`` of every ``<Say>`` in a TwiML document, in order."""
    return [(say.get("language"), (say.text or "").strip()) for say in document.iter("Say")]
