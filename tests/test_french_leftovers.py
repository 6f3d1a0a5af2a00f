"""The French pages of the browser journeys read as Québec French (issue 13): no English
word of our interface left over, courriel rather than e-mail, and the typography — a
non-breaking space before « : ; ! ? » and inside « guillemets ».

Every page a resident, an agent or an officer visits in the journeys is rendered in
French from the demo data and scanned as a reader sees it (tests/french_scan.py)."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from tests.french_scan import problems


def _signed_in(email):
    from hub.models import User

    client = Client()
    client.force_login(User.objects.get(email=email))
    return client


def pages_to_scan():
    """(who, url, client) for each page of the journeys, from the demo data."""
    from hub import demo
    from modules.actualites.models import NewsIndexPage, NewsPage
    from modules.alertes.models import Alert
    from modules.requetes.models import Category, ServiceRequest

    anonymous = Client()
    resident = _signed_in(demo.RESIDENT_EMAIL)
    admin = _signed_in(demo.ADMIN_EMAIL)
    category = Category.objects.filter(active=True).order_by("pk").first() \
        if hasattr(Category, "active") else Category.objects.order_by("pk").first()
    request = ServiceRequest.objects.order_by("pk").first()
    mine = ServiceRequest.objects.filter(citizen__email=demo.RESIDENT_EMAIL) \
        .order_by("pk").first() or request
    news_index = NewsIndexPage.objects.filter(locale__language_code="fr").live().first()
    news = NewsPage.objects.filter(locale__language_code="fr").live().first()
    pages = [
        ("anonymous", "/fr/", anonymous),
        ("anonymous", "/fr/requetes/", anonymous),
        ("anonymous", "/fr/requetes/carte/", anonymous),
        ("anonymous", "/fr/alertes/", anonymous),
        ("anonymous", "/fr/services-en-ligne/", anonymous),
        ("anonymous", "/fr/recherche/?q=patinoire", anonymous),
        ("anonymous", "/fr/compte/login/", anonymous),
        ("anonymous", "/fr/compte/signup/", anonymous),
        ("anonymous", "/fr/compte/password/reset/", anonymous),
        ("resident", "/fr/mon-espace/", resident),
        ("resident", "/fr/requetes/nouvelle/", resident),
        ("resident", f"/fr/requetes/nouvelle/{category.service_code}/", resident),
        ("resident", "/fr/requetes/mes-requetes/", resident),
        ("resident", f"/fr/requetes/{mine.reference}/", resident),
        ("resident", "/fr/alertes/abonnement/", resident),
        ("admin", "/admin/", admin),
        ("admin", reverse("requetes_admin:queue"), admin),
        ("admin", reverse("requetes_admin:detail", args=[request.pk]), admin),
        ("admin", reverse("requetes_admin:intake", args=[category.service_code]), admin),
        ("admin", reverse("requetes_dashboard:index"), admin),
        ("admin", reverse(Alert.snippet_viewset.get_url_name("add")), admin),
    ]
    import re

    listed = re.search(r'href="(/fr/alertes/\d+/)"',
                       anonymous.get("/fr/alertes/archives/").content.decode())
    if listed:
        pages.append(("anonymous", listed.group(1), anonymous))
    if news_index is not None:
        pages.append(("anonymous", news_index.url, anonymous))
    if news is not None:
        pages.append(("anonymous", news.url, anonymous))
        pages.append(("admin", reverse("wagtailadmin_pages:edit", args=[news.pk]), admin))
    pages.append(("admin", reverse("wagtailusers_groups:index"), admin))
    return pages


@pytest.fixture
def demo_site(site, settings):
    settings.HUB_PUBLIC_CACHE_SECONDS = 0
    return site


@pytest.mark.django_db
def test_french_pages_have_no_english_leftovers_and_french_typography(demo_site):
    found = {}
    for who, url, client in pages_to_scan():
        response = client.get(url, follow=True, HTTP_ACCEPT_LANGUAGE="fr")
        assert response.status_code == 200, (who, url, response.status_code)
        slips = problems(response.content.decode())
        if slips:
            found[f"{who} {url}"] = sorted(set(slips))
    assert not found, "\n".join(f"{page}:\n  " + "\n  ".join(slips)
                                for page, slips in found.items())


def test_the_scan_finds_what_it_should():
    """The scanner itself: each kind of slip is caught, correct French passes."""
    good = ("<p>Adresse\u00a0: 41, rue Victoria. Ouvert à 14:30\u00a0; voir "
            "https://ville.example/?q=1. «\u00a0Bien reçu\u00a0»\u00a0!</p>"
            '<a lang="en" href="/en/">English</a><script>var x = "Submit";</script>')
    assert problems(good) == []
    assert problems("<button>Submit</button>")
    assert problems('<button aria-label="Zoom in">+</button>')
    assert problems("<p>Votre adresse e-mail</p>")
    assert problems("<p>Adresse : 41, rue Victoria</p>")  # a regular space
    assert problems("<p>Adresse: 41, rue Victoria</p>")  # no space
    assert problems("<p>Vraiment ?</p>")
    assert problems("<p>« Bien reçu »</p>")
    assert problems('<p>Choisissez "Bien reçu".</p>')


@pytest.mark.django_db
def test_wagtails_default_groups_have_french_names():
    """Wagtail's migrations create "Editors" and "Moderators"; after migrate they are the
    hub's "Rédacteurs" and "Modérateurs", with their page rights."""
    from django.contrib.auth.models import Group
    from wagtail.models import GroupPagePermission

    from hub import roles

    names = set(Group.objects.values_list("name", flat=True))
    assert not names & {"Editors", "Moderators"}
    assert {roles.EDITORS, "Modérateurs"} <= names
    assert GroupPagePermission.objects.filter(group__name="Modérateurs").exists()
    assert GroupPagePermission.objects.filter(group__name=roles.EDITORS).exists()


