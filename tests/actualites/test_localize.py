"""News are written in French and translated to English through wagtail-localize's
workflow: the editor submits the page for translation in the admin, the translator
fills the strings (a PO file, as exported and imported by the translation editor), the
English page is published and shows at /en/news/… and in the pages API."""

from __future__ import annotations

import datetime

import polib
import pytest
from wagtail.models import Locale
from wagtail_localize.models import Translation, TranslationSource

from modules.actualites.models import NewsIndexPage, NewsPage

ENGLISH = {
    "Collecte des feuilles mortes": "Dead-leaf collection",
    "collecte-feuilles-mortes": "dead-leaf-collection",
    "Les sacs en papier seront ramassés du 20 au 31 octobre.":
        "Paper bags will be picked up from October 20 to 31.",
    "Déposez vos sacs en bordure de rue avant 7 h.":
        "Put your bags at the curb before 7 a.m.",
}


@pytest.fixture
def french_news(site):
    index = NewsIndexPage.objects.get(locale__language_code="fr")
    page = NewsPage(title="Collecte des feuilles mortes", slug="collecte-feuilles-mortes",
                    lead="Les sacs en papier seront ramassés du 20 au 31 octobre.",
                    date=datetime.date(2026, 10, 15), live=False,
                    body=[("paragraph", "<p>Déposez vos sacs en bordure de rue avant 7 h.</p>")])
    index.add_child(instance=page)
    page.save_revision().publish()
    page.refresh_from_db()
    return page


def test_english_translation_through_the_wagtail_localize_workflow(
        client, french_news, administrator, django_capture_on_commit_callbacks):
    en = Locale.objects.get(language_code="en")
    client.force_login(administrator)

    # 1. The editor submits the French page for translation (the admin's "Translate").
    submit = f"/admin/localize/submit/page/{french_news.pk}/"
    assert client.get(submit).status_code == 200
    # wagtail-localize publishes on commit: the callbacks run, as they would in the admin.
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(submit, {"locales": [en.pk]})
    assert response.status_code == 302
    source = TranslationSource.objects.get(object_id=french_news.translation_key)
    translation = Translation.objects.get(source=source, target_locale=en)
    draft = french_news.get_translation(en)
    assert not draft.live  # a draft copy until the strings are translated and published

    # 2. The translator downloads the strings, translates them and uploads them back.
    po = polib.pofile(str(translation.export_po()))
    assert {entry.msgid for entry in po} == set(ENGLISH)
    for entry in po:
        entry.msgstr = ENGLISH[entry.msgid]
    translation.import_po(po, user=administrator)
    assert translation.get_progress() == (len(ENGLISH), len(ENGLISH))

    # 3. Publish the English page (the translation editor's "Publish").
    with django_capture_on_commit_callbacks(execute=True):
        translation.save_target(user=administrator, publish=True)
    english = NewsPage.objects.get(pk=draft.pk)
    assert english.live and english.locale == en
    assert english.translation_key == french_news.translation_key
    assert english.slug == "dead-leaf-collection"

    client.logout()
    page = client.get("/en/news/dead-leaf-collection/")
    assert page.status_code == 200
    html = page.content.decode()
    assert "Dead-leaf collection" in html
    assert "Put your bags at the curb before 7 a.m." in html
    assert "Collecte des feuilles" not in html
    assert "Dead-leaf collection" in client.get("/en/news/").content.decode()
    french = client.get(french_news.url).content.decode()
    assert "Déposez vos sacs" in french

    listing = client.get("/api/v2/pages/", {"type": "actualites.NewsPage", "locale": "en",
                                            "fields": "lead,body"}).json()
    item = next(i for i in listing["items"] if i["meta"]["slug"] == "dead-leaf-collection")
    assert item["title"] == "Dead-leaf collection"
    assert item["lead"] == "Paper bags will be picked up from October 20 to 31."
    assert "curb before 7 a.m." in item["body"][0]["value"]
    assert item["meta"]["locale"] == "en"
    french_items = client.get("/api/v2/pages/", {"type": "actualites.NewsPage",
                                                 "locale": "fr"}).json()["items"]
    assert "dead-leaf-collection" not in {i["meta"]["slug"] for i in french_items}


