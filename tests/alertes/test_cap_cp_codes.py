"""CAP-CP event codes: every topic maps to a code of the Canadian profile's event list
(``profile:CAP-CP:Event:0.4``), chosen per topic in the admin, with the CAP category that
goes with it; every demo alert's CAP document validates against the OASIS CAP 1.2 schema
and carries its topic's code."""

import re

import pytest
from django.utils import timezone
from lxml import etree

from modules.alertes import cap_cp
from modules.alertes import demo as alertes_demo
from modules.alertes.models import Alert, Topic

from .test_public import validate

NS = {"c": "urn:oasis:names:tc:emergency:cap:1.2"}
CAP_CATEGORIES = {"Geo", "Met", "Safety", "Security", "Rescue", "Fire", "Health", "Env",
                  "Transport", "Infra", "CBRNE", "Other"}  # CAP 1.2 §3.2.2
EXPECTED = {  # the demo's topics and the CAP-CP event each one's alerts carry
    "urgences": ("civilEmerg", "Safety"),
    "deneigement": ("roadUsage", "Transport"),
    "collectes": ("waste", "Infra"),
    "travaux": ("roadClose", "Transport"),
    "qualite-eau": ("drinkingWate", "Health"),
    "loisirs": ("civilEvent", "Other"),
    "nouvelles": ("other", "Other"),
}


def infos(xml: bytes):
    """``[(language, [categories], [(valueName, value)])]`` of a validated document."""
    document = validate(xml)
    return [(info.findtext("c:language", namespaces=NS),
             [c.text for c in info.findall("c:category", NS)],
             [(code.findtext("c:valueName", namespaces=NS),
               code.findtext("c:value", namespaces=NS))
              for code in info.findall("c:eventCode", NS)])
            for info in document.findall("c:info", NS)]


def cap_of(client, alert) -> bytes:
    response = client.get(f"/alertes/cap/{alert.pk}.xml")
    assert response.status_code == 200
    return response.content


def sent(alert_topics, **fields):
    alert = Alert.objects.create(**{
        "title_fr": "Avis", "title_en": "Notice", "body_fr": "Texte.", "body_en": "Text.",
        "severity": "notice", "channels": ["email"], "status": "sent",
        "sent_at": timezone.now(), **fields})
    alert.topics.set(alert_topics)
    return alert


def test_the_code_list_is_cap_cp_shaped():
    assert len(cap_cp.EVENTS) > 40
    for code, (category, label) in cap_cp.EVENTS.items():
        # CAP-CP event codes: a letter or digit, then letters/digits, 12 characters at most.
        assert re.fullmatch(r"[0-9A-Za-z]{1,12}", code), code
        assert category in CAP_CATEGORIES and str(label)
    assert [code for code, _label in cap_cp.event_choices()] == list(cap_cp.EVENTS)
    assert cap_cp.known("drinkingWater") == "other"  # the 12-character list has no such code


def test_every_demo_topic_has_its_cap_cp_event(site):
    alertes_demo.load()
    topics = {t.slug: t for t in Topic.objects.all()}
    assert set(EXPECTED) <= set(topics)
    for slug, (code, category) in EXPECTED.items():
        assert topics[slug].cap_event == code, slug
        assert code in cap_cp.EVENTS and cap_cp.category(code) == category
    assert set(alertes_demo.CAP_EVENTS) == {slug for slug, *_rest in alertes_demo.TOPICS}


def test_every_demo_alert_validates_and_carries_its_topics_code(client, site):
    alertes_demo.load()
    demo_alerts = list(Alert.objects.filter(status="sent"))
    # The demo's alerts and its two corrections; the cancelled parking ban is no longer
    # "sent", its cancellation is.
    cancelled = {alertes_demo.ALERTS[c["of"]]["title_fr"]
                 for c in alertes_demo.CORRECTIONS if c["kind"] == "cancel"}
    assert {a.title_fr for a in demo_alerts} == (
        {a["title_fr"] for a in alertes_demo.ALERTS} - cancelled
        | {c["title_fr"] for c in alertes_demo.CORRECTIONS})
    # One more alert per demo topic, so every topic's code goes through the CAP feed too,
    # emergencies included.
    for topic in Topic.objects.all():
        demo_alerts.append(sent([topic], title_fr=f"Essai {topic.slug}",
                                severity="emergency" if topic.is_emergency else "info"))
    seen = set()
    for alert in demo_alerts:
        [topic] = alert.topics.all()
        code, category = EXPECTED[topic.slug]
        documents = infos(cap_of(client, alert))
        assert [language for language, *_rest in documents] == ["fr-CA", "en-CA"]
        for _language, categories, codes in documents:
            assert codes == [("profile:CAP-CP:Event:0.4", code)], alert.title_fr
            assert categories == [category]
        seen.add(topic.slug)
    assert seen == set(EXPECTED)
    # The feed lists the demo's documents, each valid.
    feed = etree.fromstring(client.get("/alertes/cap.atom").content)
    hrefs = [link.get("href") for link in feed.iter("{http://www.w3.org/2005/Atom}link")
             if link.get("href", "").endswith(".xml")]
    assert len(hrefs) >= len(alertes_demo.ALERTS)
    for href in hrefs:
        path = re.sub(r"^https?://[^/]+", "", href)
        infos(client.get(path).content)


