"""Québec's Law 25 registers: the confidentiality incident register and its notice, the
staff access log, no third-party tracker, the personal-information file inventory."""

import csv
import datetime
import io
import logging
import re
from urllib.parse import urlsplit

import pytest
from django.core.management import call_command
from django.db import models
from django.test.utils import isolate_apps

from hub import personal_data
from hub.models import PersonalDataAccess, PrivacyIncident, User
from hub.privacy import render_notice


@pytest.fixture
def incident(db):
    return PrivacyIncident.objects.create(
        title="Courriel envoyé au mauvais destinataire",
        information_description="Nom et adresse courriel de 12 résidents",
        circumstances="Une liste a été jointe par erreur à un envoi.",
        occurred_from=datetime.date(2026, 3, 2), occurred_to=datetime.date(2026, 3, 3),
        became_aware_on=datetime.date(2026, 3, 4), persons_concerned=12,
        risk_assessment="Faible : information peu sensible.", serious_injury_risk=True,
        commission_notified_on=datetime.date(2026, 3, 6),
        persons_notified_on=datetime.date(2026, 3, 7),
        measures_taken="Le destinataire a supprimé le message ; contrôle ajouté.",
        measures_for_persons="Méfiez-vous des messages inattendus.",
        contact="Responsable de la protection des renseignements personnels, 450 370-4820")


# --- the incident register -------------------------------------------------------------

def test_the_register_has_the_regulations_eight_elements():
    names = {f.name for f in PrivacyIncident._meta.get_fields()}
    for required in ("information_description", "circumstances", "occurred_from",
                     "became_aware_on", "persons_concerned", "risk_assessment",
                     "commission_notified_on", "persons_notified_on", "measures_taken"):
        assert required in names


@pytest.mark.django_db
@pytest.mark.parametrize("language, headings", [
    ("fr", ["Les renseignements personnels concernés", "Ce qui s’est passé",
            "Quand", "Ce que la Ville a fait", "Ce que vous pouvez faire", "Qui joindre"]),
    ("en", ["The personal information concerned", "What happened", "When it happened",
            "What the city has done and will do", "What you can do", "Who to contact"]),
])
def test_the_notice_has_its_six_elements_in_both_languages(incident, language, headings):
    html = render_notice(incident, language)
    assert f'<html lang="{language}">' in html
    for section in ("information", "circumstances", "date", "measures", "your-measures",
                    "contact"):
        assert f'id="{section}"' in html
    for heading in headings:
        assert heading in html, heading
    for text in ("Nom et adresse courriel de 12 résidents", "jointe par erreur",
                 "supprimé le message", "Méfiez-vous", "450 370-4820"):
        assert text in html.replace("&#x27;", "'")
    assert "2026" in html


@pytest.mark.django_db
def test_the_register_and_notice_are_for_administrators_only(
        client, incident, administrator, agent_a, editor):
    notice = f"/admin/confidentialite/incidents/{incident.pk}/avis/fr/"
    listing = "/admin/snippets/hub/privacyincident/"
    for user in (agent_a, editor):
        client.force_login(user)
        assert client.get(notice).status_code in (302, 403)
        assert client.get(listing).status_code == 302
    client.force_login(administrator)
    assert client.get(listing).status_code == 200
    response = client.get(notice)
    assert response.status_code == 200 and "jointe par erreur" in response.content.decode()
    assert client.get(f"/admin/confidentialite/incidents/{incident.pk}/avis/de/"
                      ).status_code == 404
    assert client.get("/admin/confidentialite/incidents/999999/avis/en/").status_code == 404
    client.logout()
    assert client.get(notice).status_code == 302


# --- the staff access log --------------------------------------------------------------

@pytest.mark.django_db
def test_staff_opening_a_request_is_logged_and_only_administrators_see_the_log(
        client, citizen, agent_a, administrator, departments, caplog):
    from modules.requetes import services
    from modules.requetes.models import Category

    category = Category.objects.create(service_code="nids", name_fr="Nids-de-poule",
                                       department=departments[0])
    request = services.create_request(actor=citizen, category=category,
                                      description="Trou", latitude=45.2556,
                                      longitude=-74.1320)
    client.force_login(agent_a)
    with caplog.at_level(logging.INFO, logger="hub.security"):
        assert client.get(f"/admin/requetes/{request.pk}/").status_code == 200
    row = PersonalDataAccess.objects.get()
    assert (row.staff, row.subject, row.subject_label, row.what) == (
        agent_a, citizen, request.reference, "service_request")
    assert row.reason == f"GET /admin/requetes/{request.pk}/"
    assert "personal_data_read" in caplog.text
    # A POST (an action on the page) is not a new read.
    client.post(f"/admin/requetes/{request.pk}/", {"action": "note", "internal_note": ""})
    assert PersonalDataAccess.objects.count() == 1

    # Opening a resident's account in the admin is logged too.
    client.force_login(administrator)
    assert client.get(f"/admin/users/edit/{citizen.pk}/").status_code == 200
    assert PersonalDataAccess.objects.filter(staff=administrator, subject=citizen,
                                             what="account").exists()

    listing = "/admin/snippets/hub/personaldataaccess/"
    assert client.get(listing).status_code == 200
    assert client.get(f"{listing}add/").status_code in (302, 403)
    assert client.get(f"{listing}edit/{row.pk}/").status_code in (302, 403)
    assert client.get(f"{listing}delete/{row.pk}/").status_code in (302, 403)
    client.force_login(agent_a)
    assert client.get(listing).status_code == 302


