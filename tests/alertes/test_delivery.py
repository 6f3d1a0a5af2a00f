"""Sending alerts through the outbox, against real local SMTP and Twilio-like servers."""

from datetime import time, timedelta
from email import message_from_bytes

import pytest
from django.core.exceptions import PermissionDenied
from django.utils import timezone
from wagtail.actions.publish_revision import PublishPermissionError

from modules.alertes import services
from modules.alertes.models import Address, Alert, Delivery

from .conftest import approve_through_workflow, make_subscriber


def make_alert(officer, topics, *, severity="info", channels=("email", "sms"), **extra):
    fields = {"title_fr": "Interdiction de stationner", "title_en": "Parking ban",
              "body_fr": "Stationnement interdit cette nuit.",
              "body_en": "No parking tonight.", "sms_fr": "Stationnement interdit cette nuit",
              "sms_en": "No parking tonight", **extra}
    alert = Alert.objects.create(severity=severity, channels=list(channels),
                                 created_by=officer, **fields)
    alert.topics.set([topics["deneigement"]])
    return alert


def due(row):
    """Time passes: the row's retry time is reached."""
    Delivery.objects.filter(pk=row.pk, status="queued").update(
        not_before=timezone.now() - timedelta(seconds=1))


def send_now(alert, user, capture):
    with capture(execute=True):
        return services.send(alert, user)


@pytest.fixture
def resident(topics):
    return make_subscriber(email="resident@example.com", sms="+14505551111",
                           topics=[topics["deneigement"]], language="en")


def test_parking_ban_reaches_subscriber_on_both_channels_in_their_language(
        officer, approver, topics, resident, smtp, twilio,
        django_capture_on_commit_callbacks):
    alert = make_alert(officer, topics)
    with django_capture_on_commit_callbacks(execute=True):
        approve_through_workflow(alert, officer, approver)
    assert alert.sent_by == approver and alert.live
    rows = {d.channel: d for d in Delivery.objects.filter(alert=alert)}
    assert {c: d.status for c, d in rows.items()} == {"email": "sent", "sms": "sent"}
    assert rows["sms"].provider_id.startswith("SM") and rows["sms"].attempts == 1
    assert twilio.bodies("+14505551111") == ["No parking tonight"]
    assert twilio.requests[-1]["form"]["From"] == "+14505550000"
    assert twilio.requests[-1]["form"]["StatusCallback"].endswith("/fr/alertes/twilio/statut/")
    # (Wagtail also emails the submitter and the approvers about the workflow.)
    [envelope] = [m for m in smtp.messages if m.rcpt_tos == ["resident@example.com"]]
    message = message_from_bytes(envelope.content)
    assert message["Subject"] == "Parking ban"
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert message["List-Unsubscribe"].strip().startswith("<http") and "/desabonnement/" in \
        message["List-Unsubscribe"]
    types = {part.get_content_type() for part in message.walk()}
    assert {"text/plain", "text/html"} <= types
    alert.refresh_from_db()
    assert alert.status == "sent" and alert.audience_size == 2


def test_non_emergency_is_only_sent_through_the_approval_workflow(
        officer, second_officer, citizen, agent_a, topics, resident):
    alert = make_alert(officer, topics)
    with pytest.raises(services.AlertError):
        services.send(alert, officer)  # "send now" is for emergencies only
    # An officer is not an approver: approving would publish, which they may not do.
    with pytest.raises(PublishPermissionError):
        approve_through_workflow(alert, officer, second_officer)
    alert.refresh_from_db()
    assert alert.status == "draft" and not alert.live and not Delivery.objects.exists()
    for outsider in (citizen, agent_a):
        with pytest.raises(PermissionDenied):
            services.send(alert, outsider)
    assert not Delivery.objects.exists()
    alert.refresh_from_db()
    assert alert.status == "draft"


def test_emergency_reaches_everyone_in_the_zone_on_every_channel(
        officer, topics, districts, smtp, twilio, django_capture_on_commit_callbacks):
    north, south = districts
    leisure_only = make_subscriber(email="a@example.com", sms="+14505552222",
                                   topics=[topics["loisirs"]], district=north)
    no_topic = make_subscriber(email="b@example.com", district=north)
    make_subscriber(email="c@example.com", district=south, topics=[topics["deneigement"]])
    make_subscriber(email="unverified@example.com", district=north, verified=False)
    gone = make_subscriber(email="gone@example.com", district=north)
    gone.active = False
    gone.save()
    # The same address given by two subscribers is sent once.
    make_subscriber(email="a@example.com", district=north)
    alert = make_alert(officer, topics, severity="emergency", channels=["email"],
                       title_fr="Fuite de gaz", body_fr="Évacuez la rue.")
    alert.districts.set([north])
    assert send_now(alert, officer, django_capture_on_commit_callbacks) == 3
    sent = set(Delivery.objects.values_list("channel", "address"))
    assert sent == {("email", "a@example.com"), ("sms", "+14505552222"),
                    ("email", "b@example.com")}
    assert sorted(e.rcpt_tos[0] for e in smtp.messages) == ["a@example.com", "b@example.com"]
    assert Delivery.objects.filter(status="sent").count() == 3
    assert leisure_only.deliveries.count() == 2 and no_topic.deliveries.count() == 1


