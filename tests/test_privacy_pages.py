"""The privacy policy and the personal-information governance rules are editable Wagtail
pages in French and English, seeded by the demo and linked from every page's footer."""

import re

import pytest
from django.core.cache import cache

from hub import demo
from hub.models import ContentPage, SiteSettings


def footer(html: str) -> str:
    return html[html.index('<footer class="site-footer">'):]


@pytest.mark.django_db
def test_demo_seeds_both_pages_in_both_languages_linked_from_the_footer(client, site):
    demo.load()  # idempotent: a second load adds nothing
    assert ContentPage.objects.filter(slug__in=[
        "politique-de-confidentialite", "gouvernance-des-renseignements-personnels",
        "privacy-policy", "personal-information-governance"]).count() == 4
    settings_obj = SiteSettings.current()
    assert settings_obj.privacy_page.slug == "politique-de-confidentialite"
    cache.clear()
    for home, expected in (("/fr/", ["Politique de confidentialité",
                                     "Gouvernance des renseignements personnels"]),
                           ("/en/", ["Privacy policy", "Personal information governance"])):
        html = footer(client.get(home).content.decode())
        links = re.findall(r'<a href="([^"]+)">([^<]+)</a>', html)
        titles = [title for _url, title in links]
        for title in expected:
            assert title in titles, (home, titles)
        for url, title in links:
            if title in expected:
                page = client.get(url)
                assert page.status_code == 200, url
                assert title in page.content.decode()
                assert url.startswith(home)


@pytest.mark.django_db
def test_the_footer_follows_the_editors_choice(client, site):
    settings_obj = SiteSettings.current()
    settings_obj.privacy_page = None
    settings_obj.governance_page = None
    settings_obj.save()
    cache.clear()
    html = footer(client.get("/fr/").content.decode())
    assert "Politique de confidentialité" not in html
