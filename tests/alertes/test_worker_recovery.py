"""A worker that died while holding a claim (killed, out of memory, its machine gone): the
next worker, or the sweep, takes the claim back without waiting and without a person
where the facts are known.

* rows the dead task had leased or claimed but never handed to a provider are enqueued
  again at once;
* rows it was sending are looked up with the provider (Twilio's Messages list): found →
  ``sent`` with Twilio's sid, absent → sent again, once;
* an email in flight (SMTP keeps no record we can ask) goes to review, with its
  Message-ID, chosen before the send, shown in the admin's report as evidence.

The dead claim is written as a dead worker leaves it; on PostgreSQL its advisory lock is
free (nobody holds it), elsewhere its lease is older than ``ALERTES_CLAIM_LEASE``."""

from collections import Counter
from datetime import timedelta

import pytest
from django.db import connection, connections
from django.utils import timezone

from modules.alertes import services
from modules.alertes.models import Alert, Delivery
from modules.alertes.services import delivery as worker

from .conftest import make_subscriber

pytestmark = pytest.mark.django_db

def emergency():
    return Alert.objects.create(title_fr="Fuite de gaz", body_fr="Évacuez la rue.",
                                sms_fr="Fuite de gaz: evacuez", severity="emergency",
                                channels=["sms", "email"], status="sending",
                                audience_size=1)


def leave_dead_claim(rows_by_state, *, claimed_at):
    """Write the rows as a worker that died leaves them; returns its claim token."""
    token = worker.new_token()
    attempted = timezone.now() - timedelta(minutes=1)
    for state, rows in rows_by_state.items():
        for row in rows:
            fields = {"claim": token, "claimed_at": claimed_at}
            if state != "leased":
                fields.update(status="sending", attempts=1)
            if state == "attempted":
                fields["attempted_at"] = attempted
            Delivery.objects.filter(pk=row.pk).update(**fields)
    return token


def test_the_next_worker_takes_a_dead_claim_back(smtp, twilio, officer, client,
                                                 django_capture_on_commit_callbacks):
    for n in range(5):
        make_subscriber(sms=f"+1450555400{n}")
    for n in range(2):
        make_subscriber(email=f"r{n}@example.com")
    alert = emergency()
    services.build_outbox(alert)
    sms = list(Delivery.objects.filter(channel="sms").order_by("address"))
    email = list(Delivery.objects.filter(channel="email").order_by("address"))
    # The dead worker had handed sms[3] to Twilio (Twilio has it) and sms[4] was on its
    # way (Twilio never got it); email[0] was in the SMTP session, its Message-ID set.
    found = twilio.create_message({"To": sms[3].address, "From": "+14505550000",
                                   "Body": alert.sms("fr")})
    Delivery.objects.filter(pk=email[0].pk).update(provider_id="dead-123@mail.example")
    leave_dead_claim({"leased": sms[:1], "claimed": [sms[1], sms[2], email[1]],
                      "attempted": [sms[3], sms[4], email[0]]},
                     claimed_at=timezone.now() - timedelta(minutes=5))

    # Another worker's task starts (any batch, here an empty one): it recovers first.
    with django_capture_on_commit_callbacks(execute=True):
        services.deliver([])

    status = {d.pk: d for d in Delivery.objects.all()}
    for row in (sms[0], sms[1], sms[2], sms[4], email[1]):
        assert status[row.pk].status == "sent", (row.address, status[row.pk].error)
    assert status[sms[3].pk].status == "sent"
    assert status[sms[3].pk].provider_id == found["sid"]  # from Twilio's own record
    assert status[email[0].pk].status == "review"
    assert "dead-123@mail.example" in status[email[0].pk].error
    # Nothing doubled: one text per number, no email to the one under review.
    assert twilio.received() == {row.address: 1 for row in sms}
    assert smtp.received() == {email[1].address: 1}
    assert not Delivery.objects.filter(status__in=["queued", "sending"]).exists()
    # The person checking sees the evidence in the report.
    client.force_login(officer)
    page = client.get(f"/admin/alertes/{alert.pk}/rapport/").content.decode()
    assert "dead-123@mail.example" in page and "Référence du fournisseur" in page
    assert "worker stopped during attempt 1" in page


