"""Demo content of `requetes`: the categories the city lists (French and English, some
with questions) and ~300 requests over the past year with realistic histories, so the
queue and the figures show something real.  Idempotent: categories are updated by
service code, requests are keyed by a deterministic submission key."""

from __future__ import annotations

import datetime
import random
import uuid

from django.contrib.auth import get_user_model
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from hub.models import Department
from hub.roles import demo_account

from . import services
from .models import Category, Question, ReferenceCounter, RequestEvent, ServiceRequest
from .roles import DEPARTMENT_AGENTS

# (service_code, French, English, group, department slug, service-level days)
CATEGORIES = [
    ("deneigement", "Déneigement", "Snow removal", "roads", "travaux-publics", 2),
    ("voirie", "Voirie (nids-de-poule, chaussée)", "Roads (potholes, pavement)", "roads",
     "travaux-publics", 10),
    ("signalisation", "Signalisation", "Signage", "roads", "travaux-publics", 5),
    ("aqueduc", "Aqueduc", "Water main", "water", "travaux-publics", 2),
    ("egouts", "Égouts", "Sewers", "water", "travaux-publics", 3),
    ("ordures", "Ordures", "Garbage", "waste", "environnement", 3),
    ("recyclage", "Recyclage", "Recycling", "waste", "environnement", 3),
    ("compost", "Compost", "Compost", "waste", "environnement", 3),
    ("proprete", "Propreté de l'espace public", "Cleanliness of public space", "waste",
     "environnement", 5),
    ("animaux", "Animaux", "Animals", "animals", "environnement", 2),
    ("arbres", "Arbres et végétaux", "Trees and plants", "parks", "environnement", 15),
    ("batiments", "Bâtiments municipaux", "Municipal buildings", "buildings", "loisirs", 10),
    ("eclairage", "Éclairage de rue", "Street lighting", "roads", "travaux-publics", 5),
    ("mobilier-urbain", "Mobilier urbain", "Street furniture", "parks", "travaux-publics",
     10),
    ("equipements-sportifs", "Équipements sportifs", "Sports equipment", "parks", "loisirs",
     10),
    ("parcs-jeux", "Aires de jeux", "Playgrounds", "parks", "loisirs", 5),
]

# What each category covers, in words other than its name (the list shows both).
DESCRIPTIONS = {
    "deneigement": ("Rue ou trottoir non déblayé, banc de neige qui bloque une entrée ou "
                    "une borne d’incendie.",
                    "Street or sidewalk not cleared, a snowbank blocking a driveway or a "
                    "fire hydrant."),
    "voirie": ("Trou dans la chaussée, asphalte fissuré ou affaissé, bordure brisée.",
               "A hole in the road, cracked or sunken asphalt, a broken curb."),
    "signalisation": ("Panneau tombé, effacé ou caché par la végétation, feu de "
                      "circulation en panne.",
                      "A sign knocked down, faded or hidden by plants, a traffic light "
                      "out of order."),
    "aqueduc": ("Fuite d’eau dans la rue, eau brune ou sans pression, borne qui coule.",
                "Water leaking in the street, brown water or no pressure, a leaking "
                "hydrant."),
    "egouts": ("Refoulement, puisard bouché, odeur ou couvercle de regard déplacé.",
               "A backup, a blocked catch basin, a smell or a displaced manhole cover."),
    "ordures": ("Collecte des déchets manquée, bac brisé ou à remplacer.",
                "A missed household waste pickup, a broken bin or one to replace."),
    "recyclage": ("Bac bleu oublié lors de la collecte, bac endommagé.",
                  "A blue bin missed at pickup, a damaged bin."),
    "compost": ("Bac brun oublié, bac endommagé ou demande de bac.",
                "A brown bin missed, a damaged bin or a bin request."),
    "proprete": ("Dépôt sauvage, graffiti, déchets dans un parc ou sur un terrain public.",
                 "Illegal dumping, graffiti, litter in a park or on public land."),
    "animaux": ("Animal blessé ou mort sur la voie publique, animal errant.",
                "An injured or dead animal on a public road, a stray animal."),
    "arbres": ("Branche tombée, arbre dangereux, souche ou haie qui nuit à la "
               "visibilité.",
               "A fallen branch, a dangerous tree, a stump or a hedge blocking the view."),
    "batiments": ("Bris, fuite ou accès difficile dans un aréna, une bibliothèque ou un "
                  "autre bâtiment de la Ville.",
                  "Damage, a leak or a hard-to-reach entrance at an arena, a library or "
                  "another city building."),
    "eclairage": ("Lampadaire éteint, qui clignote ou reste allumé le jour.",
                  "A streetlight out, flickering or on during the day."),
    "mobilier-urbain": ("Banc, poubelle publique, support à vélos ou abribus brisé.",
                        "A broken bench, public litter bin, bike rack or bus shelter."),
    "equipements-sportifs": ("Filet, panier, but ou surface de jeu endommagé sur un "
                             "terrain sportif.",
                             "A damaged net, hoop, goal or playing surface on a sports "
                             "field."),
    "parcs-jeux": ("Module de jeu brisé, surface dangereuse ou clôture endommagée dans une "
                   "aire de jeux.",
                   "Broken play equipment, an unsafe surface or a damaged fence in a "
                   "playground."),
}

