"""The Atom feed of the alerts in force, per language; the CAP feed's Canadian profile."""

from datetime import timedelta

from django.test import override_settings
from django.utils import timezone
from lxml import etree as ET

from modules.alertes import cap
from modules.alertes.models import Alert

ATOM = "{http://www.w3.org/2005/Atom}"


def alert(**fields):
    values = {"title_fr": "Avis d'ébullition", "title_en": "Boil-water advisory",
              "body_fr": "Faites bouillir l'eau.", "body_en": "Boil the water.",
              "status": "sent", "sent_at": timezone.now(), **fields}
    return Alert.objects.create(**values)


def entries(response):
    root = ET.fromstring(response.content)
    return [(e.findtext(f"{ATOM}title"), e.findtext(f"{ATOM}id"))
            for e in root.findall(f"{ATOM}entry")]


def test_atom_feed_lists_current_alerts_in_each_language(client, topics):
    current = alert()
    urgent = alert(severity="emergency", title_fr="Fuite de gaz", title_en="Gas leak")
    alert(title_fr="Expirée", expires_at=timezone.now() - timedelta(hours=1))
    alert(title_fr="Brouillon", status="draft", sent_at=None)
    alert(title_fr="Annulation", kind="cancel", references=current)
    response = client.get("/fr/alertes/flux.atom")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/atom+xml")
    titles = [t for t, _id in entries(response)]
    assert titles[1] == "Avis d'ébullition" and len(titles) == 2
    assert "Fuite de gaz" in titles[0] and "Urgence" in titles[0]
    ids = {i for _t, i in entries(response)}
    assert ids == {f"urn:uuid:{current.identifier}", f"urn:uuid:{urgent.identifier}"}
    english = client.get("/en/alertes/flux.atom")
    assert [t for t, _i in entries(english)][1] == "Boil-water advisory"
    assert "/en/alertes/" in english.content.decode()


def test_atom_feed_empty_is_valid(client, db):
    response = client.get("/fr/alertes/flux.atom")
    assert response.status_code == 200 and entries(response) == []


@override_settings(ALERTES_CAP_GEOCODE="2470052")
def test_cap_follows_the_canadian_profile(topics):
    topics["qualite-eau"] = topics["urgences"].__class__.objects.create(
        slug="qualite-eau", name_fr="Qualité de l'eau", name_en="Water quality",
        cap_event="drinkingWate")
    sent = alert()
    sent.topics.set([topics["qualite-eau"]])
    root = ET.fromstring(cap.document(sent))
    ns = {"c": cap.NS}
    assert root.findtext("c:code", namespaces=ns) == "profile:CAP-CP:0.4"
    for info in root.findall("c:info", ns):
        code = info.find("c:eventCode", ns)
        assert code.findtext("c:valueName", namespaces=ns) == "profile:CAP-CP:Event:0.4"
        assert code.findtext("c:value", namespaces=ns) == "drinkingWate"
        geocode = info.find("c:area/c:geocode", ns)
        assert geocode.findtext("c:valueName", namespaces=ns) == "profile:CAP-CP:Location:0.3"
        assert geocode.findtext("c:value", namespaces=ns) == "2470052"
