"""The worker's fan-out mechanics: sending threads, kept-alive provider sessions, URLs
reversed once, outcomes written in bulk — each message still sent once and recorded on
its own row."""

from collections import Counter
from datetime import timedelta
from email import message_from_bytes

import pytest
from django.utils import timezone

from modules.alertes import channels, services, tokens
from modules.alertes.models import Alert, Delivery
from modules.alertes.services import outbox

from .conftest import SID, make_subscriber


def emergency(channel_list):
    return Alert.objects.create(title_fr="Fuite de gaz", body_fr="Évacuez la rue.",
                                sms_fr="Fuite de gaz", voice_fr="Fuite de gaz.",
                                severity="emergency", channels=list(channel_list),
                                status="sending")


def test_many_emails_share_a_few_smtp_sessions(db, smtp):
    for n in range(30):
        make_subscriber(email=f"r{n}@example.com", language="en" if n % 3 else "fr")
    alert = emergency(["email"])
    services.build_outbox(alert)
    ids = list(Delivery.objects.values_list("pk", flat=True))
    assert services.deliver(ids) == {"sent": 30, "failed": 0, "retry": 0, "skipped": 0}
    assert Counter(e.rcpt_tos[0] for e in smtp.messages) == {
        f"r{n}@example.com": 1 for n in range(30)}
    # One session per sending thread for the batch, not one per email.
    assert 1 <= len(smtp.sessions) <= 8
    rows = list(Delivery.objects.all())
    assert all(r.status == "sent" for r in rows)
    # Each row holds its own message's id.
    ids_sent = {message_from_bytes(e.original_content)["Message-ID"].strip("<>")
                for e in smtp.messages}
    assert {r.provider_id for r in rows} == ids_sent


def test_each_email_has_its_own_unsubscribe_link_in_text_html_and_headers(db, smtp):
    first = make_subscriber(email="a@example.com", language="fr")
    second = make_subscriber(email="b@example.com", language="en")
    alert = emergency(["email"])
    services.build_outbox(alert)
    services.deliver(list(Delivery.objects.values_list("pk", flat=True)))
    by_address = {e.rcpt_tos[0]: message_from_bytes(e.original_content)
                  for e in smtp.messages}
    for subscriber, address in ((first, "a@example.com"), (second, "b@example.com")):
        message = by_address[address]
        link = "".join(message["List-Unsubscribe"].split()).strip("<>")
        token = link.rstrip("/").rsplit("/", 1)[1]
        assert tokens.read_unsubscribe_token(token) == subscriber.pk
        parts = {p.get_content_type(): p.get_payload(decode=True).decode()
                 for p in message.walk() if not p.is_multipart()}
        assert link in parts["text/plain"] and link in parts["text/html"]
        assert "PLACEHOLDER" not in parts["text/plain"] + parts["text/html"]
    assert "/en/" in by_address["b@example.com"]["List-Unsubscribe"]


def test_cached_urls_match_reverse(db, settings):
    assert channels.url("alertes:voice_twiml", "en", pk=12) == \
        tokens.absolute("alertes:voice_twiml", "en", pk=12)
    assert channels.url("alertes:voice_twiml", "fr", pk=918273645546372819 + 3) == \
        tokens.absolute("alertes:voice_twiml", "fr", pk=918273645546372819 + 3)
    assert channels.url("alertes:twilio_status") == tokens.absolute("alertes:twilio_status")
    settings.BASE_URL = "https://autre.example"
    assert channels.url("alertes:twilio_status").startswith("https://autre.example/")
    assert channels.unsubscribe_url(7, "en") == tokens.unsubscribe_url(7, "en")


def test_a_chunk_with_mixed_outcomes_is_recorded_row_by_row(db, smtp, twilio):
    """One claimed chunk: emails accepted, SMS answered 429 (retried later), a number
    Twilio calls invalid on the second pass; each row gets its own outcome."""
    twilio.mode = "429-then-ok"
    for n in range(12):
        make_subscriber(email=f"m{n}@example.com", sms=f"+1450555{n:04d}")
    alert = emergency(["email", "sms"])
    services.build_outbox(alert)
    ids = list(Delivery.objects.order_by("pk").values_list("pk", flat=True))
    counts = services.deliver(ids)
    assert counts == {"sent": 12, "failed": 0, "retry": 12, "skipped": 0}
    sms = Delivery.objects.filter(channel="sms")
    assert {(r.status, r.attempts, r.claim) for r in sms} == {("queued", 1, "")}
    assert all(r.not_before > timezone.now() and "429" in r.error for r in sms)
    assert len({r.not_before for r in sms}) > 1  # jitter per row
    # Retry time reached: every SMS leaves once more, with its own sid.
    sms.update(not_before=timezone.now())
    assert services.deliver(ids)["sent"] == 12
    rows = list(Delivery.objects.filter(channel="sms"))
    assert all(r.status == "sent" and r.error == "" for r in rows)
    assert len({r.provider_id for r in rows}) == 12
    assert all(r.provider_id.startswith("SM") for r in rows)
    sent_to = Counter(r["form"]["To"] for r in twilio.requests
                      if r["path"].endswith("Messages.json"))
    assert set(sent_to.values()) == {2}  # the 429 and the accepted message, nothing more
    # A third pass sends nothing: every row is done.
    assert services.deliver(ids)["skipped"] == 24