# Reported at a home: the public sees their requests at about 100 m and by street only
# (Category.location_precision; migration 0007 sets the same on existing databases).
HOME_CATEGORIES = {"ordures", "recyclage", "compost", "aqueduc", "egouts", "deneigement"}

# service_code -> [(code, French, English, datatype, required, choices)]
QUESTIONS = {
    "eclairage": [("numero_poteau", "Numéro du poteau (plaque sur le poteau)",
                   "Pole number (plate on the pole)", "string", False, "")],
    "animaux": [("etat", "L'animal est…", "The animal is…", "singlevaluelist", True,
                 "mort|Mort|Dead\nblesse|Blessé|Injured\nnuisance|Nuisance|Nuisance"),
                ("espece", "Espèce", "Species", "singlevaluelist", False,
                 "chien|Chien|Dog\nchat|Chat|Cat\nfaune|Animal sauvage|Wild animal")],
    "deneigement": [("type", "Type de problème", "Kind of problem", "singlevaluelist", True,
                     "rue|Rue non déneigée|Street not cleared\n"
                     "trottoir|Trottoir non déneigé|Sidewalk not cleared\n"
                     "bordure|Banc de neige à l'entrée|Snowbank at the driveway")],
    "voirie": [("largeur_cm", "Largeur approximative du trou (cm)",
                "Approximate width of the hole (cm)", "number", False, "")],
}

DESCRIPTIONS = {
    "deneigement": ["La rue n'a pas été déneigée depuis la tempête.",
                    "Le trottoir est glacé et dangereux devant l'école."],
    "voirie": ["Gros nid-de-poule dans la voie de droite.", "La chaussée s'affaisse."],
    "signalisation": ["Panneau d'arrêt renversé.", "Marquage de passage piéton effacé."],
    "aqueduc": ["Fuite d'eau dans la rue.", "Borne-fontaine qui coule."],
    "egouts": ["Odeur d'égout près de la grille.", "Puisard bouché, la rue est inondée."],
    "ordures": ["Collecte oubliée dans notre rue.", "Bac brisé par le camion."],
    "recyclage": ["Le bac bleu n'a pas été ramassé.", "Bac de recyclage endommagé."],
    "compost": ["Le bac brun n'a pas été vidé.", "Le couvercle du bac brun est cassé."],
    "proprete": ["Dépôt sauvage de déchets près du parc.", "Graffitis sur le muret."],
    "animaux": ["Animal mort sur la chaussée.", "Chien errant dans le quartier."],
    "arbres": ["Branche cassée au-dessus du trottoir.", "Arbre malade à abattre?"],
    "batiments": ["Porte brisée au centre communautaire.", "Fuite au toit de l'aréna."],
    "eclairage": ["Lampadaire éteint depuis une semaine.", "Lampadaire qui clignote."],
    "mobilier-urbain": ["Banc de parc brisé.", "Poubelle publique renversée."],
    "equipements-sportifs": ["Filet de tennis déchiré.", "Panier de basket tordu."],
    "parcs-jeux": ["Balançoire brisée.", "Copeaux manquants sous le module de jeux."],
}
STREETS = ["rue Victoria", "boulevard Mgr-Langlois", "rue Nicholson", "rue Alexandre",
           "boulevard du Havre", "rue Saint-Laurent", "rue Grande-Île", "rue Dufferin",
           "rue Jacques-Cartier", "boulevard Hébert", "rue Champlain", "rue Salaberry"]
