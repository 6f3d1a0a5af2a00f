"""The staff roles, as Django groups created by a data migration.

Group names are what staff see in the admin, so they are French; code refers to roles
by these constants.
"""

from dataclasses import dataclass

from django.utils.translation import gettext_lazy as _


@dataclass(frozen=True)
class StaffRole:
    """A staff role a module declares (``hub_staff_roles``): the Django group ``name`` (as
    staff see it, in French), a ``description`` and the ``permissions`` it grants
    (``"app_label.codename"``)."""

    name: str
    description: str = ""
    permissions: tuple[str, ...] = ()


EDITORS = "Rédacteurs"
INTAKE_AGENTS = "Agents de saisie"
DEPARTMENT_AGENTS = "Agents de service"
COMMUNICATIONS_OFFICERS = "Agents de communication"
ADMINISTRATORS = "Administrateurs"

ROLES = {
    EDITORS: _("Editors: write and publish pages and news."),
    INTAKE_AGENTS: _("Intake agents: enter requests received by phone or at the counter."),
    DEPARTMENT_AGENTS: _("Department agents: triage and answer their department's requests."),
    COMMUNICATIONS_OFFICERS: _("Communications officers: write and send alerts."),
    ADMINISTRATORS: _("Administrators: manage users, departments and settings."),
}
