""""Alert in force" is one rule (``Alert.objects.active()``, ``Alert.is_active`` for one
alert): the public page, the emergency banner, the Atom feed and the API's ``?active=1``
show exactly the alerts it selects."""

from datetime import timedelta

from django.test import RequestFactory
from django.utils import timezone
from lxml import etree

from modules.alertes import plugin, services
from modules.alertes.models import Alert

ATOM = "{http://www.w3.org/2005/Atom}"


def make(title, **extra):
    fields = {"title_fr": title, "body_fr": "Texte.", "severity": "notice", "status": "sent",
              "sent_at": timezone.now(), **extra}
    return Alert.objects.create(**fields)


def test_every_public_output_shows_the_alerts_in_force(client, db):
    now = timezone.now()
    notice = make("En vigueur")
    emergency = make("Urgence en cours", severity="emergency", status="sending")
    later = make("Expire demain", expires_at=now + timedelta(days=1))
    make("Expirée", expires_at=now - timedelta(minutes=1))
    make("Urgence expirée", severity="emergency", expires_at=now - timedelta(minutes=1))
    make("Annulation", kind="cancel", references=notice)
    make("Annulée", status="cancelled")
    make("Brouillon", status="draft", sent_at=None)
    make("Programmée", status="scheduled", sent_at=None, send_at=now + timedelta(hours=1))

    in_force = {notice.pk, emergency.pk, later.pk}
    assert set(Alert.objects.active().values_list("pk", flat=True)) == in_force
    assert {a.pk for a in Alert.objects.all() if a.is_active(now)} == in_force
    # At another moment the same rule holds: tomorrow's expiry has passed.
    tomorrow = now + timedelta(days=2)
    assert set(Alert.objects.active(tomorrow).values_list("pk", flat=True)) == in_force - {
        later.pk}
    assert {a.pk for a in Alert.objects.all() if a.is_active(tomorrow)} == in_force - {
        later.pk}

    page = client.get("/fr/alertes/")
    assert {a.pk for a in page.context["alerts"]} == in_force

    feed = etree.fromstring(client.get("/fr/alertes/flux.atom").content)
    guids = {e.findtext(f"{ATOM}id") for e in feed.iter(f"{ATOM}entry")}
    assert guids == {f"urn:uuid:{a.identifier}" for a in Alert.objects.filter(pk__in=in_force)}

    data = client.get("/api/v1/alerts/?active=1").json()
    rows = data["results"] if isinstance(data, dict) else data
    assert {row["id"] for row in rows} == in_force
    assert all(row["active"] for row in rows)

    request = RequestFactory().get("/fr/")
    banners = plugin.hub_banners(request)
    assert [b["url"] for b in banners] == [f"/fr/alertes/{emergency.pk}/"]
    assert [a.pk for a in services.emergencies_in_force()] == [emergency.pk]