def test_empty_audience_is_a_clear_error_and_nothing_changes(officer, topics,
                                                             django_capture_on_commit_callbacks):
    alert = make_alert(officer, topics, severity="emergency")
    with pytest.raises(services.AlertError) as exc:
        send_now(alert, officer, django_capture_on_commit_callbacks)
    assert "Nothing was sent" in str(exc.value) or "Rien" in str(exc.value)
    alert.refresh_from_db()
    assert alert.status == "draft" and not Delivery.objects.exists()


def test_over_ten_segments_refused(officer, topics, resident):
    alert = make_alert(officer, topics, severity="emergency", sms_fr="ô" * 700)
    with pytest.raises(services.AlertError) as exc:
        services.send(alert, officer)
    assert "11" in str(exc.value)
    assert not Delivery.objects.exists()


def test_transient_429_is_retried_with_backoff(officer, topics, resident, twilio,
                                               django_capture_on_commit_callbacks):
    twilio.mode = "429-then-ok"
    alert = make_alert(officer, topics, severity="emergency", channels=["sms"])
    alert.refresh_from_db()
    with django_capture_on_commit_callbacks(execute=True):
        services.send(alert, officer)
    row = Delivery.objects.get(alert=alert, channel="sms")
    assert row.status == "queued" and row.attempts == 1 and "429" in row.error
    assert row.not_before > timezone.now() + timedelta(seconds=10)
    # Not yet due: the sweep leaves it alone.
    with django_capture_on_commit_callbacks(execute=True):
        services.dispatch_due()
    row.refresh_from_db()
    assert row.status == "queued"
    due(row)
    with django_capture_on_commit_callbacks(execute=True):
        result = services.dispatch_due()
    assert result["requeued"] >= 1
    row.refresh_from_db()
    assert row.status == "sent" and row.attempts == 2
    assert len(twilio.bodies("+14505551111")) == 2  # the 429 and the success


def test_backoff_grows_with_jitter():
    for attempt in range(1, 6):
        ceiling = min(3600, 30 * 2 ** (attempt - 1))
        values = {services.backoff(attempt).total_seconds() for _ in range(20)}
        assert all(ceiling / 2 <= v <= ceiling for v in values)
        assert len(values) > 1


def test_server_errors_give_up_after_max_attempts(officer, topics, resident, twilio,
                                                   django_capture_on_commit_callbacks):
    twilio.mode = "500"
    alert = make_alert(officer, topics, severity="emergency", channels=["sms"])
    with django_capture_on_commit_callbacks(execute=True):
        services.send(alert, officer)
    for _ in range(services.MAX_ATTEMPTS):
        due(Delivery.objects.get(alert=alert, channel="sms"))
        with django_capture_on_commit_callbacks(execute=True):
            services.dispatch_due()
    row = Delivery.objects.get(alert=alert, channel="sms")
    assert row.status == "failed" and row.attempts == services.MAX_ATTEMPTS
    assert len(twilio.requests) == services.MAX_ATTEMPTS


def test_invalid_number_fails_at_once_and_marks_the_address(
        officer, topics, resident, twilio, django_capture_on_commit_callbacks):
    twilio.mode = "invalid"
    alert = make_alert(officer, topics, severity="emergency", channels=["sms"])
    with django_capture_on_commit_callbacks(execute=True):
        services.send(alert, officer)
    row = Delivery.objects.get(alert=alert, channel="sms")
    assert row.status == "failed" and row.attempts == 1 and "21211" in row.error
    address = Address.objects.get(channel="sms")
    assert address.failing and "21211" in address.failing_reason
    # The next alert skips the failing number.
    second = make_alert(officer, topics, severity="emergency", channels=["sms"],
                        title_fr="Deuxième")
    with django_capture_on_commit_callbacks(execute=True):
        services.send(second, officer)
    assert not Delivery.objects.filter(alert=second, channel="sms").exists()
    assert len(twilio.requests) == 1


def test_sms_not_configured_fails_clearly(officer, topics, resident,
                                          django_capture_on_commit_callbacks):
    alert = make_alert(officer, topics, severity="emergency", channels=["sms"])
    with django_capture_on_commit_callbacks(execute=True):
        services.send(alert, officer)
    row = Delivery.objects.get(alert=alert, channel="sms")
    assert row.status == "failed" and "not configured" in row.error