CALLERS = ["Julie Bergeron", "Marc Lalonde", "Sophie Daoust", "Luc Poirier",
           "Nathalie Leduc", "Pierre Brisebois", "Isabelle Vallée", "André Hamelin"]
NAMESPACE = uuid.UUID("6f4d3a1e-3c11-4c2b-9a5e-311311311311")
COUNT = 300


def _answers(rng, code):
    result = {}
    for qcode, _fr, _en, datatype, _required, choices in QUESTIONS.get(code, []):
        if datatype == "singlevaluelist":
            result[qcode] = rng.choice([line.split("|")[0] for line in choices.splitlines()])
        elif datatype == "number":
            result[qcode] = rng.randint(10, 120)
        else:
            result[qcode] = f"P-{rng.randint(1000, 9999)}"
    return result


# Words residents actually type (searched by the hub search, accents ignored).
KEYWORDS = {
    "deneigement": "neige, déneigement, tempête, banc de neige, chasse-neige, snow, plow",
    "voirie": "nid de poule, nids de poule, trou, chaussée, asphalte, pothole, road",
    "signalisation": "panneau, arrêt, feu de circulation, sign, traffic light",
    "aqueduc": "fuite, eau, borne-fontaine, bris, water leak, hydrant",
    "egouts": "refoulement, égout, puisard, odeur, sewer backup",
    "ordures": "collecte, bac, poubelle, garbage, trash",
    "eclairage": "lampadaire, lumière, poteau, lampe brûlée, streetlight",
    "animaux": "chien, chat, animal mort, raton laveur, dog, dead animal",
    "arbres": "arbre, branche, élagage, tree, branch",
}


def load_categories() -> dict[str, Category]:
    departments = {d.slug: d for d in Department.objects.all()}
    result = {}
    for order, (code, fr, en, group, dept, days) in enumerate(CATEGORIES):
        if dept not in departments:
            continue
        category, _ = Category.objects.update_or_create(
            service_code=code, defaults={
                "name_fr": fr, "name_en": en, "group": group, "order": order,
                "department": departments[dept], "service_level_days": days,
                "keywords": KEYWORDS.get(code, fr.lower()), "active": True,
                "location_precision": "approximate" if code in HOME_CATEGORIES
                else "exact",
                "description_fr": DESCRIPTIONS[code][0],
                "description_en": DESCRIPTIONS[code][1]})
        for index, (qcode, qfr, qen, datatype, required, choices) in enumerate(
                QUESTIONS.get(code, [])):
            Question.objects.update_or_create(
                category=category, code=qcode, defaults={
                    "label_fr": qfr, "label_en": qen, "datatype": datatype,
                    "required": required, "choices": choices, "sort_order": index})
        result[code] = category
    return result


