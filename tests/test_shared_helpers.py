"""The hub's shared helpers (hub/i18n.py, hub/text.py): the one bilingual picker, the
one accent folding, the one CSV decoding that modules use instead of their own copies."""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from django.utils import translation

from hub.i18n import current_language, current_locale, languages, localized
from hub.text import CsvError, decode_csv_bytes, dict_reader, fold, sniff_delimiter, strip_accents


@dataclass
class Bilingual:
    name_fr: str = ""
    name_en: str = ""


def test_languages_are_the_sites_french_first():
    assert languages() == ("fr", "en")


@pytest.mark.parametrize("active,expected", [
    ("fr", "fr"), ("en", "en"), ("en-us", "en"), ("fr-ca", "fr"), ("de", "fr")])
def test_current_language_two_letters_french_fallback(active, expected):
    with translation.override(active):
        assert current_language() == expected


def test_current_language_without_active_language_is_french():
    with translation.override(None):
        assert current_language() == "fr"


def test_localized_active_language_with_french_fallback():
    both = Bilingual("Collectes", "Collections")
    french_only = Bilingual("Collectes", "")
    with translation.override("en"):
        assert localized(both, "name") == "Collections"
        assert localized(french_only, "name") == "Collectes"
    with translation.override("fr"):
        assert localized(both, "name") == "Collectes"


def test_localized_explicit_language_wins_over_the_active_one():
    both = Bilingual("Collectes", "Collections")
    with translation.override("fr"):
        assert localized(both, "name", "en") == "Collections"
        assert localized(both, "name", "en-CA") == "Collections"
    with translation.override("en"):
        assert localized(both, "name", "fr") == "Collectes"


def test_localized_unknown_language_or_missing_field_reads_french():
    both = Bilingual("Collectes", "Collections")
    assert localized(both, "name", "de") == "Collectes"
    assert localized(both, "title", "en") == ""


def test_the_same_rule_on_rows_and_pairs_of_values():
    """``.values()`` rows and plain pairs (payload fields) follow the objects' rule."""
    from hub.i18n import pick

    row = {"category__name_fr": "Voirie", "category__name_en": "Roads"}
    french_only = {"category__name_fr": "Voirie", "category__name_en": ""}
    with translation.override("en"):
        assert localized(row, "category__name") == "Roads"
        assert localized(french_only, "category__name") == "Voirie"
        assert pick("Voirie", "Roads") == "Roads"
        assert pick("Voirie", "") == "Voirie"
    with translation.override("fr"):
        assert localized(row, "category__name") == "Voirie"
        assert pick("Voirie", "Roads") == "Voirie"
        assert pick("Voirie", "Roads", "en-CA") == "Roads"


@pytest.mark.django_db
def test_current_locale_follows_the_active_language():
    from wagtail.models import Locale

    Locale.objects.get_or_create(language_code="fr")
    Locale.objects.get_or_create(language_code="en")
    with translation.override("en"):
        assert current_locale().language_code == "en"
    with translation.override("fr"):
        assert current_locale().language_code == "fr"


@pytest.mark.parametrize("text,expected", [
    ("Rue Saint-Éloi", "rue saint-eloi"),
    ("Évaluation foncière", "evaluation fonciere"),
    ("CŒUR Ægir Straße", "coeur aegir strasse"),
    ("l’île", "l'ile"),
    ("", ""),
    (None, ""),
])
def test_fold(text, expected):
    assert fold(text) == expected
    assert fold(fold(text)) == fold(text)


def test_strip_accents_keeps_case():
    assert strip_accents("Œuvre Éloi") == "OEuvre Eloi"


def test_decode_csv_utf8_with_bom_and_windows_1252():
    assert decode_csv_bytes("\ufeffnom;rue\nÉloi;Cœur\n".encode()) == "nom;rue\nÉloi;Cœur\n"
    assert decode_csv_bytes("name,street\nÉloi,Cœur\n".encode("cp1252")) == (
        "name,street\nÉloi,Cœur\n")


@pytest.mark.parametrize("data", [b"PK\x03\x04\x00\x00binary", b"name\x01,phone\n"])
def test_decode_csv_refuses_binary_with_a_message(data):
    with translation.override("en"), pytest.raises(CsvError, match="not a CSV text file"):
        decode_csv_bytes(data)


def test_decode_csv_refuses_undecodable_bytes():
    # 0x81 is undefined in Windows-1252 and invalid UTF-8.
    with translation.override("en"), pytest.raises(CsvError, match="UTF-8"):
        decode_csv_bytes(b"name\n\x81\x81\n")


