"""The alert report (counts, delays, voice confirmations, failures, CSV) and the list of
subscribers with its counts, aggregated in SQL."""

import csv
import io
from datetime import timedelta

from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from modules.alertes import services
from modules.alertes.models import Alert, Delivery

from .conftest import make_subscriber


def sent_alert(officer, topics):
    now = timezone.now()
    alert = Alert.objects.create(title_fr="Avis", body_fr="x", severity="emergency",
                                 status="sent", sent_at=now, audience_size=5,
                                 created_by=officer, channels=["email", "sms", "voice"])
    rows = [("email", "a@example.com", "sent", 2, None, None, ""),
            ("email", "b@example.com", "failed", None, None, None, "550 no such user"),
            ("sms", "+14505550001", "delivered", 1, 4, None, ""),
            ("voice", "+14505550002", "delivered", 3, 9, 20, ""),
            ("voice", "+14505550003", "failed", None, None, None, "=HYPERLINK(\"x\")")]
    for channel, address, status, sent, delivered, confirmed, error in rows:
        Delivery.objects.create(
            alert=alert, channel=channel, address=address, status=status, error=error,
            sent_at=now + timedelta(seconds=sent) if sent is not None else None,
            delivered_at=now + timedelta(seconds=delivered) if delivered else None,
            acknowledged_at=now + timedelta(seconds=confirmed) if confirmed else None)
    return alert


def test_report_counts_delays_and_voice_confirmations(officer, topics):
    alert = sent_alert(officer, topics)
    with CaptureQueriesContext(connection) as queries:
        data = services.report(alert)
    assert len(queries) == 3  # per channel, failure reasons, failure rows
    by_channel = {c["channel"]: c for c in data["channels"]}
    assert by_channel["email"]["counts"]["sent"] == 1
    assert by_channel["email"]["counts"]["failed"] == 1
    assert by_channel["voice"]["confirmed"] == 1 and data["confirmed"] == 1
    assert by_channel["voice"]["to_first_sent"] == 3.0
    assert by_channel["voice"]["to_last_delivered"] == 9.0
    assert by_channel["sms"]["to_first_delivered"] == 4.0
    assert data["total"] == 5 and data["audience"] == 5
    assert {r["error"] for r in data["reasons"]} == {"550 no such user", '=HYPERLINK("x")'}


def test_report_csv_columns_and_safe_cells(client, officer, topics):
    alert = sent_alert(officer, topics)
    client.force_login(officer)
    response = client.get(f"/admin/alertes/{alert.pk}/rapport.csv")
    assert response.status_code == 200 and response["Content-Type"].startswith("text/csv")
    assert "attachment" in response["Content-Disposition"]
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    # In the officer's language, as the report page: labels, never codes.
    assert rows[0] == ["Canal", "Envois", "En file d’attente", "Envoi en cours", "Envoyé", "Livré",
                       "Échec", "À vérifier", "Appels confirmés",
                       "Première remise au fournisseur", "Dernière remise au fournisseur",
                       "Secondes jusqu’à la première remise",
                       "Secondes jusqu’à la dernière remise", "Première livraison confirmée",
                       "Dernière livraison confirmée",
                       "Secondes jusqu’à la première livraison confirmée",
                       "Secondes jusqu’à la dernière livraison confirmée"]
    voice = next(r for r in rows if r and r[0] == "Appel téléphonique")
    assert voice[1] == "2" and voice[5] == "1" and voice[6] == "1" and voice[8] == "1"
    assert voice[11] == "3.0" and voice[16] == "9.0"
    total = next(r for r in rows if r and r[0] == "Total")
    assert total[1] == "5" and total[8] == "1"
    reasons = rows[rows.index(["Canal", "Statut", "Raison", "Réponse du fournisseur",
                               "Nombre"]) + 1:]
    # The reason in words beside the provider's own; no formula runs.
    assert ["Appel téléphonique", "Échec",
            "Réponse du fournisseur\u00a0: =HYPERLINK(\"x\")",
            "'=HYPERLINK(\"x\")", "1"] in reasons, reasons
    assert not any(code in row for row in rows for code in ("voice", "failed", "sms"))