# (title, department slug or None for every department, French, English, order)
RESPONSE_TEMPLATES = [
    ("Accusé de réception", None,
     "Bonjour, nous avons bien reçu votre requête. Le service responsable l'examinera "
     "dans les prochains jours ouvrables. Merci de votre signalement.",
     "Hello, we have received your request. The department in charge will look at it in "
     "the coming business days. Thank you for reporting it.", 10),
    ("Problème réglé", None,
     "Bonjour, le problème que vous avez signalé est réglé. Merci d'avoir contribué à "
     "améliorer votre ville.",
     "Hello, the problem you reported has been fixed. Thank you for helping improve your "
     "city.", 20),
    ("Hors de la responsabilité de la Ville", None,
     "Bonjour, ce problème ne relève pas de la Ville. Nous avons transmis l'information "
     "à l'organisme responsable, qui vous répondra directement.",
     "Hello, this problem is not the city's responsibility. We forwarded it to the "
     "organization in charge, which will answer you directly.", 30),
    ("Équipe en route", "travaux-publics",
     "Bonjour, une équipe des Travaux publics est en route. L'intervention devrait avoir "
     "lieu d'ici 48 heures, selon la météo.",
     "Hello, a Public Works crew is on its way. The work should be done within 48 hours, "
     "weather permitting.", 40),
    ("Collecte reprise", "environnement",
     "Bonjour, la collecte oubliée sera reprise lors du prochain passage du camion dans "
     "votre secteur. Laissez votre bac en bordure de rue.",
     "Hello, the missed collection will be made up at the truck's next visit in your "
     "area. Leave your bin at the curb.", 50),
]


def load_response_templates() -> None:
    """The ready-made replies agents start from; updated by title, never duplicated."""
    from .models import ResponseTemplate

    departments = {d.slug: d for d in Department.objects.all()}
    for title, slug, french, english, order in RESPONSE_TEMPLATES:
        if slug and slug not in departments:
            continue
        ResponseTemplate.objects.update_or_create(
            title=title, defaults={"department": departments.get(slug) if slug else None,
                                   "body_fr": french, "body_en": english, "order": order})


# The demo resident the hub's demo creates (README: "Demo accounts").
DEMO_RESIDENT_EMAIL = "resident@example.com"

# One agent per department, so a request can be assigned without creating anyone
# (README: "Demo accounts"; password: hub.roles.DEMO_PASSWORD).
AGENT_NAMES = {"travaux-publics": ("Jérôme", "Leblanc"),
               "environnement": ("Émilie", "Roy"),
               "loisirs": ("Karine", "Daigneault"),
               "communications": ("Samuel", "Pilon")}


def agent_email(department_slug: str) -> str:
    return f"agent.{department_slug}@example.com"


def load_agents() -> dict[str, object]:
    """An agent of each department ("Agents de service"), idempotent: the department's
    slug → the user."""
    agents = {}
    for department in Department.objects.order_by("pk"):
        first, last = AGENT_NAMES.get(department.slug, ("Agent", department.name))
        agent = demo_account(agent_email(department.slug), first_name=first,
                             last_name=last, groups=[DEPARTMENT_AGENTS])
        department.agents.add(agent)
        agents[department.slug] = agent
    return agents


