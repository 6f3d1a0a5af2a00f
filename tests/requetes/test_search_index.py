"""The staff queue's text search on the database (``text_search``): the three columns
searched as one folded text, and on PostgreSQL the trigram index of migration 0009
answering it (the plan names the index; a query expression that drifted from the
index's would fall back to reading every row, which only a plan shows)."""

import pytest
from django.db import connection

from modules.requetes import services, text_search
from modules.requetes.models import ServiceRequest
from tests.requetes.conftest import INSIDE

pytestmark = pytest.mark.django_db

ANSWERS = {"eclairage": {"poteau": 42}, "animaux": {"etat": "nuisance"}}


def _create(citizen, category, description, address=""):
    return services.create_request(actor=citizen, category=category, description=description,
                                   latitude=INSIDE[0], longitude=INSIDE[1], address=address,
                                   answers=ANSWERS[category.service_code])


@pytest.fixture
def found(administrator):
    def search(text):
        qs = services.search_requests(services.staff_queryset(administrator), text,
                                      administrator)
        return set(qs.values_list("reference", flat=True))
    return search


@pytest.fixture
def requests_(citizen, lighting, animals):
    return {
        "lamp": _create(citizen, lighting, "Lampadaire ÉTEINT devant l’école",
                        "125, rue Saint-Éloi"),
        "snow": _create(citizen, lighting, "Déneigement du trottoir oublié",
                        "40, boulevard Mgr-Langlois"),
        "dog": _create(citizen, animals, "Chien errant près du parc", "8, rue Victoria"),
    }


def test_partial_words_accents_and_case(requests_, found):
    lamp, snow, dog = (requests_[key].reference for key in ("lamp", "snow", "dog"))
    assert found("eteint") == {lamp}  # stored upper case with an accent
    assert found("DENEIG") == {snow}  # the start of a word, no accent
    assert found("oubli") == {snow}  # a word's middle part
    assert found("éloi") == {lamp}
    assert found("errant vict") == {dog}  # one word in the description, one in the address
    assert found(lamp[-4:]) == {lamp}  # the end of a reference
    assert found("parc 125") == set()  # every word must match the same request


def test_a_word_is_never_found_across_two_columns(requests_, found):
    """The columns are joined by a space, and a word has none: the end of one column
    followed by the start of the next is not a match."""
    lamp = requests_["lamp"]
    assert found(f"{lamp.reference[-3:]}125") == set()  # reference + address
    assert found("victoriachien") == set() and found("éloilampadaire") == set()
    assert found(f"{lamp.reference[-3:]} 125") == {lamp.reference}


def test_short_words_and_special_characters(requests_, found):
    snow = requests_["snow"].reference
    assert found("gr") == {snow}  # shorter than a trigram: still found (by a scan)
    assert found("%") == set() and found("_") == set()  # LIKE wildcards are literal
    assert found("mgr-langlois") == {snow}


@pytest.mark.skipif(connection.vendor != "postgresql", reason="the trigram index is "
                    "PostgreSQL's (SQLite scans, see migration 0009)")
def test_postgresql_answers_from_the_trigram_index(requests_):
    qs = text_search.search(ServiceRequest.objects.order_by(), "lampadaire éteint")
    with connection.cursor() as cursor:
        # Three rows would be read directly, or along another index; forbid both to see
        # whether the trigram index can answer at all (an expression that differs from
        # the index's cannot: the plan would then be a sequential scan anyway).
        cursor.execute("SET enable_seqscan = off")
        cursor.execute("SET enable_indexscan = off")
        try:
            plan = qs.explain()
        finally:
            cursor.execute("RESET enable_seqscan")
            cursor.execute("RESET enable_indexscan")
    assert "requetes_sr_search_trgm" in plan
    assert set(qs.values_list("reference", flat=True)) == {requests_["lamp"].reference}
