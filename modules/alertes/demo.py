"""Demo data of `alertes` (idempotent): topics, ~500 subscribers spread over the demo
districts, and three sent alerts with their delivery history."""

from __future__ import annotations

from datetime import time, timedelta

from django.db import transaction
from django.utils import timezone

from hub.models import CivicAddress, District

from .models import Address, Alert, Delivery, Subscriber, Topic, TopicSubscription

TOPICS = [
    ("urgences", "Urgences", "Emergencies", True,
     "Transmises à toute personne joignable dans la zone touchée.",
     "Sent to every reachable resident of the area concerned."),
    ("deneigement", "Déneigement et stationnement", "Snow removal and parking bans", False,
     "", ""),
    ("collectes", "Collectes des matières résiduelles", "Waste collection", False, "", ""),
    ("travaux", "Travaux et fermetures de rues", "Roadwork and closures", False, "", ""),
    ("qualite-eau", "Qualité de l'eau", "Water quality", False,
     "Dont les avis d'ébullition.", "Including boil-water notices."),
    ("loisirs", "Loisirs et événements", "Leisure and events", False, "", ""),
    ("nouvelles", "Nouvelles de la Ville", "City news", False, "", ""),
]
# Each topic's CAP-CP event code in the CAP feed (cap_cp.EVENTS; editable per topic).
CAP_EVENTS = {
    "urgences": "civilEmerg",       # civil emergency
    "deneigement": "roadUsage",     # roadway usage condition: parking bans for snow removal
    "collectes": "waste",           # waste management
    "travaux": "roadClose",         # roadway closure
    "qualite-eau": "drinkingWate",  # drinking water (boil-water notices)
    "loisirs": "civilEvent",        # public event
    "nouvelles": "other",           # special message
}
SUBSCRIBERS = 500
DEMO_PREFIX = "Résident démo "

ALERTS = [
    {"slug": "travaux", "severity": "notice", "days_ago": 3,
         "title_fr": "Fermeture complète du pont Salaberry",
         "title_en": "Full closure of the Salaberry bridge",
         "body_fr": "Le pont Salaberry est fermé à toute circulation du 25 au 27 novembre pour "
                 "des travaux de réfection. Un détour est indiqué par le boulevard Mgr-Langlois.",
         "body_en": "The Salaberry bridge is closed to all traffic from November 25 to 27 for "
                 "repairs. A detour is marked via boulevard Mgr-Langlois.",
         "sms_fr": "Valleyfield: pont Salaberry ferme du 25 au 27 nov. Detour par Mgr-Langlois.",
         "sms_en": "Valleyfield: Salaberry bridge closed Nov 25-27. Detour via Mgr-Langlois."},
    {"slug": "deneigement", "severity": "info", "days_ago": 2,
         "title_fr": "Interdiction de stationner: opération de déneigement cette nuit",
         "title_en": "Parking ban: snow removal tonight",
         "body_fr": "Stationnement interdit dans les rues de 23 h à 7 h pour le déneigement.",
         "body_en": "No street parking from 11 p.m. to 7 a.m. for snow removal.",
         "sms_fr": "Valleyfield: stationnement interdit dans la rue de 23h a 7h (deneigement).",
         "sms_en": "Valleyfield: no street parking 11pm-7am tonight (snow removal)."},
    {"slug": "qualite-eau", "severity": "notice", "days_ago": 1, "district": True,
         "title_fr": "Avis préventif d'ébullition de l'eau",
         "title_en": "Precautionary boil-water notice",
         "body_fr": "Faites bouillir l'eau une minute avant de la boire, jusqu'à nouvel ordre.",
         "body_en": "Boil water for one minute before drinking it, until further notice.",
         "sms_fr": "Valleyfield: avis d'ebullition. Faites bouillir l'eau 1 minute avant "
                   "de la boire.",
         "sms_en": "Valleyfield: boil-water notice. Boil water 1 minute before drinking."},
]


