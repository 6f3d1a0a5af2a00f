"""The personal-information file inventory (Québec's Law 25): each model that holds a
person's information declares it where the fields are, in a ``personal_data`` class
attribute, and ``manage.py hub inventory`` writes the inventory from those declarations
(model, field, verbose name, category, purpose, retention, who has access) — never a list
kept by hand beside the code.

A model declares::

    personal_data = PersonalData(
        purpose=_("Follow up a service request"), retention=_("…"), access=_("…"),
        fields={"caller_email": CONTACT, "citizen": IDENTITY},
        exempt={"description": _("why this field is not personal information")})

:func:`undeclared_fields` finds the fields that look personal (a link to the account,
or a name such as ``email``, ``phone``, ``latitude``, ``comment``, ``photo``) but are
neither declared nor exempted: ``tests/test_personal_data_inventory.py`` fails on any,
so a new personal field cannot slip in unlisted.
"""

from __future__ import annotations

import csv
import re
from dataclasses import dataclass, field

from django.apps import apps
from django.conf import settings
from django.db import models
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _


@dataclass(frozen=True)
class Category:
    code: str
    label: Promise


IDENTITY = Category("identity", _("Identity"))
CONTACT = Category("contact", _("Contact details"))
LOCATION = Category("location", _("Location"))
CONTENT = Category("content", _("Content written by the person"))
IMAGE = Category("image", _("Images"))
OPINION = Category("opinion", _("Opinion"))
PREFERENCES = Category("preferences", _("Preferences"))
TECHNICAL = Category("technical", _("Technical identifiers"))
CATEGORIES = (IDENTITY, CONTACT, LOCATION, CONTENT, IMAGE, OPINION, PREFERENCES, TECHNICAL)

# Texts the declarations share (one translation each).
UNTIL_ACCOUNT_DELETED = _("Until the account is deleted")
NOT_PURGED = _("Not purged automatically: to be set in the retention schedule")
ACCESS_PERSON_AND_ADMINISTRATORS = _("The person, administrators")
ACCESS_REQUEST_STAFF = _("The person, agents of the handling department, intake agents, "
                         "administrators")
ACCESS_COMMUNICATIONS = _("The person, communications officers, administrators")
ACCESS_STAFF = _("Staff and administrators")
ACCESS_ADMINISTRATORS = _("Administrators")


@dataclass(frozen=True)
class PersonalData:
    """What a model keeps about people: ``fields`` maps a field's name to its category;
    ``exempt`` maps a field that looks personal but is not to the reason why."""

    purpose: Promise | str
    retention: Promise | str
    access: Promise | str
    fields: dict[str, Category] = field(default_factory=dict)
    exempt: dict[str, Promise | str] = field(default_factory=dict)


# Field names that suggest personal information (matched on the whole name).
LOOKS_PERSONAL = re.compile(
    r"(^|_)(e?mail|email_address|phone|caller|first_name|last_name|full_name|name_of|"
    r"latitude|longitude|lat|lon|lng|postal_code|civic_address|address|ip|ip_address|"
    r"device(_id)?|account_id|push_keys|photo|image|thumbnail|comment|message|"
    r"satisfaction|birth|date_of_birth|signature|recipient|subscriber)($|_)")


def project_models() -> list[type[models.Model]]:
    """The models of the project's own apps (the hub and the modules)."""
    return [model for model in apps.get_models()
            if model.__module__.startswith(("hub.", "modules."))]


def looks_personal(model_field) -> bool:
    if model_field.is_relation and model_field.related_model is not None:
        related = model_field.related_model
        return related._meta.label == settings.AUTH_USER_MODEL
    return bool(LOOKS_PERSONAL.search(model_field.name))


def declaration(model) -> PersonalData | None:
    value = getattr(model, "personal_data", None)
    return value if isinstance(value, PersonalData) else None


def undeclared_fields() -> list[str]:
    """``"app.Model.field"`` for each field that looks personal and is neither declared
    nor exempted, and each declared name that is not a field of its model."""
    problems = []
    for model in project_models():
        declared = declaration(model)
        names = {f.name for f in model._meta.get_fields() if f.concrete}
        known = set(declared.fields) | set(declared.exempt) if declared else set()
        for model_field in model._meta.get_fields():
            if not model_field.concrete or (model_field.auto_created and not (
                    model_field.is_relation)):
                continue
            if model_field.primary_key or model_field.model is not model:
                continue  # a parent table's field (a Wagtail page's owner) is its own
            if looks_personal(model_field) and model_field.name not in known:
                problems.append(f"{model._meta.label}.{model_field.name}")
        problems.extend(f"{model._meta.label}.{name} (declared, no such field)"
                        for name in sorted(known - names))
    return problems


HEADER = ("model", "field", "verbose_name", "category", "purpose", "retention", "access")


def inventory_rows() -> list[tuple[str, ...]]:
    """One row per declared personal field, in the active language."""
    rows = []
    for model in sorted(project_models(), key=lambda m: m._meta.label):
        declared = declaration(model)
        if declared is None:
            continue
        for name, category in declared.fields.items():
            model_field = model._meta.get_field(name)
            rows.append((model._meta.label, name, str(model_field.verbose_name),
                         str(category.label), str(declared.purpose),
                         str(declared.retention), str(declared.access)))
    return rows


def write_inventory(out) -> int:
    """Write the inventory as CSV to the text stream ``out``; returns the rows written."""
    writer = csv.writer(out)
    writer.writerow(HEADER)
    rows = inventory_rows()
    writer.writerows(rows)
    return len(rows)
