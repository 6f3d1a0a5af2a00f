"""An editor translates a French news page into English in wagtail-localize's real
translation editor, in Debian's Chromium (issue 13, item 1).

"Traduire cette page" creates the English page as a draft (it holds the French text
until it is translated); each segment is typed and saved in the editor — every save is a
PUT with a form body that must be accepted, never "Erreur du serveur" — and the page goes
live at /en/news/… with the English text only when the editor clicks "Publier en
anglais".  The translation screens speak French (no "Publier dansEnglish", no "More
actions")."""

from __future__ import annotations

import datetime
import re

import pytest

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True, serialized_rollback=True)]

FRENCH_TITLE = "Fermeture du parc Sauvé"
# The editor's tabs, as the page's edit form: the slug is under "Promotion".
ENGLISH = {
    "Contenu": {
        FRENCH_TITLE: "Sauvé Park closure",
        "Le parc sera fermé du 3 au 7 novembre pour l’entretien des sentiers.":
            "The park will be closed from November 3 to 7 for trail maintenance.",
        "Un détour est prévu par la rue Victoria.": "A detour is planned via Victoria Street.",
    },
    "Promotion": {"fermeture-parc-sauve": "sauve-park-closure"},
}


def segment(page, french: str):
    """The editor's block of one source string (its <li>, holding the French text)."""
    return page.locator(f"xpath=//li[p[normalize-space()={_xpath_literal(french)}]]")


def _xpath_literal(text: str) -> str:
    return f'"{text}"' if '"' not in text else "concat('" + "', \"'\", '".join(
        text.split("'")) + "')"


def test_editor_translates_a_news_page_segment_by_segment_then_publishes_it(page, demo_site):
    from playwright.sync_api import expect
    from wagtail.models import Locale

    from hub import demo
    from modules.actualites.models import NewsIndexPage, NewsPage

    index = NewsIndexPage.objects.get(locale__language_code="fr")
    french = NewsPage(
        title=FRENCH_TITLE, slug="fermeture-parc-sauve", date=datetime.date(2026, 11, 1),
        lead="Le parc sera fermé du 3 au 7 novembre pour l’entretien des sentiers.",
        body=[("paragraph", "<p>Un détour est prévu par la rue Victoria.</p>")])
    index.add_child(instance=french)
    french.save_revision().publish()
    english_locale = Locale.objects.get(language_code="en")

    failures = []
    page.on("response", lambda r: failures.append(f"{r.status} {r.request.method} {r.url}")
            if r.status >= 400 and "/admin/" in r.url else None)

    # The editor opens the French page in the admin and asks for its translation.
    page.goto(f"/fr/compte/login/?next=/admin/pages/{french.pk}/edit/")
    page.locator("input[name=login]").fill(demo.ADMIN_EMAIL)
    page.locator("input[name=password]").fill(demo.ADMIN_PASSWORD)
    page.locator("form.form button[type=submit]").click()
    page.wait_for_url(f"**/admin/pages/{french.pk}/edit/")
    page.get_by_role("button", name="Actions").first.click()
    page.get_by_role("link", name="Traduire cette page").click()
    page.get_by_label("anglais").check()
    page.get_by_role("button", name="Soumettre").click()
    page.wait_for_url(re.compile(r"/admin/pages/\d+/edit/$"))
    expect(page.get_by_text(f"« {FRENCH_TITLE} » a été soumise avec succès pour "
                            "traduction en anglais")).to_be_visible()

    # The English copy exists but is a draft: nothing in French reaches /en/.
    english = NewsPage.objects.get(translation_key=french.translation_key,
                                   locale=english_locale)
    assert page.url.endswith(f"/admin/pages/{english.pk}/edit/")
    assert not english.live and english.live_revision is None
    anonymous = page.context.browser.new_context(base_url=demo_site.url)
    try:
        visitor = anonymous.new_page()
        assert visitor.goto(f"/en/news/{english.slug}/").status == 404
    finally:
        anonymous.close()

    # The translation screen speaks French.
    expect(page.get_by_role("button", name="Publier en anglais")).to_be_visible()
    expect(page.get_by_text("Traduction\u00a0: français → anglais").first).to_be_visible()
    expect(page.locator(".w-sr-only", has_text="Plus d’actions").first).to_be_attached()
    for english_leftover in ("More actions", "Publier dans", "English"):
        expect(page.locator(".js-translation-editor")).not_to_contain_text(english_leftover)

    # Segment by segment: type the English text and save; every save is accepted.
    for tab, strings in ENGLISH.items():
        page.get_by_role("tab", name=tab).click()
        for source, translated in strings.items():
            block = segment(page, source)
            expect(block).to_have_count(1)
            block.get_by_role("button", name="Traduire").click()
            block.locator("textarea").fill(translated)
            with page.expect_response(
                    lambda r: "/strings/" in r.url and r.request.method == "PUT") as saved:
                block.get_by_role("button", name="Enregistrer").click()
            assert saved.value.status in (200, 201), saved.value.text()
            expect(block).to_contain_text(translated)
            expect(block.locator("textarea")).to_have_count(0)
    expect(page.get_by_text("Erreur du serveur")).to_have_count(0)
    assert not failures, failures
    english.refresh_from_db()
    assert not english.live  # saved segments are not published either

    # The editor publishes the translation.
    page.get_by_role("button", name="Publier en anglais").click()
    expect(page.get_by_text("Erreur du serveur")).to_have_count(0)
    page.wait_for_load_state()
    english.refresh_from_db()
    assert english.live and english.slug == "sauve-park-closure"
    assert english.title == "Sauvé Park closure"
    assert not failures, failures

    # A visitor reads the English page at /en/news/….
    anonymous = page.context.browser.new_context(base_url=demo_site.url)
    try:
        visitor = anonymous.new_page()
        response = visitor.goto("/en/news/sauve-park-closure/")
        assert response.status == 200
        main = visitor.locator("main")
        expect(main).to_contain_text("Sauvé Park closure")
        expect(main).to_contain_text("The park will be closed from November 3 to 7")
        expect(main).to_contain_text("A detour is planned via Victoria Street.")
        expect(main).not_to_contain_text("Un détour est prévu")
        expect(main).not_to_contain_text("Fermeture du parc")
    finally:
        anonymous.close()
    french.refresh_from_db()
    assert french.live and french.title == FRENCH_TITLE