def load_resident_requests(categories: dict[str, Category], agents=None) -> None:
    """The demo resident's requests at several stages, made and answered through the
    services, so a newcomer sees the whole journey: one the roads department already
    acknowledged with a public message (the resident was told through ``hub_notify``:
    Mon Espace lists the notice and its delivery state), one still new for an agent to
    assign and answer in the admin and watch the resident be told, one assigned to the
    roads agent and in progress, one closed as fixed.  Idempotent through the submission
    keys (a request is moved on only from the stage it was created at)."""
    User = get_user_model()
    resident = User.objects.filter(email=DEMO_RESIDENT_EMAIL, is_active=True).first()
    answering = User.objects.filter(is_superuser=True, is_active=True).order_by("pk").first()
    if resident is None or "voirie" not in categories or "eclairage" not in categories:
        return
    answered = services.create_request(
        actor=resident, category=categories["voirie"], channel="web",
        description="Nid-de-poule profond sur la rue Victoria, à l'angle de la rue "
                    "Salaberry, côté nord.",
        latitude=45.2553, longitude=-74.1327, address="Victoria et Salaberry",
        answers={"largeur_cm": "40"}, description_public=True,
        submission_key=uuid.uuid5(NAMESPACE, "resident-pothole"))
    services.create_request(
        actor=resident, category=categories["eclairage"], channel="web",
        description="Le lampadaire au coin des rues Victoria et Nicholson est éteint "
                    "depuis trois soirs.",
        latitude=45.2561, longitude=-74.1301, address="Victoria et Nicholson",
        submission_key=uuid.uuid5(NAMESPACE, "resident-light"))
    if answering is not None and answered.status == ServiceRequest.Status.NEW:
        services.transition(
            answered, actor=answering, to_status=ServiceRequest.Status.ACKNOWLEDGED,
            public_message="Merci de votre signalement\u00a0! Une équipe le réparera d'ici "
                           "vendredi.")
    _resident_later_stages(resident, categories, agents or {})


def _resident_later_stages(resident, categories, agents) -> None:
    """A request in progress, assigned to the roads agent, and one closed as fixed by the
    environment agent (each told to the resident like any other)."""
    roads, environment = agents.get("travaux-publics"), agents.get("environnement")
    if roads is not None and "signalisation" in categories:
        sign = services.create_request(
            actor=resident, category=categories["signalisation"], channel="web",
            description="Le panneau d'arrêt au coin des rues Victoria et Alexandre est "
                        "renversé.",
            latitude=45.2548, longitude=-74.1335, address="Victoria et Alexandre",
            description_public=True, submission_key=uuid.uuid5(NAMESPACE, "resident-sign"))
        if sign.status == ServiceRequest.Status.NEW:
            services.transition(sign, actor=roads, to_status=ServiceRequest.Status.ASSIGNED,
                                assignee=roads)
            services.transition(sign, actor=roads,
                                to_status=ServiceRequest.Status.IN_PROGRESS,
                                public_message="Une équipe de la signalisation remettra le "
                                               "panneau en place aujourd'hui.")
    if environment is not None and "ordures" in categories:
        missed = services.create_request(
            actor=resident, category=categories["ordures"], channel="web",
            description="La collecte des ordures a oublié notre côté de la rue Victoria.",
            latitude=45.2556, longitude=-74.1320, address="41, rue Victoria",
            submission_key=uuid.uuid5(NAMESPACE, "resident-missed-collection"))
        if missed.status == ServiceRequest.Status.NEW:
            services.transition(missed, actor=environment,
                                to_status=ServiceRequest.Status.CLOSED,
                                closure_reason="fixed",
                                public_message="Le camion est repassé ce matin. Merci de "
                                               "votre patience\u00a0!")