def test_report_page_shows_confirmations(client, officer, topics):
    alert = sent_alert(officer, topics)
    client.force_login(officer)
    page = client.get(f"/admin/alertes/{alert.pk}/rapport/").content.decode()
    assert "550 no such user" in page and "rapport.csv" in page
    assert "a@example.com" not in page


def test_report_csv_needs_the_alert_permission(client, agent_a, citizen, officer, topics):
    alert = sent_alert(officer, topics)
    client.force_login(agent_a)
    assert client.get(f"/admin/alertes/{alert.pk}/rapport.csv").status_code in (302, 403)
    client.force_login(citizen)
    response = client.get(f"/admin/alertes/{alert.pk}/rapport.csv")
    assert response.status_code == 302 and "login" in response["Location"]


def test_subscriber_counts_per_topic_zone_and_channel(officer, topics, districts):
    north, _south = districts
    make_subscriber(email="a@example.com", sms="+14505550001", topics=[topics["deneigement"]],
                    district=north)
    make_subscriber(email="b@example.com", topics=[topics["deneigement"], topics["loisirs"]])
    gone = make_subscriber(email="c@example.com", topics=[topics["loisirs"]], district=north)
    gone.active = False
    gone.save()
    make_subscriber(voice="+14505550009", verified=False, district=north)
    with CaptureQueriesContext(connection) as queries:
        counts = services.subscriber_counts()
    assert len(queries) == 5
    assert counts["subscribers"] == 3
    topics_n = {t["slug"]: t["n"] for t in counts["topics"]}
    assert topics_n["deneigement"] == 2 and topics_n["loisirs"] == 1
    zones = {z["name"]: z["n"] for z in counts["zones"]}
    assert zones["Nord test"] == 2 and zones["Sud test"] == 0 and counts["no_zone"] == 1
    channels = {c["channel"]: c for c in counts["channels"]}
    assert channels["email"]["n"] == 2 and channels["sms"]["n"] == 1
    assert channels["voice"]["verified"] == 0


def test_subscriber_list_search_and_no_n_plus_one(client, officer, topics, districts):
    for i in range(12):
        make_subscriber(email=f"r{i}@example.com", sms=f"+1450555{i:04d}",
                        topics=[topics["deneigement"]], district=districts[0])
    make_subscriber(email="jeanne@example.com", voice="+14503710001")
    client.force_login(officer)
    with CaptureQueriesContext(connection) as few:
        page = client.get("/admin/alertes/abonnes/?q=450 371-0001")
    assert page.status_code == 200
    html = page.content.decode()
    assert "jeanne@example.com" in html and "r1@example.com" not in html
    with CaptureQueriesContext(connection) as many:
        page = client.get("/admin/alertes/abonnes/")
    assert "r11@example.com" in page.content.decode()
    assert len(many) <= len(few) + 2  # the query count does not grow with the rows
    filtered = client.get("/admin/alertes/abonnes/?channel=voice").content.decode()
    assert "jeanne@example.com" in filtered and "r3@example.com" not in filtered


def test_subscriber_list_is_for_officers(client, agent_a, editor, citizen):
    for user in (agent_a, editor):
        client.force_login(user)
        assert client.get("/admin/alertes/abonnes/").status_code == 302
    client.force_login(citizen)
    assert "login" in client.get("/admin/alertes/abonnes/")["Location"]


def test_report_page_gives_delays_as_a_person_reads_them(client, officer, topics):
    """Tenths of a second under a minute, then minutes and hours; never 3725.0 s."""
    alert = sent_alert(officer, topics)
    late = Delivery.objects.get(alert=alert, channel="sms")
    late.delivered_at = alert.sent_at + timedelta(seconds=3725)
    late.save(update_fields=["delivered_at"])
    client.force_login(officer)
    page = client.get(f"/admin/alertes/{alert.pk}/rapport/").content.decode()
    sms_row = next(row for row in page.split("<tr>")
                   if row.startswith('<th scope="row">Texto (SMS)'))
    assert "1,0 s" in sms_row and "1 h 2 min" in sms_row, sms_row
    assert "3725" not in page and "0:00:" not in page
