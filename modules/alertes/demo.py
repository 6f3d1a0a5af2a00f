"""Demo data of `alertes` (idempotent): topics, ~500 subscribers spread over the demo
districts, three sent alerts with their delivery history, an update of one and the
cancellation of another (the CAP feed's ``references``), two communications officers (one
approves) with an alert the first submitted for approval, and the demo resident's
subscription (their verified account email, a mobile number, three topics)."""

from __future__ import annotations

from datetime import time, timedelta

from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils import timezone

from hub.models import CivicAddress, District
from hub.roles import demo_account

from .models import Address, Alert, Delivery, Subscriber, Topic, TopicSubscription
from .roles import APPROVERS, COMMUNICATIONS_OFFICERS

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
    for spec in CORRECTIONS:
        _correction(spec)
    officer, _approver = load_officers()
    _pending_alert(officer, topics)
    _resident_subscription(topics)


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
    _mark_sent(alert, sent_at, failures=True)


def _mark_sent(alert: Alert, sent_at, *, failures: bool) -> None:
    """The alert as if it had gone out at ``sent_at``: its outbox written and delivered
    (every 37th delivery failed when ``failures``), then live in Wagtail's sense."""
    from . import services

    services.build_outbox(alert, now=sent_at)
    rows = Delivery.objects.filter(alert=alert)
    rows.update(status="delivered", attempts=1, sent_at=sent_at + timedelta(seconds=20),
                delivered_at=sent_at + timedelta(seconds=45), not_before=None)
    if failures:
        failed = list(rows.order_by("pk").values_list("pk", flat=True)[::37])
        Delivery.objects.filter(pk__in=failed).update(
            status="failed", delivered_at=None, failed_at=sent_at + timedelta(seconds=30),
            error="HTTP 400 Twilio 21211: invalid 'To' phone number")
    Alert.objects.filter(pk=alert.pk).update(status="sent", sent_at=sent_at,
                                             audience_size=rows.count())
    if alert.kind == Alert.Kind.CANCEL and alert.references_id:
        Alert.objects.filter(pk=alert.references_id).update(status=Alert.Status.CANCELLED)
    # Published in Wagtail's sense too, so the admin lists it as live with its revision.
    alert.refresh_from_db()
    revision = alert.save_revision(clean=False)
    Alert.objects.filter(pk=alert.pk).update(
        live=True, live_revision=revision, has_unpublished_changes=False,
        first_published_at=sent_at, last_published_at=sent_at)


# An update of the bridge closure and the cancellation of the parking ban: each is a
# correction (``services.create_correction``) whose CAP document carries ``msgType``
# Update or Cancel and the ``references`` of the original.
CORRECTIONS = [
    {"of": 0, "kind": "update", "hours_ago": 50,
     "title_fr": "Mise à jour\u00a0: le pont Salaberry rouvre le 26 novembre",
     "title_en": "Update: the Salaberry bridge reopens on November 26",
     "body_fr": "Les travaux avancent plus vite que prévu\u00a0: le pont Salaberry rouvrira "
                "à la circulation le 26 novembre à 6\u00a0h, un jour plus tôt qu’annoncé.",
     "body_en": "The work is ahead of schedule: the Salaberry bridge reopens to traffic on "
                "November 26 at 6 a.m., a day earlier than announced.",
     "sms_fr": "Valleyfield: le pont Salaberry rouvre le 26 nov. a 6h (un jour plus tot).",
     "sms_en": "Valleyfield: Salaberry bridge reopens Nov 26 at 6am (a day early)."},
    {"of": 1, "kind": "cancel", "hours_ago": 44,
     "title_fr": "Annulé\u00a0: pas d’interdiction de stationner cette nuit",
     "title_en": "Cancelled: no parking ban tonight",
     "body_fr": "L’opération de déneigement est reportée\u00a0: vous pouvez stationner dans "
                "la rue cette nuit.",
     "body_en": "The snow removal operation is postponed: you may park on the street "
                "tonight.",
     "sms_fr": "Valleyfield: deneigement reporte, le stationnement est permis cette nuit.",
     "sms_en": "Valleyfield: snow removal postponed, street parking allowed tonight."},
]


