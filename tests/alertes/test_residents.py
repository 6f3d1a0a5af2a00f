"""Residents without an account, registered by staff one by one or from a CSV file."""

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.management import call_command

from modules.alertes import services
from modules.alertes.models import Address, ConsentRecord, Subscriber

CSV = """name,phone,email,address,language,district,topics
Jeanne Roy,450 371-0001,,12 rue Victoria,fr,nord-test,deneigement
Paul Smith,4503710002,paul@example.com,3 rue Grande-Île,en,,loisirs;deneigement
Mauvais,123,,,fr,,
Inconnu,4503710003,,,fr,nulle-part,
"""


def test_staff_register_a_resident_with_a_landline(officer, topics, districts):
    subscriber = services.register_resident(
        name="Jeanne Roy", phone="450 371-0001", civic_address="12 rue Victoria",
        district=districts[0], topics=[topics["deneigement"]], actor=officer,
        consent_note="consentement verbal au téléphone")
    assert subscriber.user is None and subscriber.registered_by == officer
    [voice] = subscriber.addresses.all()
    assert voice.channel == "voice" and voice.value == "+14503710001"
    assert set(subscriber.topics.values_list("slug", flat=True)) == {"urgences",
                                                                     "deneigement"}
    consent = ConsentRecord.objects.get(subscriber=subscriber, scope="all")
    assert consent.actor == officer and consent.method == "staff"
    assert "verbal" in consent.note


def test_only_officers_register(agent_a, citizen, topics):
    for user in (agent_a, citizen, None):
        with pytest.raises(PermissionDenied):
            services.register_resident(name="X", phone="4503710001", actor=user)
    assert not Subscriber.objects.exists()


def test_a_phone_or_an_email_is_needed(officer, topics):
    with pytest.raises(ValidationError):
        services.register_resident(name="X", actor=officer)


def test_csv_import_dry_run_then_apply(officer, topics, districts, tmp_path, capsys):
    path = tmp_path / "residents.csv"
    path.write_text(CSV, encoding="utf-8")
    call_command("alertes", "import", str(path), "--by", officer.email)
    out = capsys.readouterr().out
    assert "line 4:" in out and "line 5:" in out and "would create 2 residents" in out
    assert not Subscriber.objects.exists() and not ConsentRecord.objects.exists()
    call_command("alertes", "import", str(path), "--by", officer.email, "--apply",
                 "--consent", "formulaire papier signé")
    assert "created 2 residents, 2 errors" in capsys.readouterr().out
    assert Subscriber.objects.count() == 2
    paul = Subscriber.objects.get(name="Paul Smith")
    assert paul.language == "en"
    assert set(Address.objects.filter(subscriber=paul).values_list("channel", flat=True)) == {
        "voice", "email"}
    assert ConsentRecord.objects.filter(method="import", scope="all").count() == 2


def test_dispatch_command(db, capsys):
    call_command("alertes", "dispatch")
    assert "requeued=0" in capsys.readouterr().out