@transaction.atomic
def load() -> None:
    topics = {}
    for order, (slug, fr, en, emergency, dfr, den) in enumerate(TOPICS):
        topics[slug], _ = Topic.objects.update_or_create(slug=slug, defaults={
            "name_fr": fr, "name_en": en, "is_emergency": emergency, "order": order * 10,
            "description_fr": dfr, "description_en": den, "cap_event": CAP_EVENTS[slug]})
    if not Subscriber.objects.filter(name__startswith=DEMO_PREFIX).exists():
        _subscribers(topics)
    for spec in ALERTS:
        _alert(spec, topics)


def _subscribers(topics: dict) -> None:
    # Residents live at addresses of the hub's register; their district follows it.
    homes = [(a.label, a.district) for a in CivicAddress.objects.exclude(district=None)
             .select_related("district").order_by("pk")[:SUBSCRIBERS]]
    if not homes:
        homes = [("", district) for district in District.objects.all()] or [("", None)]
    now = timezone.now()
    Subscriber.objects.bulk_create([
        Subscriber(name=f"{DEMO_PREFIX}{n:03d}", language="en" if n % 5 == 0 else "fr",
                   civic_address=homes[n % len(homes)][0],
                   district=homes[n % len(homes)][1], created_at=now,
                   quiet_start=time(22) if n % 7 == 0 else None,
                   quiet_end=time(7) if n % 7 == 0 else None)
        for n in range(SUBSCRIBERS)], batch_size=500)
    ids = list(Subscriber.objects.filter(name__startswith=DEMO_PREFIX)
               .order_by("pk").values_list("pk", flat=True))
    addresses, subscriptions = [], []
    slugs = [slug for slug in topics if slug != "urgences"]
    for n, pk in enumerate(ids):
        addresses.append(Address(subscriber_id=pk, channel="email", verified_at=now,
                                 value=f"resident.demo.{n:03d}@example.com"))
        if n % 2 == 0:
            addresses.append(Address(subscriber_id=pk, channel="sms", verified_at=now,
                                     value=f"+1450555{n:04d}"))
        if n % 10 == 0:
            addresses.append(Address(subscriber_id=pk, channel="voice",
                                     value=f"+1450377{n:04d}"))
        chosen = {"urgences", slugs[n % len(slugs)], slugs[(n * 3 + 1) % len(slugs)]}
        subscriptions += [TopicSubscription(subscriber_id=pk, topic=topics[s]) for s in chosen]
    Address.objects.bulk_create(addresses, batch_size=1000)
    TopicSubscription.objects.bulk_create(subscriptions, batch_size=1000)


def _alert(spec: dict, topics: dict) -> None:
    from . import services

    if Alert.objects.filter(title_fr=spec["title_fr"]).exists():
        return
    sent_at = timezone.now() - timedelta(days=spec["days_ago"])
    fields = {k: v for k, v in spec.items() if k not in ("slug", "days_ago", "district")}
    alert = Alert.objects.create(channels=["email", "sms"], status="draft",
                                 expires_at=sent_at + timedelta(hours=12), **fields)
    alert.topics.set([topics[spec["slug"]]])
    if spec.get("district"):
        first = District.objects.order_by("pk").first()
        if first:
            alert.districts.set([first])
    services.build_outbox(alert, now=sent_at)
    rows = Delivery.objects.filter(alert=alert)
    rows.update(status="delivered", attempts=1, sent_at=sent_at + timedelta(seconds=20),
                delivered_at=sent_at + timedelta(seconds=45), not_before=None)
    failed = list(rows.order_by("pk").values_list("pk", flat=True)[::37])
    Delivery.objects.filter(pk__in=failed).update(
        status="failed", delivered_at=None, failed_at=sent_at + timedelta(seconds=30),
        error="HTTP 400 Twilio 21211: invalid 'To' phone number")
    Alert.objects.filter(pk=alert.pk).update(status="sent", sent_at=sent_at,
                                             audience_size=rows.count())
    # Published in Wagtail's sense too, so the admin lists it as live with its revision.
    alert.refresh_from_db()
    revision = alert.save_revision(clean=False)
    Alert.objects.filter(pk=alert.pk).update(
        live=True, live_revision=revision, has_unpublished_changes=False,
        first_published_at=sent_at, last_published_at=sent_at)