@pytest.mark.django_db
def test_an_english_group_is_merged_into_its_french_one():
    from django.contrib.auth.models import Group
    from wagtail.models import GroupPagePermission, Page

    from hub import roles
    from tests.conftest import make_user

    english = Group.objects.create(name="Editors")
    user = make_user("ancienne@example.com", is_staff=True, groups=["Editors"])
    GroupPagePermission.objects.create(group=english, page=Page.get_first_root_node(),
                                       permission_type="lock")
    roles.sync_staff_roles()
    assert not Group.objects.filter(name="Editors").exists()
    assert user.groups.filter(name=roles.EDITORS).exists()
    assert GroupPagePermission.objects.filter(group__name=roles.EDITORS,
                                              permission__codename="lock_page").exists()


@pytest.mark.django_db
def test_sign_on_client_form_is_french_and_offers_only_supported_grants(site):
    from oauth2_provider.models import get_application_model

    from hub.models import User

    admin = User.objects.get(email="admin@example.com")
    client = Client()
    client.force_login(admin)
    model = get_application_model()
    page = client.get(reverse(model.snippet_viewset.get_url_name("add")),
                      HTTP_ACCEPT_LANGUAGE="fr").content.decode()
    assert 'value="authorization-code"' in page and "Code d’autorisation" in page
    for refused in ('value="implicit"', 'value="password"', 'value="openid-hybrid"',
                    "Authorization grant type", "Skip authorization"):
        assert refused not in page, refused
    assert "Type d’autorisation" in page
    response = client.post(reverse(model.snippet_viewset.get_url_name("add")), {
        "name": "Appli", "client_id": "appli", "client_type": "public",
        "authorization_grant_type": "implicit", "redirect_uris": "https://a.example/cb",
        "post_logout_redirect_uris": "", "client_secret": "", "algorithm": ""})
    assert response.status_code == 200 and not model.objects.filter(name="Appli").exists()


@pytest.mark.django_db
def test_french_news_form_lists_the_french_categories_only(site):
    from modules.actualites import demo as news_demo
    from modules.actualites.models import NewsPage

    news = NewsPage.objects.filter(locale__language_code="fr").first()
    page = _signed_in("admin@example.com").get(
        reverse("wagtailadmin_pages:edit", args=[news.pk])).content.decode()
    for _slug, french, english in news_demo.CATEGORIES:
        assert french in page, french
        if english != french:
            assert english not in page, english


@pytest.mark.django_db
def test_demo_category_descriptions_do_not_repeat_the_name(site):
    from modules.requetes.models import Category

    categories = list(Category.objects.all())
    assert categories
    for category in categories:
        for name, description in ((category.name_fr, category.description_fr),
                                  (category.name_en, category.description_en)):
            assert description and name.lower() not in description.lower(), (name, description)


@pytest.mark.django_db
def test_civic_address_admin_accepts_the_french_decimal_comma(site):
    """The help texts say "Par exemple 45,2556": the admin's coordinates take it."""
    from hub.models import CivicAddress

    response = _signed_in("admin@example.com").post(
        reverse(CivicAddress.snippet_viewset.get_url_name("add")), {
            "number": "999", "suffix": "", "unit": "", "street": "rue Essai",
            "postal_code": "", "municipality": "Salaberry-de-Valleyfield",
            "latitude": "45,2435", "longitude": "-74,1320"})
    assert response.status_code == 302, response.content.decode()[:2000]
    address = CivicAddress.objects.get(number=999, street="rue Essai")
    assert (address.latitude, address.longitude) == (45.2435, -74.132)