def test_translation_updates_follow_the_french_source(client, french_news, administrator,
                                                     django_capture_on_commit_callbacks):
    """A correction in French reaches the English page through "Sync translated pages"
    (update the source): only the changed string needs a new translation."""
    en = Locale.objects.get(language_code="en")
    client.force_login(administrator)
    client.post(f"/admin/localize/submit/page/{french_news.pk}/", {"locales": [en.pk]})
    source = TranslationSource.objects.get(object_id=french_news.translation_key)
    translation = Translation.objects.get(source=source, target_locale=en)
    po = polib.pofile(str(translation.export_po()))
    for entry in po:
        entry.msgstr = ENGLISH[entry.msgid]
    translation.import_po(po)
    with django_capture_on_commit_callbacks(execute=True):
        translation.save_target(publish=True)

    new_lead = "Les sacs en papier seront ramassés du 20 octobre au 7 novembre."
    french_news.lead = new_lead
    french_news.save_revision().publish()
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(f"/admin/localize/update/{source.pk}/", {})
    assert response.status_code == 302
    translation.refresh_from_db()
    po = polib.pofile(str(translation.export_po()))
    pending = [entry for entry in po if not entry.msgstr]
    assert [entry.msgid for entry in pending] == [new_lead]
    assert all(entry.msgstr == ENGLISH[entry.msgid] for entry in po if entry.msgstr)
    pending[0].msgstr = "Paper bags will be picked up from October 20 to November 7."
    translation.import_po(po)
    with django_capture_on_commit_callbacks(execute=True):
        translation.save_target(publish=True)
    client.logout()
    html = client.get("/en/news/dead-leaf-collection/").content.decode()
    assert "October 20 to November 7" in html
    assert "Put your bags at the curb" in html


# --- The translation editor, over HTTP (issue 13, item 1) ---------------------------------

def _submitted(client, page, django_capture_on_commit_callbacks):
    """ "Traduire cette page" → English, as the admin's form does it (callbacks run)."""
    en = Locale.objects.get(language_code="en")
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(f"/admin/localize/submit/page/{page.pk}/", {"locales": [en.pk]})
    assert response.status_code == 302
    source = TranslationSource.objects.get(object_id=page.translation_key)
    return Translation.objects.get(source=source, target_locale=en), page.get_translation(en)


def test_translate_this_page_creates_an_unpublished_english_draft(
        client, french_news, administrator, django_capture_on_commit_callbacks):
    """The English copy holds the French text until it is translated: it must not go
    live when the editor starts the translation, only when they publish it."""
    client.force_login(administrator)
    _translation, draft = _submitted(client, french_news, django_capture_on_commit_callbacks)
    draft = NewsPage.objects.get(pk=draft.pk)
    assert not draft.live
    assert draft.has_unpublished_changes  # a draft revision awaits the editor's "Publish"
    assert draft.live_revision is None and draft.first_published_at is None
    client.logout()
    assert client.get("/en/news/collecte-feuilles-mortes/").status_code == 404
    assert "Collecte des feuilles" not in client.get("/en/news/").content.decode()


def _editor_client(user):
    from django.test import Client

    browser = Client(enforce_csrf_checks=True)
    browser.force_login(user)
    return browser


def _string_segments(translation):
    from wagtail_localize.models import StringSegment

    return list(StringSegment.objects.filter(source=translation.source)
                .select_related("string").order_by("order"))