@transaction.atomic
def load(count: int = COUNT) -> None:
    categories = load_categories()
    if not categories:
        return
    load_response_templates()
    load_resident_requests(categories, load_agents())
    keys = [uuid.uuid5(NAMESPACE, str(i)) for i in range(count)]
    existing = set(ServiceRequest.objects.filter(submission_key__in=keys)
                   .values_list("submission_key", flat=True))
    rng = random.Random(311)  # noqa: S311 - reproducible demo data, not secrets
    now = timezone.now()
    codes = sorted(categories)
    planned = []
    for key in keys:
        created = now - datetime.timedelta(minutes=rng.randint(60, 365 * 24 * 60))
        code = rng.choice(codes)
        values = (rng.random(), rng.random(), rng.random(), rng.randint(1, 3000),
                  rng.choice(STREETS), rng.choice(CALLERS), rng.random(), rng.random())
        if key not in existing:
            planned.append((key, created, code, values, _answers(rng, code),
                            rng.choice(DESCRIPTIONS[code])))
        else:
            _answers(rng, code)
            rng.choice(DESCRIPTIONS[code])
    if not planned:
        return
    planned.sort(key=lambda item: item[1])
    by_year: dict[int, int] = {}
    for item in planned:
        year = timezone.localdate(item[1]).year
        by_year[year] = by_year.get(year, 0) + 1
    next_number = {}
    for year, n in by_year.items():
        ReferenceCounter.objects.get_or_create(year=year)
        ReferenceCounter.objects.filter(year=year).update(last=F("last") + n)
        next_number[year] = ReferenceCounter.objects.get(year=year).last - n + 1

    requests, histories = [], []
    for key, created, code, values, answers, description in planned:
        category = categories[code]
        r_lat, r_lon, r_progress, number, street, caller, r_reason, r_channel = values
        year = timezone.localdate(created).year
        reference = f"{year}-{next_number[year]:06d}"
        next_number[year] += 1
        age_days = (now - created).days
        # Older requests are mostly closed; recent ones still in the queue.
        progress = min(4, int(r_progress * 5 + age_days / 20))
        steps = ["acknowledged", "assigned", "in_progress", "closed"][:progress]
        stamps, moment = [], created
        for step in steps:
            moment += datetime.timedelta(hours=1 + r_progress * (30 if step == "acknowledged"
                                                                 else 60))
            stamps.append((step, min(moment, now)))
        status = steps[-1] if steps else "new"
        reason = note = ""
        if status == "closed":
            reason = ("fixed" if r_reason < 0.82 else "not_city_responsibility"
                      if r_reason < 0.91 else "wont_fix")
            note = {"not_city_responsibility": "Hydro-Québec",
                    "wont_fix": "Travaux prévus l'an prochain dans ce secteur."}.get(reason, "")
        channel = ("phone" if r_channel < 0.5 else "counter" if r_channel < 0.65
                   else "email" if r_channel < 0.8 else "open311")
        requests.append(ServiceRequest(
            reference=reference, category=category, description=description,
            description_public=r_progress < 0.5, answers=answers,
            latitude=round(45.235 + r_lat * 0.045, 6),
            longitude=round(-74.165 + r_lon * 0.075, 6),
            address=f"{number} {street}", channel=channel,
            caller_name=caller, caller_phone=f"450 555-{number % 10000:04d}",
            contact_channel="phone", priority="high" if r_reason > 0.95 else "normal",
            department=category.department, due_date=services.due_date_for(category, created),
            status=status, closure_reason=reason, closure_note=note,
            closed_at=stamps[-1][1] if status == "closed" else None,
            acknowledged_at=stamps[0][1] if stamps else None,
            submission_key=key, created_at=created))
        histories.append(stamps)
    created_rows = ServiceRequest.objects.bulk_create(requests)
    if any(row.pk is None for row in created_rows):  # backends without RETURNING
        by_key = dict(ServiceRequest.objects.filter(
            submission_key__in=[r.submission_key for r in requests]).values_list(
            "submission_key", "pk"))
        for row in created_rows:
            row.pk = by_key[row.submission_key]
    events = []
    messages = {"acknowledged": "Votre requête a été reçue par le service.",
                "in_progress": "Une équipe est en route.",
                "closed": "Le problème est réglé. Merci de votre signalement."}
    for row, stamps in zip(created_rows, histories, strict=True):
        events.append(RequestEvent(request_id=row.pk, kind="created", to_status="new",
                                   by_staff=True, created_at=row.created_at))
        previous = "new"
        for step, moment in stamps:
            message = messages.get(step, "")
            if step == "closed" and row.closure_reason != "fixed":
                message = row.closure_note
            events.append(RequestEvent(request_id=row.pk, kind="status", from_status=previous,
                                       to_status=step, public_message=message,
                                       by_staff=True, created_at=moment))
            previous = step
    RequestEvent.objects.bulk_create(events)
