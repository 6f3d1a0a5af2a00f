"""The French catalogs: every app owns one, it is complete, its .mo is up to date, and the
site actually speaks French on /fr/ and English on /en/."""

import re
from pathlib import Path

import polib
import pytest

ROOT = Path(__file__).resolve().parent.parent
APPS = [
    "hub",
    "theme",
    "modules/requetes",
    "modules/alertes",
    "modules/actualites",
    "modules/liens_services",
]


def catalog(app: str, ext: str = "po") -> Path:
    return ROOT / app / "locale" / "fr" / "LC_MESSAGES" / f"django.{ext}"


def key(entry) -> tuple:
    return (entry.msgctxt or "", entry.msgid, entry.msgid_plural or "")


def translation(entry) -> tuple:
    if entry.msgid_plural:
        return tuple(entry.msgstr_plural[i] for i in sorted(entry.msgstr_plural))
    return (entry.msgstr,)


def live_entries(app: str):
    return [entry for entry in polib.pofile(str(catalog(app))) if not entry.obsolete]


@pytest.mark.parametrize("app", APPS)
def test_catalog_exists(app):
    assert catalog(app).is_file(), f"{app} has no French catalog: run makemessages -l fr in {app}/"
    assert catalog(app, "mo").is_file(), f"{app}: compile the catalog (compilemessages)"


@pytest.mark.parametrize("app", APPS)
def test_catalog_is_complete(app):
    po = polib.pofile(str(catalog(app)))
    assert not po.metadata_is_fuzzy, f"{app}: the catalog header is marked fuzzy"
    problems = []
    for entry in live_entries(app):
        if entry.fuzzy:
            problems.append(f"fuzzy: {entry.msgid!r}")
        elif not all(translation(entry)):
            problems.append(f"untranslated: {entry.msgid!r}")
    assert not problems, f"{app}/locale/fr: " + "; ".join(problems)


@pytest.mark.parametrize("app", APPS)
def test_placeholders_are_kept(app):
    problems = []
    for entry in live_entries(app):
        if "python-format" not in entry.flags:
            continue
        wanted = sorted(set(_placeholders(entry.msgid) | _placeholders(entry.msgid_plural or "")))
        for text in translation(entry):
            if sorted(_placeholders(text)) != wanted:
                problems.append(f"{entry.msgid!r} → {text!r}")
    assert not problems, f"{app}: placeholders differ: " + "; ".join(problems)


_STRAIGHT_APOSTROPHE = re.compile(r"(?<=[A-Za-zÀ-ÿ])'(?=[A-Za-zÀ-ÿ])")
_SPACE_BEFORE_PUNCTUATION = re.compile(r" [:;?!](?=\s|$|<|\))")


@pytest.mark.parametrize("app", APPS)
def test_french_typography_in_the_catalog(app):
    """Québec French typography in every translation, wherever it is shown (pages, emails,
    SMS, the admin, CSV headers): the typographic apostrophe, and a non-breaking space
    before « : ; ? ! » (a plain space there lets the sign wrap to the next line)."""
    problems = [text for entry in live_entries(app) for text in translation(entry)
                if _STRAIGHT_APOSTROPHE.search(text) or _SPACE_BEFORE_PUNCTUATION.search(text)]
    assert not problems, f"{app}/locale/fr: " + "; ".join(map(repr, problems[:20]))


def _placeholders(text: str) -> set[str]:
    return set(re.findall(r"%\([a-zA-Z0-9_]+\)[sdif]", text))


@pytest.mark.parametrize("app", APPS)
def test_mo_matches_po(app):
    """The committed .mo holds exactly the .po's translations (recompile after editing)."""
    po = {key(entry): translation(entry) for entry in live_entries(app)
          if not entry.fuzzy and all(translation(entry))}
    mo = {key(entry): translation(entry) for entry in polib.mofile(str(catalog(app, "mo")))
          if entry.msgid}
    assert mo == po, (
        f"{app}: django.mo is stale — run `msgfmt -o django.mo django.po` in "
        f"{app}/locale/fr/LC_MESSAGES/ (or compilemessages). "
        f"Missing from .mo: {sorted(set(po) - set(mo))[:10]}; "
        f"differing: {sorted(k for k in po if k in mo and po[k] != mo[k])[:10]}"
    )


def test_pages_speak_french_and_english(client, site):
    fr = client.get("/fr/")
    assert fr.status_code == 200
    content = fr.content.decode()
    for text in ["Signaler un problème", "Se connecter", "Aller au contenu principal",
                 "Créer un compte", "Actualités de la Ville", "Autres services en ligne",
                 "Alertes et communications"]:
        assert text in content, text
    en = client.get("/en/")
    assert en.status_code == 200
    content = en.content.decode()
    for text in ["Report a problem", "Sign in", "Skip to main content", "Create an account"]:
        assert text in content, text
    assert "Se connecter" not in content
