"""Idempotent demo news: a news index in French and English, categories and six news
items with their English translations (wagtail-localize's copy_for_translation)."""

from __future__ import annotations

import datetime

from django.db import transaction
from wagtail.models import Locale

from .demo_images import attach as attach_image
from .demo_images import english_alt, illustrate
from .models import NewsCategory, NewsIndexPage, NewsPage

CATEGORIES = [
    # slug, French name, English name
    ("travaux", "Travaux et circulation", "Roadwork and traffic"),
    ("hiver", "Hiver et déneigement", "Winter and snow removal"),
    ("services", "Services aux citoyens", "Citizen services"),
    ("loisirs", "Loisirs et culture", "Leisure and culture"),
]

NEWS = [
    {
        "slug": "fermeture-pont-salaberry",
        "date": (2026, 10, 6),
        "categories": ["travaux"],
        "tags": ["pont Salaberry", "circulation"],
        "fr": ("Fermeture du pont Salaberry pour travaux",
               "Le pont Salaberry sera fermé à la circulation du 14 au 18 octobre pour la "
               "réfection de sa chaussée. Un détour est balisé par le boulevard Mgr-Langlois.",
               "<p>Les travaux se déroulent de 7 h à 19 h. Les piétons et les cyclistes "
               "peuvent emprunter la passerelle temporaire.</p>"),
        "en": ("Salaberry bridge closed for roadwork",
               "The Salaberry bridge will be closed to traffic from October 14 to 18 for "
               "resurfacing. A detour is marked along Mgr-Langlois boulevard.",
               "<p>Work runs from 7 a.m. to 7 p.m. Pedestrians and cyclists can use the "
               "temporary footbridge.</p>"),
    },
    {
        "slug": "operation-deneigement",
        "date": (2026, 11, 20),
        "categories": ["hiver"],
        "tags": ["déneigement", "stationnement"],
        "fr": ("Opération de déneigement\u00a0: stationnement interdit la nuit",
               "Une opération de déneigement commence ce soir à 22 h. Le stationnement dans "
               "les rues est interdit de 22 h à 7 h jusqu’à la fin des opérations.",
               "<p>Abonnez-vous aux alertes pour être averti par texto ou par courriel au "
               "début de chaque opération.</p>"),
        "en": ("Snow removal: no overnight street parking",
               "A snow-removal operation starts tonight at 10 p.m. Street parking is "
               "forbidden from 10 p.m. to 7 a.m. until the operation is over.",
               "<p>Subscribe to alerts to be notified by text message or email when each "
               "operation begins.</p>"),
    },
    {
        "slug": "lancement-espace-citoyen",
        "date": (2026, 9, 15),
        "categories": ["services"],
        "tags": ["Espace citoyen"],
        "fr": ("La Ville lance l’Espace citoyen",
               "Un seul compte pour signaler un problème, suivre son traitement, recevoir "
               "les communications de la Ville et accéder à ses services en ligne.",
               "<p>Les requêtes peuvent toujours être faites par téléphone au "
               "450 370-4820.</p>"),
        "en": ("The city launches the Espace citoyen",
               "One account to report a problem, follow its processing, receive the city’s "
               "communications and reach its online services.",
               "<p>Requests can still be made by phone at 450 370-4820.</p>"),
    },
    {
        "slug": "collecte-feuilles-automne",
        "date": (2026, 10, 20),
        "categories": ["services"],
        "tags": ["collectes"],
        "fr": ("Collecte des feuilles mortes",
               "La collecte des feuilles mortes a lieu les trois derniers lundis d’octobre. "
               "Utilisez des sacs en papier.",
               "<p>Les sacs de plastique ne sont pas ramassés.</p>"),
        "en": ("Fall leaf collection",
               "Leaves are collected on the last three Mondays of October. Use paper bags.",
               "<p>Plastic bags are not picked up.</p>"),
    },
    {
        "slug": "inscriptions-camp-de-jour",
        "date": (2026, 11, 2),
        "categories": ["loisirs"],
        "tags": ["Sport-Plus", "camp de jour"],
        "fr": ("Inscriptions aux activités d’hiver",
               "Les inscriptions aux activités de loisirs de l’hiver ouvrent le 1er décembre "
               "sur Sport-Plus.",
               "<p>Les résidents ont priorité pendant la première semaine.</p>"),
        "en": ("Registration for winter activities",
               "Registration for winter leisure activities opens on December 1 on "
               "Sport-Plus.",
               "<p>Residents have priority during the first week.</p>"),
    },
    {
        "slug": "patinoires-exterieures",
        "date": (2026, 11, 25),
        "categories": ["hiver", "loisirs"],
        "tags": ["patinoires"],
        "fr": ("Ouverture des patinoires extérieures",
               "Les patinoires extérieures ouvriront dès que la météo le permettra. "
               "Consultez leur état avant de vous déplacer.",
               "<p>Les chalets sont ouverts de 13 h à 21 h.</p>"),
        "en": ("Outdoor rinks opening",
               "Outdoor rinks will open as soon as the weather allows. Check their "
               "condition before you go.",
               "<p>Warming huts are open from 1 p.m. to 9 p.m.</p>"),
    },
]