def test_the_translation_editor_saves_each_segment_with_its_form_body(
        french_news, administrator, django_capture_on_commit_callbacks, client):
    """The editor's JavaScript PUTs each segment as multipart/form-data with the session
    and the CSRF token (X-CSRFToken); every save is accepted and stored."""
    from django.test.client import BOUNDARY, MULTIPART_CONTENT, encode_multipart
    from wagtail_localize.models import StringTranslation

    client.force_login(administrator)
    translation, draft = _submitted(client, french_news, django_capture_on_commit_callbacks)
    browser = _editor_client(administrator)
    editor = browser.get(f"/admin/pages/{draft.pk}/edit/")
    assert editor.status_code == 200
    assert b"js-translation-editor" in editor.content
    token = browser.cookies["csrftoken"].value

    segments = _string_segments(translation)
    assert {segment.string.data for segment in segments} == set(ENGLISH)
    for segment in segments:
        url = f"/admin/localize/translate/{translation.pk}/strings/{segment.pk}/edit/"
        body = encode_multipart(BOUNDARY, {"value": ENGLISH[segment.string.data]})
        refused = browser.put(url, body, content_type=MULTIPART_CONTENT)
        assert refused.status_code == 403  # no token: CSRF still guards the editor
        response = browser.put(url, body, content_type=MULTIPART_CONTENT,
                               headers={"X-CSRFToken": token})
        assert response.status_code == 201, response.content
        assert response.json()["data"] == ENGLISH[segment.string.data]
        again = browser.put(url, body, content_type=MULTIPART_CONTENT,
                            headers={"X-CSRFToken": token})
        assert again.status_code == 200, again.content
    stored = StringTranslation.objects.filter(locale=translation.target_locale)
    assert {s.data for s in stored} == set(ENGLISH.values())
    assert translation.get_progress() == (len(ENGLISH), len(ENGLISH))

    # Clearing a segment (the editor's DELETE) works too.
    segment = segments[0]
    url = f"/admin/localize/translate/{translation.pk}/strings/{segment.pk}/edit/"
    assert browser.delete(url, headers={"X-CSRFToken": token}).status_code == 200
    assert translation.get_progress() == (len(ENGLISH), len(ENGLISH) - 1)


def test_a_resident_cannot_save_a_segment(
        french_news, administrator, citizen, django_capture_on_commit_callbacks, client):
    from django.test.client import BOUNDARY, MULTIPART_CONTENT, encode_multipart

    client.force_login(administrator)
    translation, _draft = _submitted(client, french_news, django_capture_on_commit_callbacks)
    segment = _string_segments(translation)[0]
    from django.middleware.csrf import _get_new_csrf_string

    browser = _editor_client(citizen)
    token = _get_new_csrf_string()
    browser.cookies["csrftoken"] = token
    response = browser.put(
        f"/admin/localize/translate/{translation.pk}/strings/{segment.pk}/edit/",
        encode_multipart(BOUNDARY, {"value": "Hijacked"}), content_type=MULTIPART_CONTENT,
        headers={"X-CSRFToken": token})
    assert response.status_code == 302  # the admin sends a resident to the sign-in page
    assert response["Location"].startswith("/fr/compte/login/")
    assert not translation.get_progress()[1]


def test_the_projects_api_still_parses_json_only():
    """Only wagtail-localize's two editor views get the form parsers back."""
    from rest_framework.parsers import JSONParser
    from rest_framework.settings import api_settings
    from wagtail_localize.views import edit_translation

    assert api_settings.DEFAULT_PARSER_CLASSES == [JSONParser]
    for view in (edit_translation.edit_string_translation, edit_translation.edit_override):
        assert {p.media_type for p in view.cls.parser_classes} == {
            "application/json", "multipart/form-data", "application/x-www-form-urlencoded"}


@pytest.mark.parametrize("group", ["Rédacteurs", "Agents de communication", "Administrateurs"])
def test_staff_who_write_pages_may_submit_them_for_translation(client, french_news, group):
    """wagtail-localize grants its permission to Wagtail's "Editors" and "Moderators",
    groups the hub renames; the hub's writers get it from the hub's migration."""
    from tests.conftest import make_user

    writer = make_user(f"ecrit.{group[:5].lower()}@example.com", is_staff=True, groups=[group])
    client.force_login(writer)
    assert writer.has_perm("wagtail_localize.submit_translation")
    assert client.get(f"/admin/localize/submit/page/{french_news.pk}/").status_code == 200
    edit = client.get(f"/admin/pages/{french_news.pk}/edit/").content.decode()
    assert f"/admin/localize/submit/page/{french_news.pk}/" in edit  # "Traduire cette page"


def test_service_agents_may_not_submit_pages_for_translation(client, french_news):
    from tests.conftest import make_user

    agent = make_user("agent.saisie@example.com", is_staff=True, groups=["Agents de service"])
    client.force_login(agent)
    assert not agent.has_perm("wagtail_localize.submit_translation")
    assert client.get(f"/admin/localize/submit/page/{french_news.pk}/").status_code in (302, 403)