@pytest.mark.django_db
def test_a_forged_route_cannot_forge_a_log_line(client, agent_a, caplog):
    from django.test import RequestFactory

    from hub.access_log import record_personal_data_read

    request = RequestFactory().get("/admin/x/?q=a%0D%0Afake=1")
    request.user = agent_a
    with caplog.at_level(logging.INFO, logger="hub.security"):
        row = record_personal_data_read(request, what="x\r\nforged", subject_label="a\nb")
    assert "\n" not in row.what + row.subject_label + row.reason
    assert all("\n" not in r.getMessage() for r in caplog.records)


# --- no third-party tracker ------------------------------------------------------------

EXTERNAL_REF = re.compile(
    rb'<(?:script|link|img|iframe|source|video|audio|embed)\b[^>]*?\b(?:src|href|srcset)'
    rb'\s*=\s*["\']([^"\']+)["\']', re.I)


@pytest.mark.django_db
@pytest.mark.parametrize("path", ["/fr/", "/en/", "/fr/compte/signup/", "/fr/compte/login/",
                                  "/en/compte/login/", "/fr/requetes/", "/fr/alertes/",
                                  "/fr/recherche/?q=neige", "/fr/mon-espace/",
                                  "/fr/compte/confidentialite/", "/fr/actualites/"])
def test_no_page_loads_anything_from_another_host(client, site, citizen, path):
    if path.startswith(("/fr/mon-espace/", "/fr/compte/confidentialite/")):
        client.force_login(citizen)
    response = client.get(path, follow=True)
    assert response.status_code == 200, path
    body = response.content
    refs = EXTERNAL_REF.findall(body)
    assert refs, "the page loads its own assets"
    for ref in refs:
        host = urlsplit(ref.decode().split()[0]).netloc
        assert host in ("", "testserver"), f"{path} loads {ref!r}"
    for known in (b"googletagmanager", b"google-analytics", b"facebook.net", b"hotjar",
                  b"doubleclick", b"matomo", b"segment.io", b"gtag("):
        assert known not in body, f"{path} mentions {known!r}"


# --- the personal-information file inventory -------------------------------------------

def test_every_personal_looking_field_is_declared():
    assert personal_data.undeclared_fields() == []


def test_an_undeclared_personal_field_is_found(monkeypatch):
    """The check can fail: a model with an undeclared ``phone`` and a link to the account
    is reported, field by field (a throwaway model, in an isolated app registry)."""
    with isolate_apps("hub"):
        class Pet(models.Model):
            owner = models.ForeignKey(User, on_delete=models.CASCADE, related_name="+")
            owner_phone = models.CharField(max_length=20)
            species = models.CharField(max_length=20)

            class Meta:
                app_label = "hub"

            def __str__(self):
                return self.species

    real = personal_data.project_models
    monkeypatch.setattr(personal_data, "project_models", lambda: [*real(), Pet])
    assert personal_data.undeclared_fields() == ["hub.Pet.owner", "hub.Pet.owner_phone"]
    monkeypatch.setattr(Pet, "personal_data", personal_data.PersonalData(
        purpose="x", retention="y", access="z",
        fields={"owner": personal_data.IDENTITY, "owner_phone": personal_data.CONTACT,
                "nickname": personal_data.IDENTITY}), raising=False)
    assert personal_data.undeclared_fields() == [
        "hub.Pet.nickname (declared, no such field)"]


@pytest.mark.django_db
def test_the_inventory_command_writes_the_declared_fields(tmp_path):
    target = tmp_path / "inventaire.csv"
    call_command("pi_inventory", "--output", str(target), "--language", "en",
                 stderr=io.StringIO())
    rows = list(csv.DictReader(target.open(encoding="utf-8")))
    assert list(rows[0]) == list(personal_data.HEADER)
    found = {(row["model"], row["field"]): row for row in rows}
    caller = found[("requetes.ServiceRequest", "caller_phone")]
    assert caller["category"] == "Contact details"
    assert caller["verbose_name"] == "caller's phone"
    assert "retention period" in caller["retention"]
    assert caller["purpose"] and caller["access"]
    assert ("hub.User", "email") in found
    assert ("requetes.RequestPhoto", "image") in found
    # Only declared fields: nothing the models did not declare.
    assert ("requetes.ServiceRequest", "status") not in found
