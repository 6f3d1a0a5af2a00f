"""Idempotent demo data: locales, site and settings, FR + EN home pages, groups, an
administrator for local use, a few departments and districts, civic addresses in them
(``hub.demo_addresses``), then every module's
``hub_demo_data``."""

from __future__ import annotations

from urllib.parse import urlsplit

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import transaction
from wagtail.models import Locale, Page, Site

from hub import demo_addresses
from hub.models import ContentPage, Department, District, HomePage, SiteSettings
from hub.plugins.manager import hooks
from hub.roles import DEMO_PASSWORD, sync_staff_roles

ADMIN_EMAIL = "admin@example.com"
ADMIN_PASSWORD = DEMO_PASSWORD  # local demo only, see README
# A resident without any staff role, so a newcomer can see the citizen's side (their
# requests, the notices they received) while the administrator answers in the admin.
RESIDENT_EMAIL = "resident@example.com"

DEPARTMENTS = [
    ("travaux-publics", "Service des travaux publics", "450 370-4820",
     "travauxpublics@example.com", "Directeur des travaux publics"),
    ("environnement", "Service de l'environnement", "450 370-4820",
     "environnement@example.com", "Directrice de l'environnement"),
    ("loisirs", "Service récréatif et communautaire", "450 370-4800",
     "loisirs@example.com", "Directeur du service récréatif et communautaire"),
    ("communications", "Service des communications et des relations publiques",
     "450 370-4300", "communications@example.com",
     "Directrice des communications et des relations publiques"),
]


def _square(lon_min, lat_min, lon_max, lat_max):
    ring = [[lon_min, lat_min], [lon_max, lat_min], [lon_max, lat_max], [lon_min, lat_max],
            [lon_min, lat_min]]
    return {"type": "Polygon", "coordinates": [ring]}


DISTRICTS = [
    ("centre-ville", "Centre-ville", _square(-74.15, 45.24, -74.11, 45.27)),
    ("grande-ile", "Grande-Île", _square(-74.11, 45.24, -74.05, 45.30)),
    ("saint-timothee", "Saint-Timothée", _square(-74.08, 45.27, -73.99, 45.32)),
    ("bellerive", "Bellerive", _square(-74.22, 45.20, -74.15, 45.27)),
]

HOME_INTRO = {
    "fr": [
        ("heading", {"text": "L’ESPACE pour se parler", "level": "h2"}),
        ("paragraph",
         "<p>Un seul compte pour signaler un problème et suivre son traitement, recevoir les "
         "communications de la Ville par texto, courriel, notification ou appel, et accéder "
         "aux autres services en ligne.</p>"),
    ],
    "en": [
        ("heading", {"text": "The SPACE to talk to each other", "level": "h2"}),
        ("paragraph",
         "<p>One account to report a problem and follow its processing, receive the city’s "
         "communications by text message, email, notification or phone call, and reach its "
         "other online services.</p>"),
    ],
}


# The privacy policy and the governance rules (Law 25, s. 3.2 and 8): editable content
# pages, linked from the footer through the city settings.
PRIVACY_PAGES = {
    "privacy_page": {
        "fr": ("Politique de confidentialité", "politique-de-confidentialite", [
            ("paragraph", "<p>La Ville recueille seulement les renseignements personnels "
                          "nécessaires à ses services\u00a0: votre compte (courriel, et si vous "
                          "le souhaitez votre nom, votre téléphone et votre adresse), vos "
                          "requêtes et leurs photos, et vos choix de communications.</p>"),
            ("heading", {"text": "Vos droits", "level": "h2"}),
            ("paragraph", "<p>Dans Mon compte, vous pouvez consulter et télécharger vos "
                          "renseignements, les corriger et supprimer votre compte. Aucun "
                          "outil de suivi d’un tiers n’est utilisé sur ce site.</p>"),
            ("heading", {"text": "Conservation", "level": "h2"}),
            ("paragraph", "<p>Une requête fermée est anonymisée après la durée prévue au "
                          "calendrier de conservation de sa catégorie.</p>"),
        ]),
        "en": ("Privacy policy", "privacy-policy", [
            ("paragraph", "<p>The city collects only the personal information its "
                          "services need: your account (email and, if you wish, your "
                          "name, phone and address), your requests and their photos, and "
                          "your communication choices.</p>"),
            ("heading", {"text": "Your rights", "level": "h2"}),
            ("paragraph", "<p>In My account you can see and download your information, "
                          "correct it and delete your account. No third-party tracking "
                          "tool is used on this site.</p>"),
            ("heading", {"text": "Retention", "level": "h2"}),
            ("paragraph", "<p>A closed request is anonymised after the period its "
                          "category's retention schedule sets.</p>"),
        ]),
    },
    "governance_page": {
        "fr": ("Gouvernance des renseignements personnels",
               "gouvernance-des-renseignements-personnels", [
            ("paragraph", "<p>La personne responsable de la protection des renseignements "
                          "personnels est la greffière de la Ville. Un comité sur l’accès à "
                          "l’information et la protection des renseignements personnels "
                          "approuve ces règles.</p>"),
            ("heading", {"text": "Incidents de confidentialité", "level": "h2"}),
            ("paragraph", "<p>La Ville tient un registre des incidents de confidentialité "
                          "et avise les personnes concernées et la Commission d’accès à "
                          "l’information lorsqu’un incident présente un risque de préjudice "
                          "sérieux.</p>"),
        ]),
        "en": ("Personal information governance", "personal-information-governance", [
            ("paragraph", "<p>The person in charge of the protection of personal "
                          "information is the city clerk. A committee on access to "
                          "information and the protection of personal information approves "
                          "these rules.</p>"),
            ("heading", {"text": "Confidentiality incidents", "level": "h2"}),
            ("paragraph", "<p>The city keeps a register of confidentiality incidents and "
                          "notifies the persons concerned and the Commission d’accès à "
                          "l’information when an incident presents a risk of serious "
                          "injury.</p>"),
        ]),
    },
}


