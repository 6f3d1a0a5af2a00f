"""Fixtures of the `requetes` tests: categories with questions, photos, requests."""

import io

import pytest
from PIL import Image

from modules.requetes import roles as requetes_roles
from modules.requetes import services
from modules.requetes.models import Category, Question
from tests.conftest import make_user

INSIDE = (45.2556, -74.1320)  # downtown Salaberry-de-Valleyfield


@pytest.fixture
def lighting(departments):
    category = Category.objects.create(
        service_code="eclairage", name_fr="Éclairage de rue", name_en="Street lighting",
        department=departments[0], service_level_days=5)
    Question.objects.create(category=category, code="poteau", label_fr="Numéro du poteau",
                            label_en="Pole number", datatype="number", required=True,
                            sort_order=0)
    return category


@pytest.fixture
def animals(departments):
    category = Category.objects.create(
        service_code="animaux", name_fr="Animaux", name_en="Animals",
        department=departments[1], service_level_days=2)
    Question.objects.create(category=category, code="etat", label_fr="État de l'animal",
                            datatype="singlevaluelist", required=True,
                            choices="mort|Mort|Dead\nblesse|Blessé|Injured\n"
                                    "nuisance|Nuisance|Nuisance", sort_order=0)
    Question.objects.create(category=category, code="especes", label_fr="Espèces",
                            datatype="multivaluelist",
                            choices="chien|Chien|Dog\nchat|Chat|Cat", sort_order=1)
    Question.objects.create(category=category, code="vu_le", label_fr="Vu le",
                            datatype="datetime", sort_order=2)
    return category


@pytest.fixture
def intake_agent(db):
    return make_user("saisie@example.com", is_staff=True, groups=[requetes_roles.INTAKE_AGENTS])


def image_bytes(fmt="JPEG", size=(64, 48), exif=True):
    image = Image.new("RGB", size, (200, 30, 30))
    out = io.BytesIO()
    kwargs = {}
    if exif and fmt == "JPEG":
        data = Image.Exif()
        data[0x010F] = "TelephoneSecret"  # Make
        data[0x8825] = {2: (45.0, 15.0, 20.0)}  # GPS
        kwargs["exif"] = data.tobytes()
    image.save(out, format=fmt, **kwargs)
    return out.getvalue()


@pytest.fixture
def make_request(citizen, lighting):
    def make(**extra):
        values = {"actor": citizen, "category": lighting, "description": "Lampadaire éteint",
                  "latitude": INSIDE[0], "longitude": INSIDE[1], "answers": {"poteau": "12"}}
        values.update(extra)
        return services.create_request(**values)
    return make
