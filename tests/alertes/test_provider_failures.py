"""Providers misbehaving, against the local servers made to misbehave: an SMTP server
refusing a recipient (450, 550), refusing the message after ``DATA`` (451, 554) or
closing the connection before answering; a Twilio answering 500 or 429, refusing the
connection, or never answering (with or without creating the message).

Each row ends retried then delivered (transient), or failed with its reason shown in
the report (permanent); none is lost, none is sent twice (counted at the servers)."""

from datetime import timedelta

import pytest
from django.utils import timezone

from modules.alertes import services
from modules.alertes.channels import TwilioSMSChannel
from modules.alertes.models import Address, Alert, Delivery

from .conftest import free_port, make_subscriber

pytestmark = pytest.mark.django_db

def emergency(channels):
    return Alert.objects.create(title_fr="Fuite de gaz", body_fr="Évacuez la rue.",
                                sms_fr="Fuite de gaz: evacuez", severity="emergency",
                                channels=channels, status="sending")


def time_passes():
    """Every retry is due."""
    Delivery.objects.filter(status="queued").update(
        not_before=timezone.now() - timedelta(seconds=1))


def deliver_all():
    return services.deliver(list(Delivery.objects.order_by("pk").values_list("pk", flat=True)))


def by_address():
    return {d.address: d for d in Delivery.objects.all()}


def test_smtp_refusals_and_a_dropped_session(smtp):
    plan = {"busy@example.com": ["450"], "nobody@example.com": ["550"],
            "later@example.com": ["451"], "spam@example.com": ["554"],
            "dropped@example.com": ["drop"], "fine@example.com": []}
    for address in plan:
        make_subscriber(email=address)
    smtp.plan = {address: list(steps) for address, steps in plan.items()}
    alert = emergency(["email"])
    services.build_outbox(alert)

    assert deliver_all() == {"sent": 1, "failed": 2, "retry": 3, "skipped": 0}
    rows = by_address()
    for address in ("busy@example.com", "later@example.com", "dropped@example.com"):
        assert rows[address].status == "queued", address  # retried later
        assert rows[address].not_before > timezone.now()
        assert rows[address].attempted_at is None  # nothing ambiguous: no lookup
    assert "SMTP 450" in rows["busy@example.com"].error
    assert "SMTP 451" in rows["later@example.com"].error
    assert rows["nobody@example.com"].status == "failed"
    assert "SMTP 550" in rows["nobody@example.com"].error
    assert Address.objects.get(value="nobody@example.com").failing
    assert rows["spam@example.com"].status == "failed"
    assert "SMTP 554" in rows["spam@example.com"].error

    time_passes()
    assert deliver_all()["sent"] == 3
    rows = by_address()
    assert {a: r.status for a, r in rows.items()} == {
        "busy@example.com": "sent", "later@example.com": "sent",
        "dropped@example.com": "sent", "fine@example.com": "sent",
        "nobody@example.com": "failed", "spam@example.com": "failed"}
    assert smtp.received() == {"busy@example.com": 1, "later@example.com": 1,
                               "dropped@example.com": 1, "fine@example.com": 1}
    # The failures are visible with their reason.
    reasons = {(r["status"], r["error"]) for r in services.report(alert)["reasons"]}
    assert ("failed", "SMTP 550: recipient refused") in reasons


@pytest.fixture
def quick_twilio(twilio, monkeypatch):
    """Twilio's answer awaited half a second (the hangs below are the client's timeouts)."""
    monkeypatch.setattr(TwilioSMSChannel, "timeout", 0.5)
    return twilio


def test_twilio_errors_and_silences(quick_twilio):
    twilio = quick_twilio
    plan = {"+14505555001": ["500"], "+14505555002": ["429"], "+14505555003": ["invalid"],
            "+14505555004": ["create-then-hang"], "+14505555005": ["hang"],
            "+14505555006": []}
    for number in plan:
        make_subscriber(sms=number)
    twilio.plan = {number: list(steps) for number, steps in plan.items()}
    alert = emergency(["sms"])
    services.build_outbox(alert)

    assert deliver_all() == {"sent": 1, "failed": 1, "retry": 4, "skipped": 0}
    rows = by_address()
    assert rows["+14505555003"].status == "failed"
    assert "21211" in rows["+14505555003"].error
    for number in ("+14505555001", "+14505555002"):  # refused: nothing to look up
        assert rows[number].status == "queued" and rows[number].attempted_at is None
    for number in ("+14505555004", "+14505555005"):  # no answer: maybe created
        assert rows[number].status == "queued" and rows[number].attempted_at is not None
        assert "did not answer" in rows[number].error

    time_passes()
    posts = len(twilio.requests)
    assert deliver_all()["sent"] == 4
    rows = by_address()
    assert {n: r.status for n, r in rows.items()} == {
        **dict.fromkeys(plan, "sent"), "+14505555003": "failed"}
    # The message created before the silence was found in Twilio's list, not resent;
    # the one never created was sent once, after looking.
    assert rows["+14505555004"].provider_id == next(
        m["sid"] for m in twilio.created if m["to"] == "+14505555004")
    new_posts = [r["form"]["To"] for r in twilio.requests[posts:]]
    assert sorted(new_posts) == ["+14505555001", "+14505555002", "+14505555005"]
    assert {lookup["params"]["To"] for lookup in twilio.lookups} == {
        "+14505555004", "+14505555005"}
    received = twilio.received()
    assert received == {n: 1 for n in plan if n != "+14505555003"}


def test_twilio_refusing_connections_then_back(twilio, settings):
    make_subscriber(sms="+14505555101")
    alert = emergency(["sms"])
    services.build_outbox(alert)
    settings.ALERTES_TWILIO_BASE_URL = f"http://127.0.0.1:{free_port()}"  # nobody listens
    assert deliver_all() == {"sent": 0, "failed": 0, "retry": 1, "skipped": 0}
    row = Delivery.objects.get()
    assert row.status == "queued" and "unreachable" in row.error
    assert row.attempted_at is None  # never connected: nothing can have been created
    settings.ALERTES_TWILIO_BASE_URL = twilio.url
    time_passes()
    assert deliver_all()["sent"] == 1
    assert twilio.received() == {"+14505555101": 1}
    assert twilio.lookups == []


def test_an_unknown_outcome_on_the_last_attempt_goes_to_review(quick_twilio):
    twilio = quick_twilio
    make_subscriber(sms="+14505555201")
    alert = emergency(["sms"])
    services.build_outbox(alert)
    Delivery.objects.update(attempts=services.MAX_ATTEMPTS - 1)
    twilio.plan = {"+14505555201": ["hang"]}
    deliver_all()
    row = Delivery.objects.get()
    assert row.status == "review"
    assert "outcome unknown after the last attempt" in row.error
