import pytest

from modules.alertes import services
from modules.alertes.models import Alert
from modules.alertes.sms import MAX_SEGMENTS, gsm7_safe, is_gsm7, measure


def test_gsm7_single_and_concatenated_segments():
    assert measure("a" * 160).segments == 1
    assert measure("a" * 161).segments == 2
    assert measure("a" * 306).segments == 2
    assert measure("a" * 307).segments == 3
    assert measure("").segments == 0
    assert measure("é è à ù É Ç").encoding == "GSM-7"


def test_extension_characters_count_twice():
    length = measure("€" * 80)
    assert length.encoding == "GSM-7" and length.characters == 160 and length.segments == 1
    assert measure("€" * 81).segments == 2


@pytest.mark.parametrize("letter", ["ê", "â", "î", "ô", "û", "ç"])
def test_one_french_letter_switches_to_ucs2(letter):
    text = "a" * 69 + letter
    length = measure(text)
    assert length.encoding == "UCS-2" and length.segments == 1
    assert letter in length.non_gsm
    assert measure("a" * 70 + letter).segments == 2
    assert measure("a" * 133 + letter).segments == 2
    assert measure("a" * 134 + letter).segments == 3


def test_gsm7_safe_spelling():
    safe = gsm7_safe("Fermeture de la rue Sainte-Cécile : arrêt des travaux à 9 h, "
                     "détour par le boulevard — prévoyez « plus » de temps… façade")
    assert is_gsm7(safe)
    assert "arret" in safe and "facade" in safe and measure(safe).encoding == "GSM-7"
    # One spelling per message: once ê and ç are folded, é and à are folded too.
    assert "Cecile" in safe and " a 9 h" in safe and "detour" in safe
    assert not any(ch in safe for ch in "éèàù")


def test_gsm7_safe_keeps_accents_that_all_fit():
    """A text whose accents are all GSM-7 (é, è, à, ù) keeps them."""
    assert gsm7_safe("Déneigement à 9 h, rue Sainte-Cécile") == \
        "Déneigement à 9 h, rue Sainte-Cécile"


def test_sms_replies_are_never_half_accented(db):
    """The STOP reply in French: 'Vous êtes désabonné' is folded whole, not 'Vous etes
    désabonné'; the HELP reply too."""
    from modules.alertes.services import webhooks

    stop = webhooks.handle_inbound_sms("+15145550100", "ARRET")
    assert stop.startswith("Vous etes desabonne") and is_gsm7(stop)
    assert not any(ch in stop for ch in "éèàùê")
    help_fr = webhooks.help_text("fr")
    assert "Repondez ARRET" in help_fr and not any(ch in help_fr for ch in "éèàùê")


def test_sms_over_ten_segments_refused_with_the_count(db):
    alert = Alert(title_fr="Titre", body_fr="Texte", sms_fr="ê" * (67 * MAX_SEGMENTS + 1))
    with pytest.raises(services.AlertError) as exc:
        services.check_texts(alert)
    assert "11" in str(exc.value)
    alert.sms_fr = "ê" * (67 * MAX_SEGMENTS)
    warnings = services.check_texts(alert)
    assert warnings and "UCS-2" in warnings[0]


def test_gsm7_safe_spells_ligatures_out_with_the_hubs_folding():
    """GSM-7 has no œ: the hub's accent folding spells it "oe" instead of a "?"."""
    assert gsm7_safe("Le cœur du quartier") == "Le coeur du quartier"
    assert is_gsm7(gsm7_safe("Œuvre — déneigement"))