def test_the_bridge_closure_the_parking_ban_and_the_boil_water_notice(client, site):
    alertes_demo.load()
    by_title = {a.title_fr: a for a in Alert.objects.filter(kind=Alert.Kind.ALERT)}
    for title, code in (("Fermeture complète du pont Salaberry", "roadClose"),
                        ("Interdiction de stationner: opération de déneigement cette nuit",
                         "roadUsage"),
                        ("Avis préventif d'ébullition de l'eau", "drinkingWate")):
        [(_l, _c, codes), _en] = infos(cap_of(client, by_title[title]))
        assert codes == [("profile:CAP-CP:Event:0.4", code)]


def test_emergencies_without_a_topic_code_get_the_configurable_default(client, topics,
                                                                       settings):
    plain = Topic.objects.create(slug="divers", name_fr="Divers")
    emergency = sent([plain], severity="emergency")
    notice = sent([plain])
    [(_l, categories, codes), _en] = infos(cap_of(client, emergency))
    assert codes == [("profile:CAP-CP:Event:0.4", "civilEmerg")] and categories == ["Safety"]
    [(_l, categories, codes), _en] = infos(cap_of(client, notice))
    assert codes == [("profile:CAP-CP:Event:0.4", "other")] and categories == ["Other"]

    settings.ALERTES_CAP_EMERGENCY_EVENT = "hazmat"
    settings.ALERTES_CAP_DEFAULT_EVENT = "publicServic"
    [(_l, categories, codes), _en] = infos(cap_of(client, emergency))
    assert codes == [("profile:CAP-CP:Event:0.4", "hazmat")] and categories == ["CBRNE"]
    [(_l, categories, codes), _en] = infos(cap_of(client, notice))
    assert codes == [("profile:CAP-CP:Event:0.4", "publicServic")] and categories == ["Infra"]

    settings.ALERTES_CAP_EMERGENCY_EVENT = "pasUnCode"  # a typo is not sent as a code
    [(_l, categories, codes), _en] = infos(cap_of(client, emergency))
    assert codes == [("profile:CAP-CP:Event:0.4", "other")] and categories == ["Other"]


def test_an_emergency_on_a_topic_with_a_code_carries_the_topics_code(client, topics):
    water = Topic.objects.create(slug="eau", name_fr="Eau", cap_event="drinkingWate")
    [(_l, categories, codes), _en] = infos(cap_of(client, sent([water], severity="emergency")))
    assert codes == [("profile:CAP-CP:Event:0.4", "drinkingWate")]
    assert categories == ["Health"]


def test_several_topics_give_each_code_and_category_once(client, topics):
    road = Topic.objects.create(slug="routes", name_fr="Routes", cap_event="roadClose",
                                order=1)
    snow = Topic.objects.create(slug="neige", name_fr="Neige", cap_event="roadUsage",
                                order=2)
    water = Topic.objects.create(slug="eau", name_fr="Eau", cap_event="drinkingWate",
                                 order=3)
    again = Topic.objects.create(slug="ponts", name_fr="Ponts", cap_event="roadClose",
                                 order=4)
    [(_l, categories, codes), _en] = infos(cap_of(client, sent([road, snow, water, again])))
    assert [value for _name, value in codes] == ["roadClose", "roadUsage", "drinkingWate"]
    assert categories == ["Transport", "Health"]


# --- the admin ------------------------------------------------------------------------

def test_the_topic_code_is_chosen_in_the_admin(client, administrator, topics):
    topic = topics["deneigement"]
    url = f"/admin/snippets/alertes/topic/edit/{topic.pk}/"
    client.force_login(administrator)
    page = client.get(url).content.decode()
    assert 'name="cap_event"' in page and 'value="roadUsage"' in page
    form = {"slug": topic.slug, "name_fr": topic.name_fr, "name_en": topic.name_en,
            "description_fr": "", "description_en": "", "order": topic.order}
    response = client.post(url, {**form, "cap_event": "snowfall"})
    assert response.status_code == 302
    topic.refresh_from_db()
    assert topic.cap_event == "snowfall"
    refused = client.post(url, {**form, "cap_event": "drinkingWater"})  # not a CAP-CP code
    assert refused.status_code == 200
    assert "cap_event" in refused.context["form"].errors
    topic.refresh_from_db()
    assert topic.cap_event == "snowfall"


@pytest.mark.parametrize("code", ["roadClose", "roadUsage", "drinkingWate", "civilEmerg"])
def test_choices_are_labelled_with_the_code(code):
    labels = dict(cap_cp.event_choices())
    assert labels[code].endswith(f"({code})")