def _correction(spec: dict) -> None:
    from . import services

    if Alert.objects.filter(title_fr=spec["title_fr"]).exists():
        return
    original = Alert.objects.filter(title_fr=ALERTS[spec["of"]]["title_fr"],
                                    kind=Alert.Kind.ALERT).first()
    if original is None or original.status != Alert.Status.SENT:
        return
    sent_at = timezone.now() - timedelta(hours=spec["hours_ago"])
    texts = {k: v for k, v in spec.items() if k not in ("of", "kind", "hours_ago")}
    if spec["kind"] == "update":
        texts["expires_at"] = sent_at + timedelta(days=2)
    correction = services.create_correction(original, spec["kind"], None, **texts)
    _mark_sent(correction, sent_at, failures=False)


# Two communications officers (README: "Demo accounts"): the first writes and submits,
# the second also approves (four eyes: nobody approves what they submitted).
OFFICERS = [("agente.communications@example.com", "Isabelle", "Caron",
             [COMMUNICATIONS_OFFICERS]),
            ("approbateur.communications@example.com", "François", "Bélanger",
             [COMMUNICATIONS_OFFICERS, APPROVERS])]

PENDING = {
    "severity": "info", "channels": ["email", "sms"],
    "title_fr": "Collecte des encombrants devancée au samedi 6 décembre",
    "title_en": "Bulky item pickup moved up to Saturday, December 6",
    "body_fr": "La collecte des encombrants de décembre aura lieu le samedi 6 décembre "
               "plutôt que le lundi 8. Déposez vos objets en bordure de rue la veille, "
               "après 19\u00a0h.",
    "body_en": "December's bulky item pickup takes place on Saturday, December 6 instead "
               "of Monday the 8th. Put your items at the curb the evening before, after "
               "7 p.m.",
    "sms_fr": "Valleyfield: collecte des encombrants devancee au samedi 6 dec. Deposez vos "
              "objets la veille apres 19h.",
    "sms_en": "Valleyfield: bulky item pickup moved to Sat Dec 6. Put items out the "
              "evening before after 7pm.",
}


def load_officers():
    return tuple(demo_account(email, first_name=first, last_name=last, groups=groups)
                 for email, first, last, groups in OFFICERS)


def _pending_alert(officer, topics: dict) -> None:
    """An alert the first officer wrote and submitted to "Approbation des alertes", for
    the second to approve (once: an approved one is not written again)."""
    if Alert.objects.filter(title_fr=PENDING["title_fr"]).exists():
        return
    alert = Alert.objects.create(created_by=officer, status="draft",
                                 expires_at=timezone.now() + timedelta(days=3), **PENDING)
    alert.topics.set([topics["collectes"]])
    alert.save_revision(user=officer)
    workflow = alert.get_workflow()
    if workflow is not None:
        workflow.start(alert, officer)


RESIDENT_EMAIL = "resident@example.com"  # the hub's demo resident
RESIDENT_TOPICS = ("travaux", "deneigement", "collectes")
RESIDENT_MOBILE = "+14505550141"


def _resident_subscription(topics: dict) -> None:
    """The demo resident subscribed to three topics, reached at their account's verified
    email (offered without a new confirmation) and a confirmed mobile number.  Set once:
    what the evaluator changes afterwards stays."""
    from django.core.exceptions import ValidationError

    from . import services

    resident = get_user_model().objects.filter(email=RESIDENT_EMAIL, is_active=True).first()
    if resident is None:
        return
    subscriber = services.subscriber_for(resident)
    if TopicSubscription.objects.filter(subscriber=subscriber).exists():
        return
    chosen = [topics[slug] for slug in RESIDENT_TOPICS]
    try:
        services.update_preferences(subscriber, topics=chosen, language="fr",
                                    civic_address=resident.civic_address, actor=resident)
    except ValidationError:  # the address is not in this city's register
        services.update_preferences(subscriber, topics=chosen, language="fr",
                                    district=District.objects.order_by("pk").first(),
                                    actor=resident)
    if resident.has_verified_email():
        services.add_account_email(subscriber, resident)
    services.add_address(subscriber, "sms", RESIDENT_MOBILE, actor=resident, verified=True)