def _privacy_pages(home_fr: HomePage, en: Locale, site: Site) -> None:
    settings_obj = SiteSettings.for_site(site)
    for setting, texts in PRIVACY_PAGES.items():
        title, slug, body = texts["fr"]
        page = ContentPage.objects.child_of(home_fr).filter(slug=slug).first()
        if page is None:
            page = home_fr.add_child(instance=ContentPage(title=title, slug=slug,
                                                          body=body))
            page.save_revision().publish()
        if page.get_translation_or_none(en) is None:
            title_en, slug_en, body_en = texts["en"]
            translation = page.copy_for_translation(en)
            translation.title = title_en
            translation.slug = slug_en
            translation.body = body_en
            translation.save_revision().publish()
        if getattr(settings_obj, f"{setting}_id") is None:
            setattr(settings_obj, setting, page)
    settings_obj.save()


def _locales() -> tuple[Locale, Locale]:
    fr, _ = Locale.objects.get_or_create(language_code="fr")
    en, _ = Locale.objects.get_or_create(language_code="en")
    return fr, en


def _home_pages(fr: Locale, en: Locale) -> tuple[HomePage, HomePage]:
    root = Page.get_first_root_node()
    if root.locale_id != fr.pk:
        Page.objects.filter(pk=root.pk).update(locale=fr)
        root.refresh_from_db()
    home_fr = HomePage.objects.filter(locale=fr).first()
    if home_fr is None:
        home_fr = root.add_child(instance=HomePage(
            title="Accueil", slug="accueil", locale=fr, intro=HOME_INTRO["fr"]))
    _site(home_fr)
    # Wagtail's initial "Welcome to your new Wagtail site!" page goes away.
    for stale in Page.objects.filter(depth=2).exclude(pk=home_fr.pk).specific():
        if type(stale) is Page:
            stale.delete()
    home_en = HomePage.objects.filter(locale=en).first()
    if home_en is None:
        home_en = home_fr.copy_for_translation(en)
        home_en.title = "Home"
        home_en.slug = "home"
        home_en.intro = HOME_INTRO["en"]
        home_en.save_revision().publish()
    return home_fr, home_en


def _site(home_fr: HomePage) -> Site:
    base = urlsplit(settings.BASE_URL)
    site = Site.objects.filter(is_default_site=True).first() or Site(is_default_site=True)
    site.hostname = base.hostname or "localhost"
    site.port = base.port or (443 if base.scheme == "https" else 80)
    site.root_page = home_fr
    site.site_name = "Espace citoyen"
    site.save()
    settings_obj = SiteSettings.for_site(site)
    if not settings_obj.intake_phone:
        settings_obj.intake_phone = "450 370-4820"
    settings_obj.save()
    return site


def _admin(email: str, password: str):
    User = get_user_model()
    admin = User.objects.filter(email=email).first()
    if admin is None:
        admin = User.objects.create_superuser(email=email, password=password,
                                              first_name="Admin", last_name="Démo")
    from allauth.account.models import EmailAddress

    EmailAddress.objects.update_or_create(
        user=admin, email=email, defaults={"verified": True, "primary": True}
    )
    return admin


def _resident(email: str, password: str):
    User = get_user_model()
    resident = User.objects.filter(email=email).first()
    if resident is None:
        resident = User.objects.create_user(
            email=email, password=password, first_name="Camille", last_name="Tremblay",
            civic_address="41, rue Victoria", preferred_language="fr")
    from allauth.account.models import EmailAddress

    EmailAddress.objects.update_or_create(
        user=resident, email=email, defaults={"verified": True, "primary": True})
    return resident


@transaction.atomic
def load(admin_email: str = ADMIN_EMAIL, admin_password: str = ADMIN_PASSWORD) -> None:
    fr, en = _locales()
    home_fr, _home_en = _home_pages(fr, en)
    _privacy_pages(home_fr, en, Site.objects.get(is_default_site=True))
    for slug, name, phone, email, title in DEPARTMENTS:
        Department.objects.update_or_create(
            slug=slug, defaults={"name": name, "phone": phone, "email": email,
                                 "accountable_title": title})
    for slug, name, geometry in DISTRICTS:
        District.objects.update_or_create(slug=slug, defaults={"name": name,
                                                               "geometry": geometry})
    demo_addresses.load()
    sync_staff_roles()
    _admin(admin_email, admin_password)
    _resident(RESIDENT_EMAIL, admin_password)
    from hub import demo_partner

    if demo_partner.enabled():  # the partner's and the API docs' clients (development only)
        demo_partner.ensure_client()
        demo_partner.ensure_docs_client()
    hooks().hub_demo_data()