def test_the_sweep_recovers_too_and_counts_it(smtp, twilio,
                                              django_capture_on_commit_callbacks):
    for n in range(3):
        make_subscriber(sms=f"+1450555410{n}")
    alert = emergency()
    services.build_outbox(alert)
    rows = list(Delivery.objects.order_by("pk"))
    leave_dead_claim({"leased": rows[:2], "attempted": rows[2:]},
                     claimed_at=timezone.now() - timedelta(minutes=5))
    with django_capture_on_commit_callbacks(execute=True):
        result = services.dispatch_due()
    assert result["released"] == 2 and result["resolved"] == 1  # absent at Twilio
    assert sorted(Delivery.objects.values_list("status", flat=True)) == ["sent"] * 3
    assert twilio.received() == {row.address: 1 for row in rows}


def test_a_live_claim_is_left_alone(twilio, django_capture_on_commit_callbacks):
    make_subscriber(sms="+14505554200")
    alert = emergency()
    services.build_outbox(alert)
    row = Delivery.objects.get()
    token = leave_dead_claim({"claimed": [row]}, claimed_at=timezone.now())
    holder = None
    if connection.vendor == "postgresql":  # the worker's session holds its lock
        holder = connections.create_connection("default")
        with holder.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_lock(%s)", [worker._lock_key(token)])
    try:
        assert services.dispatch_due().get("released", 0) == 0
        assert Delivery.objects.get().status == "sending"
    finally:
        if holder is not None:
            holder.close()  # the worker's process dies: its lock goes with it
    later = timezone.now() + timedelta(seconds=0 if holder else 61)
    with django_capture_on_commit_callbacks(execute=True):
        assert services.dispatch_due(now=later)["released"] == 1
    assert Delivery.objects.get().status == "sent"
    assert len(twilio.created) == 1


def test_a_provider_that_cannot_be_asked_is_asked_again_then_a_person_decides(twilio):
    make_subscriber(sms="+14505554300")
    alert = emergency()
    services.build_outbox(alert)
    row = Delivery.objects.get()
    leave_dead_claim({"attempted": [row]}, claimed_at=timezone.now() - timedelta(minutes=5))
    twilio.lookup_mode = "500"
    services.dispatch_due()
    assert Delivery.objects.get().status == "sending"  # asked again at the next sweep
    assert len(twilio.lookups) == 1
    services.dispatch_due(now=timezone.now() + timedelta(minutes=16))
    row = Delivery.objects.get()
    assert row.status == "review"
    assert "could not be asked" in row.error and "HTTP 500" in row.error
    assert twilio.requests == []  # never resent blindly


@pytest.mark.parametrize("threads", [1, 8])
def test_more_rows_than_a_claim_each_marked_before_its_send(smtp, settings, threads):
    """Every row sent was marked attempted first, with its Message-ID: what a dead
    worker leaves in flight is at most one row per sending thread."""
    settings.ALERTES_SEND_THREADS = threads
    for n in range(worker.CLAIM_SIZE + 30):
        make_subscriber(email=f"m{n}@example.com")
    alert = Alert.objects.create(title_fr="Fuite", body_fr="x", severity="emergency",
                                 channels=["email"], status="sending")
    services.build_outbox(alert)
    ids = list(Delivery.objects.values_list("pk", flat=True))
    assert services.deliver(ids)["sent"] == len(ids)
    rows = list(Delivery.objects.all())
    assert all(r.attempted_at is not None and r.status == "sent" for r in rows)
    assert Counter(smtp.received().values()) == {1: len(ids)}