def test_permanent_failures_in_a_chunk_mark_only_their_addresses(db, twilio):
    twilio.mode = "invalid"
    for n in range(5):
        make_subscriber(sms=f"+1450556{n:04d}")
    alert = emergency(["sms"])
    services.build_outbox(alert)
    ids = list(Delivery.objects.values_list("pk", flat=True))
    assert services.deliver(ids)["failed"] == 5
    rows = list(Delivery.objects.all())
    assert all(r.status == "failed" and "21211" in r.error for r in rows)
    from modules.alertes.models import Address

    assert Address.objects.filter(channel="sms", failing=True).count() == 5


def test_twilio_connections_are_kept_alive(db, twilio):
    """Several messages of a batch reuse the sending threads' HTTP connections."""
    twilio.keep_alive = True
    for n in range(20):
        make_subscriber(sms=f"+1450557{n:04d}")
    alert = emergency(["sms"])
    services.build_outbox(alert)
    services.deliver(list(Delivery.objects.values_list("pk", flat=True)))
    assert len(twilio.requests) == 20
    assert all(r["auth"] for r in twilio.requests)
    assert len(twilio.connections) < 20
    assert all(r["path"] == f"/2010-04-01/Accounts/{SID}/Messages.json"
               for r in twilio.requests)


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_an_emergency_outbox_is_written_and_enqueued_chunk_by_chunk(
        twilio, officer, monkeypatch):
    """Each chunk is committed, then enqueued (the test backend runs the task at once):
    the first messages leave before the rest of the outbox is written."""
    monkeypatch.setattr(outbox, "OUTBOX_FIRST_CHUNK", 2)
    monkeypatch.setattr(outbox, "OUTBOX_MAX_CHUNK", 4)
    for n in range(11):
        make_subscriber(sms=f"+1450558{n:04d}")
    # The same number given by a later subscriber (another chunk) is sent once.
    make_subscriber(sms="+14505580000")
    enqueued = []
    original = outbox._enqueue_ids

    def spy(ids, *args):
        enqueued.append(original(ids, *args))
        return enqueued[-1]

    monkeypatch.setattr(outbox, "_enqueue_ids", spy)
    alert = emergency(["sms"])
    Alert.objects.filter(pk=alert.pk).update(status="draft")
    alert.refresh_from_db()
    assert services.send(alert, officer) == 11
    assert enqueued == [2, 4, 4, 1]  # subscribers 1-2, 3-6, 7-10, 11-12 (12 a duplicate)
    alert.refresh_from_db()
    assert alert.status == "sent" and alert.audience_size == 11
    assert Counter(r["form"]["To"] for r in twilio.requests) == {
        f"+1450558{n:04d}": 1 for n in range(11)}
    owner = Delivery.objects.get(address="+14505580000").subscriber
    assert owner.addresses.get().value == "+14505580000" and owner.pk == min(
        Delivery.objects.values_list("subscriber_id", flat=True))


def test_a_build_stopped_halfway_is_finished_by_the_sweep(
        db, twilio, monkeypatch, django_capture_on_commit_callbacks):
    monkeypatch.setattr(outbox, "OUTBOX_FIRST_CHUNK", 3)
    subscribers = [make_subscriber(sms=f"+1450559{n:04d}") for n in range(8)]
    alert = emergency(["sms"])
    sent_at = timezone.now() - timedelta(minutes=10)
    # The sending process died after its first chunk was committed and handed over.
    Alert.objects.filter(pk=alert.pk).update(audience_size=0, sent_at=sent_at)
    outbox._insert_outbox(alert, sent_at, subscribers=(subscribers[0].pk,
                                                         subscribers[3].pk))
    services.deliver(list(Delivery.objects.values_list("pk", flat=True)))
    assert Delivery.objects.filter(status="sent").count() == 3
    # Every row of that chunk is done, yet the alert is not: the build is unfinished.
    services.refresh_alert_status(alert.pk)
    alert.refresh_from_db()
    assert alert.status == "sending"
    with django_capture_on_commit_callbacks(execute=True):
        result = services.dispatch_due()
    assert result["resumed"] == 1
    alert.refresh_from_db()
    assert alert.status == "sent" and alert.audience_size == 8
    assert Counter(r["form"]["To"] for r in twilio.requests) == {
        f"+1450559{n:04d}": 1 for n in range(8)}
    # Nothing left to resume.
    assert "resumed" not in services.dispatch_due()