def _categories(fr: Locale, en: Locale) -> dict[str, NewsCategory]:
    found = {}
    for slug, name_fr, name_en in CATEGORIES:
        category = NewsCategory.objects.filter(slug=slug, locale=fr).first()
        if category is None:
            category = NewsCategory.objects.create(slug=slug, name=name_fr, locale=fr)
        if not NewsCategory.objects.filter(translation_key=category.translation_key,
                                           locale=en).exists():
            translation = category.copy_for_translation(en)
            translation.name = name_en
            translation.save()
        found[slug] = category
    return found


def _index(home_fr, en: Locale) -> tuple[NewsIndexPage, NewsIndexPage]:
    index_fr = NewsIndexPage.objects.child_of(home_fr).filter(locale=home_fr.locale).first()
    if index_fr is None:
        index_fr = home_fr.add_child(instance=NewsIndexPage(
            title="Actualités", slug="actualites",
            intro="Les nouvelles de la Ville\u00a0: travaux, services, loisirs et décisions."))
        index_fr.save_revision().publish()
    index_en = index_fr.get_translation_or_none(en)
    if index_en is None:
        index_en = index_fr.copy_for_translation(en)
        index_en.title = "News"
        index_en.slug = "news"
        index_en.intro = "News from the city: roadwork, services, leisure and decisions."
        index_en.save_revision().publish()
    return index_fr, index_en.specific


def _news(index_fr: NewsIndexPage, en: Locale, item: dict,
          categories: dict[str, NewsCategory]) -> None:
    title, lead, body = item["fr"]
    page = NewsPage.objects.child_of(index_fr).filter(slug=item["slug"]).first()
    if page is None:
        page = NewsPage(title=title, slug=item["slug"], lead=lead,
                        date=datetime.date(*item["date"]),
                        body=[("paragraph", body)])
        page.categories = [categories[slug] for slug in item["categories"]]
        page.tags.add(*item["tags"])
        illustrate(page)
        index_fr.add_child(instance=page)
        page.save_revision().publish()
    if page.get_translation_or_none(en) is None:
        title_en, lead_en, body_en = item["en"]
        translation = page.copy_for_translation(en)
        translation.title = title_en
        translation.lead = lead_en
        translation.body = [("paragraph", body_en)]
        if translation.main_image_id:
            translation.main_image_alt = english_alt(item["slug"])
        translation.categories = [
            categories[slug].get_translation_or_none(en) or categories[slug]
            for slug in item["categories"]]
        translation.save_revision().publish()
    # Each demo news has its illustration, so the cards show images and renditions
    # (given before the first publication; here only to pages an older demo made).
    attach_image(page, page.get_translation_or_none(en))


@transaction.atomic
def load() -> None:
    from hub.models import HomePage

    fr = Locale.objects.get(language_code="fr")
    en = Locale.objects.get(language_code="en")
    home_fr = HomePage.objects.filter(locale=fr).first()
    if home_fr is None:
        return
    categories = _categories(fr, en)
    index_fr, _index_en = _index(home_fr, en)
    for item in NEWS:
        _news(index_fr, en, item, categories)
