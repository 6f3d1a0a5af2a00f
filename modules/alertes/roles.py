"""The staff roles of `alertes`, declared through ``hub_staff_roles`` (plugin.py): the
hub creates the groups that are missing and grants what they list after every
``migrate``; it never removes what an administrator changed.

Names are what staff see, so they are French.  Code checks permissions
(``user.has_perm("alertes.send_alert")``), never these names; tests and the demo use the
constants.
"""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from hub.roles import ADMINISTRATORS, StaffRole

COMMUNICATIONS_OFFICERS = "Agents de communication"
APPROVERS = "Approbateurs des alertes"
ACCESS_ADMIN = "wagtailadmin.access_admin"

# Officers write, submit, lock and send (emergencies skip the approval); publishing a
# non-emergency alert is the approvers' (the four-eyes workflow of migrations 0004/0005).
OFFICER_PERMISSIONS = (ACCESS_ADMIN, "alertes.add_alert", "alertes.change_alert",
                       "alertes.view_alert", "alertes.send_alert", "alertes.lock_alert",
                       "alertes.add_topic", "alertes.change_topic", "alertes.view_topic",
                       "alertes.view_subscriber")
APPROVER_PERMISSIONS = (ACCESS_ADMIN, "alertes.view_alert", "alertes.change_alert",
                        "alertes.publish_alert", "alertes.lock_alert",
                        "alertes.unlock_alert", "alertes.view_topic",
                        "alertes.view_subscriber")
ADMINISTRATOR_PERMISSIONS = (*OFFICER_PERMISSIONS, "alertes.publish_alert",
                             "alertes.unlock_alert")


def staff_roles() -> list[StaffRole]:
    """What ``hub_staff_roles`` returns for this module."""
    return [
        StaffRole(name=COMMUNICATIONS_OFFICERS, permissions=OFFICER_PERMISSIONS,
                  description=_("Communications officers: write and send alerts.")),
        StaffRole(name=APPROVERS, permissions=APPROVER_PERMISSIONS,
                  description=_("Alert approvers: approve the alerts another officer "
                                "submitted.")),
        # The hub's group (it describes it): administrators may do all of the above.
        StaffRole(name=ADMINISTRATORS, permissions=ADMINISTRATOR_PERMISSIONS),
    ]
