"""Idempotent demo links: urban-planning requests, the property assessment roll,
Sport-Plus and the news, in French with their English translations."""

from __future__ import annotations

from django.db import transaction
from wagtail.models import Locale

from .models import Category, Icon, ServiceLink

CITY = "https://www.ville.valleyfield.qc.ca"

LINKS = [
    {
        "url": f"{CITY}/services-aux-citoyens/urbanisme/",
        "category": Category.PERMITS, "icon": Icon.REQUEST, "uses_city_account": True,
        "open_in_new_tab": False, "sort_order": 10,
        "fr": ("Demandes en urbanisme",
               "Permis et certificats\u00a0: rénovation, construction, piscine, clôture."),
        "en": ("Urban-planning requests",
               "Permits and certificates: renovation, construction, pool, fence."),
    },
    {
        "url": f"{CITY}/role-evaluation/",
        "category": Category.TAXES, "icon": Icon.LINK, "uses_city_account": True,
        "open_in_new_tab": True, "sort_order": 20,
        "fr": ("Rôle d’évaluation foncière",
               "Consulter la valeur imposable d’une propriété et son compte de taxes."),
        "en": ("Property assessment roll",
               "Look up the assessed value of a property and its tax account."),
    },
    {
        "url": "https://www.sport-plus-online.com/",
        "category": Category.LEISURE, "icon": Icon.MODULE, "uses_city_account": False,
        "open_in_new_tab": True, "sort_order": 30,
        "fr": ("Sport-Plus",
               "Inscriptions aux activités de loisirs et au camp de jour."),
        "en": ("Sport-Plus",
               "Registration for leisure activities and day camp."),
    },
    {
        "url": "/fr/actualites/",
        "url_en": "/en/news/",
        "category": Category.OTHER, "icon": Icon.NEWS, "uses_city_account": False,
        "open_in_new_tab": False, "sort_order": 40,
        "fr": ("Actualités de la Ville",
               "Travaux, services, loisirs et décisions du conseil municipal."),
        "en": ("City news",
               "Roadwork, services, leisure and decisions of the city council."),
    },
]


def _absolute(url: str) -> str:
    if url.startswith("/"):
        from django.conf import settings

        return settings.BASE_URL.rstrip("/") + url
    return url


@transaction.atomic
def load() -> None:
    fr = Locale.objects.get(language_code="fr")
    en = Locale.objects.get(language_code="en")
    for item in LINKS:
        common = {key: item[key] for key in ("category", "icon", "uses_city_account",
                                             "open_in_new_tab", "sort_order")}
        title, description = item["fr"]
        link = ServiceLink.objects.filter(locale=fr, title=title).first()
        if link is None:
            link = ServiceLink.objects.create(locale=fr, title=title,
                                              description=description,
                                              url=_absolute(item["url"]), **common)
        if link.get_translation_or_none(en) is None:
            title_en, description_en = item["en"]
            translation = link.copy_for_translation(en)
            translation.title = title_en
            translation.description = description_en
            translation.url = _absolute(item.get("url_en", item["url"]))
            translation.save()