def test_decode_csv_message_in_french():
    with translation.override("fr"), pytest.raises(CsvError, match="pas un fichier texte"):
        decode_csv_bytes(b"\x00")


@pytest.mark.parametrize("header,expected", [
    ("nom;rue;ville", ";"), ("name,street", ","), ("name", ","), ("a;b,c,d", ","), ("", ",")])
def test_sniff_delimiter(header, expected):
    assert sniff_delimiter(header) == expected


def test_dict_reader_semicolon_and_comma():
    assert list(dict_reader("nom;rue\n1;Rue, Sainte\n")) == [{"nom": "1", "rue": "Rue, Sainte"}]
    assert list(dict_reader('name,street\n1,"a;b"\n')) == [{"name": "1", "street": "a;b"}]
    assert list(dict_reader("")) == []


def test_helpers_are_pure_no_database_import():
    import ast
    from pathlib import Path

    root = Path(__file__).resolve().parent.parent / "hub"
    for name in ("i18n.py", "text.py"):
        tree = ast.parse((root / name).read_text())
        top_level = [node for node in tree.body if isinstance(node, (ast.Import, ast.ImportFrom))]
        modules = [getattr(node, "module", None) or node.names[0].name for node in top_level]
        assert not [m for m in modules if m and (m.startswith(("django.db", "wagtail",
                                                                "hub.models")))], (name, modules)


def test_fast_child_routing_written_once():
    """The home page and the news index route through the one mixin; neither writes its
    own ``route``."""
    from hub.models import FastChildRoutingMixin, HomePage
    from modules.actualites.models import NewsIndexPage, NewsPage

    for page in (HomePage, NewsIndexPage):
        assert issubclass(page, FastChildRoutingMixin)
        assert "route" not in vars(page)
    assert NewsIndexPage().routed_child_model("any") is NewsPage


def _cycles(packages: tuple[str, ...]) -> list[set[str]]:
    """Import cycles (strongly connected groups of modules) among ``packages``, counting
    function-level imports too; imports under ``TYPE_CHECKING`` never run and are left
    out."""
    import grimp

    graph = grimp.build_graph("hub", "modules", "theme", exclude_type_checking_imports=True)
    inside = {m for m in graph.modules if m.startswith(packages)}
    edges = {m: {t for t in graph.find_modules_directly_imported_by(m) if t in inside}
             for m in inside}
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    groups: list[set[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        for target in edges[node]:
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            group = set()
            while True:
                member = stack.pop()
                group.add(member)
                if member == node:
                    break
            if len(group) > 1:
                groups.append(group)

    for module in sorted(inside):
        if module not in index:
            visit(module)
    return groups


def test_no_import_cycles_in_the_hub_and_the_modules():
    """hub/ (addresses ↔ models, notify ↔ notice email ↔ tasks ↔ scheduler), alertes
    (models ↔ services ↔ tasks, channels ↔ services), requetes, and the news and links
    modules (models ↔ services) import in one direction only."""
    assert _cycles(("hub", "modules", "theme")) == []


@pytest.mark.django_db
def test_city_settings_are_the_one_source_of_the_citys_name_and_phone(client, site):
    """Renaming the city and changing its intake phone in the admin's settings changes
    the site's header and footer, Open311's discovery contact and the SMS help reply:
    no setting or hard-coded string says otherwise."""
    from django.urls import reverse
    from wagtail.models import Site

    from hub.models import SiteSettings
    from modules.alertes.services import help_text

    city = SiteSettings.for_site(Site.objects.get(is_default_site=True))
    city.city_name, city.intake_phone = "Beauharnois", "450 555-0142"
    city.save()
    assert SiteSettings.current().city_name == "Beauharnois"
    page = client.get("/fr/").content.decode()
    assert "Beauharnois" in page and "450 555-0142" in page and "tel:+14505550142" in page
    contact = client.get(reverse("open311:discovery", kwargs={"fmt": "json"})).json()["contact"]
    assert contact == "Beauharnois, 311 / 450 555-0142"
    reply = help_text("fr")
    assert "Beauharnois" in reply and "450 555-0142" in reply and "Valleyfield" not in reply


@pytest.mark.django_db
def test_city_settings_before_any_site_are_the_fields_defaults():
    from wagtail.models import Site

    from hub.models import SiteSettings

    Site.objects.all().delete()
    current = SiteSettings.current()
    assert current.pk is None and current.city_name == "Salaberry-de-Valleyfield"
    assert current.intake_phone == "450 370-4820"