def test_a_row_is_claimed_once(officer, topics, twilio):
    make_subscriber(sms="+14505551111", topics=[topics["deneigement"]])
    alert = make_alert(officer, topics, severity="emergency", channels=["sms"])
    services.build_outbox(alert)
    ids = list(Delivery.objects.values_list("pk", flat=True))
    first = services.deliver(ids)
    second = services.deliver(ids)
    assert first["sent"] == 1 and second == {"sent": 0, "failed": 0, "retry": 0,
                                             "skipped": 1}
    assert len(twilio.requests) == 1
    # Building the outbox again adds nothing (unique alert/channel/address).
    services.build_outbox(alert)
    assert Delivery.objects.count() == 1


def test_lost_tasks_are_requeued_and_stuck_rows_flagged(officer, topics, twilio,
                                                        django_capture_on_commit_callbacks):
    for n in range(4):
        make_subscriber(sms=f"+1450555300{n}", topics=[topics["deneigement"]])
    alert = make_alert(officer, topics, severity="emergency", channels=["sms"])
    # The broker was down: the outbox is written, no task ran.
    services.build_outbox(alert, now=timezone.now() - timedelta(minutes=20))
    rows = list(Delivery.objects.order_by("pk"))
    # A worker had claimed the first row, then died before recording the outcome.
    Delivery.objects.filter(pk=rows[0].pk).update(
        status="sending", claimed_at=timezone.now() - timedelta(minutes=20), attempts=1)
    with django_capture_on_commit_callbacks(execute=True):
        result = services.dispatch_due()
    assert result == {"scheduled": 0, "review": 1, "requeued": 3}
    statuses = dict(Delivery.objects.values_list("pk", "status"))
    assert statuses[rows[0].pk] == "review"
    assert sorted(statuses.values()) == ["review", "sent", "sent", "sent"]
    assert len(twilio.requests) == 3  # the stuck row was not resent silently
    # A person checks it and resends.
    with django_capture_on_commit_callbacks(execute=True):
        services.resolve_review(rows[0], officer, resend=True)
    assert Delivery.objects.get(pk=rows[0].pk).status == "sent"
    assert len(twilio.requests) == 4
    report = services.report(alert)
    assert report["per_channel"]["sms"]["sent"] == 4 and report["total"] == 4


def test_quiet_hours_delay_non_emergencies(officer, second_officer, topics):
    night = make_subscriber(email="nuit@example.com", topics=[topics["deneigement"]])
    night.quiet_start, night.quiet_end = time(0, 0), time(23, 59)
    night.save()
    alert = make_alert(officer, topics, channels=["email"])
    services.build_outbox(alert)
    row = Delivery.objects.get(alert=alert)
    assert row.not_before is not None and row.not_before > timezone.now()
    emergency = make_alert(officer, topics, severity="emergency", channels=["email"])
    services.build_outbox(emergency)
    assert Delivery.objects.get(alert=emergency).not_before is None


def test_scheduled_alert_is_sent_by_the_sweep(officer, approver, topics, resident, smtp,
                                              django_capture_on_commit_callbacks):
    alert = make_alert(officer, topics, channels=["email"],
                       send_at=timezone.now() + timedelta(hours=1))
    approve_through_workflow(alert, officer, approver)
    assert alert.status == "scheduled" and not Delivery.objects.exists()
    with django_capture_on_commit_callbacks(execute=True):
        result = services.dispatch_due(now=timezone.now() + timedelta(hours=2))
    assert result["scheduled"] == 1
    assert Delivery.objects.get(alert=alert).status == "sent"


def test_update_and_cancel_reach_who_got_the_original(
        officer, topics, resident, smtp, django_capture_on_commit_callbacks):
    alert = make_alert(officer, topics, severity="emergency", channels=["email"])
    send_now(alert, officer, django_capture_on_commit_callbacks)
    make_subscriber(email="nouveau@example.com", topics=[topics["deneigement"]])
    update = services.create_correction(alert, "update", officer,
                                        title_en="Parking ban extended")
    send_now(update, officer, django_capture_on_commit_callbacks)
    assert list(Delivery.objects.filter(alert=update).values_list("address", flat=True)) == [
        "resident@example.com"]
    cancel = services.create_correction(alert, "cancel", officer, title_en="Ban lifted")
    send_now(cancel, officer, django_capture_on_commit_callbacks)
    alert.refresh_from_db()
    assert alert.status == "cancelled" and not alert.is_active()
    assert [m.rcpt_tos[0] for m in smtp.messages] == ["resident@example.com"] * 3
    with pytest.raises(services.AlertError):
        services.create_correction(make_alert(officer, topics), "update", officer)


def test_send_a_test_to_me(officer, topics, smtp):
    subscriber = services.subscriber_for(officer)
    subscriber.addresses.create(channel="email", value=officer.email,
                                verified_at=timezone.now())
    alert = make_alert(officer, topics, channels=["email"])
    assert services.send_test(alert, officer) == ["email"]
    assert smtp.messages[0].rcpt_tos == [officer.email]
    assert not Delivery.objects.exists()