def test_a_recent_build_is_left_to_its_process(db, twilio):
    make_subscriber(sms="+14505560001")
    alert = emergency(["sms"])
    Alert.objects.filter(pk=alert.pk).update(audience_size=0, sent_at=timezone.now())
    assert "resumed" not in services.dispatch_due()
    assert not Delivery.objects.exists()


def _parts(message):
    return {p.get_content_type(): p.get_payload(decode=True).decode()
            for p in message.walk() if not p.is_multipart()}


def _unfold(value):
    return "".join(str(value).split())


def test_the_batch_email_is_the_ordinary_message_with_its_own_recipient(db, smtp):
    """Within a batch, emails are sent from bytes generated once per alert and language;
    each must read exactly as the message built the ordinary way for its recipient."""
    subscribers = [make_subscriber(email=f"z{n}@example.com", language=lang)
                   for n, lang in enumerate(["fr", "en", "fr"])]
    alert = emergency(["email"])
    Alert.objects.filter(pk=alert.pk).update(title_fr="Fuite de gaz à l'école",
                                             title_en="Gas leak", body_en="Leave.")
    services.build_outbox(alert)
    services.deliver(list(Delivery.objects.values_list("pk", flat=True)))
    received = {e.rcpt_tos[0]: message_from_bytes(e.original_content) for e in smtp.messages}
    assert len(received) == 3
    ordinary_channel = channels.EmailChannel()
    message_ids = set()
    for subscriber in subscribers:
        delivery = Delivery.objects.select_related("alert").get(subscriber=subscriber)
        fast = received[delivery.address]
        ordinary = ordinary_channel.message(delivery).message()
        for header in ("Subject", "From", "To", "MIME-Version", "List-Unsubscribe-Post",
                       "Content-Type"):
            if header == "Content-Type":
                assert fast.get_content_type() == ordinary.get_content_type()
                continue
            assert _unfold(fast[header]) == _unfold(ordinary[header]), header
        assert fast["To"] == delivery.address and fast["Date"]
        link = _unfold(fast["List-Unsubscribe"]).strip("<>")
        expected = _unfold(ordinary["List-Unsubscribe"]).strip("<>")
        assert link.rsplit("/", 2)[0] == expected.rsplit("/", 2)[0]
        assert tokens.read_unsubscribe_token(link.rstrip("/").rsplit("/", 1)[1]) == \
            subscriber.pk
        fast_parts, ordinary_parts = _parts(fast), _parts(ordinary)
        assert fast_parts.keys() == ordinary_parts.keys() == {"text/plain", "text/html"}
        for kind, text in fast_parts.items():
            token = link.rstrip("/").rsplit("/", 1)[1]
            other = expected.rstrip("/").rsplit("/", 1)[1]
            assert text.replace("\r\n", "\n") == ordinary_parts[kind].replace(other, token)
        message_ids.add(fast["Message-ID"])
        assert delivery.provider_id == fast["Message-ID"].strip("<>")
    assert len(message_ids) == 3


def test_an_address_needing_encoding_is_sent_the_ordinary_way(db, smtp):
    make_subscriber(email="élodie@exemple.example")
    alert = emergency(["email"])
    services.build_outbox(alert)
    assert services.deliver(list(Delivery.objects.values_list("pk", flat=True)))["sent"] == 1
    assert len(smtp.messages) == 1


def test_enqueueing_reads_ids_page_by_page(db, twilio, monkeypatch):
    monkeypatch.setattr(outbox, "ENQUEUE_PAGE", 3)
    monkeypatch.setattr(outbox, "BATCH_SIZE", 2)
    for n in range(7):
        make_subscriber(sms=f"+1450554{n:04d}")
    alert = emergency(["sms"])
    services.build_outbox(alert)
    ids = list(Delivery.objects.order_by("pk").values_list("pk", flat=True))
    Delivery.objects.filter(pk=ids[0]).update(status="review")
    # Given ids: only the queued ones, each once, across pages.
    assert services.enqueue_deliveries(ids=[*ids, ids[3]]) == 6
    assert Counter(r["form"]["To"] for r in twilio.requests).most_common(1)[0][1] == 1
    assert Delivery.objects.filter(status="sent").count() == 6
    # Nothing queued is left: a second pass enqueues nothing.
    assert services.enqueue_deliveries(alert.pk) == 0


def test_deleting_an_alert_still_removes_its_outbox(db):
    """The outbox's link to its alert has no database constraint (a per-row check that
    cost the city-wide build a second): Django's cascade must remove the rows, or an
    alert deleted from the admin would leave its recipients' addresses behind."""
    for n in range(3):
        make_subscriber(sms=f"+1450557{n:04d}")
    kept, deleted = emergency(["sms"]), emergency(["sms"])
    services.build_outbox(kept)
    services.build_outbox(deleted)
    assert Delivery.objects.filter(alert=deleted).count() == 3
    deleted.delete()
    assert not Delivery.objects.filter(alert_id=deleted.pk).exists()
    assert Delivery.objects.filter(alert=kept).count() == 3
