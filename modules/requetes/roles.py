"""The staff roles and permissions of `requetes`.

Code asks ``user.has_perm(...)`` with the three permissions below, never a group's name:
an administrator may rename a group in the admin, or give a permission to another group
or to one person, and access follows.  The roles are the Django groups the module
declares through ``hub_staff_roles`` (the hub creates them and grants what they list);
the names are what staff see, so they are French.

Django caches a user's permissions on the user object (one request): :func:`forget`
drops that cache when the same object's groups change, so a change made during a
request (or a test) counts at once.
"""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.db.models.signals import m2m_changed
from django.dispatch import receiver
from django.utils.translation import gettext_lazy as _

from hub.roles import ADMINISTRATORS, StaffRole

INTAKE_AGENTS = "Agents de saisie"
DEPARTMENT_AGENTS = "Agents de service"

# Codenames declared on ServiceRequest (Meta.permissions), and the names has_perm takes.
TAKE_PHONE_REQUESTS = "take_phone_requests"
HANDLE_DEPARTMENT_REQUESTS = "handle_department_requests"
ADMINISTER_REQUESTS = "administer_requests"
PERM_TAKE_PHONE = f"requetes.{TAKE_PHONE_REQUESTS}"
PERM_HANDLE_DEPARTMENT = f"requetes.{HANDLE_DEPARTMENT_REQUESTS}"
PERM_ADMINISTER = f"requetes.{ADMINISTER_REQUESTS}"

_MODELS = ("category", "question", "servicerequest", "requestevent", "requestphoto")

ADMIN_ACCESS = "wagtailadmin.access_admin"  # their screens are in the Wagtail admin
INTAKE_PERMISSIONS = (ADMIN_ACCESS, PERM_TAKE_PHONE, "requetes.view_category",
                      "requetes.add_servicerequest", "requetes.view_servicerequest",
                      "requetes.view_requestevent", "requetes.view_requestphoto")
DEPARTMENT_PERMISSIONS = (ADMIN_ACCESS, PERM_HANDLE_DEPARTMENT, "requetes.view_category",
                          "requetes.view_servicerequest", "requetes.change_servicerequest",
                          "requetes.view_requestevent", "requetes.add_requestevent",
                          "requetes.view_requestphoto")
ADMINISTRATOR_PERMISSIONS = (ADMIN_ACCESS, PERM_ADMINISTER, *(
    f"requetes.{action}_{model}" for model in _MODELS
    for action in ("add", "change", "delete", "view")))


def staff_roles() -> list[StaffRole]:
    """What ``hub_staff_roles`` returns for this module."""
    return [
        StaffRole(name=INTAKE_AGENTS, permissions=INTAKE_PERMISSIONS,
                  description=_("Intake agents: enter requests received by phone or at "
                                "the counter.")),
        StaffRole(name=DEPARTMENT_AGENTS, permissions=DEPARTMENT_PERMISSIONS,
                  description=_("Department agents: triage and answer their "
                                "department's requests.")),
        StaffRole(name=ADMINISTRATORS, permissions=ADMINISTRATOR_PERMISSIONS,
                  description=_("Administrators: manage users, departments and "
                                "settings.")),
    ]


def users_with_permission(*names: str):
    """Active users holding any of the permissions ``names`` (``"requetes.codename"``),
    through a group or directly, and active superusers: for Wagtail's permission
    policies, which list users (e.g. who may edit a response template)."""
    from django.contrib.auth.models import Permission
    from django.db.models import Q

    codenames = [name.split(".", 1)[1] for name in names]
    permissions = Permission.objects.filter(content_type__app_label="requetes",
                                            codename__in=codenames)
    return get_user_model().objects.filter(
        Q(is_superuser=True) | Q(groups__permissions__in=permissions)
        | Q(user_permissions__in=permissions), is_active=True).distinct()


# Django's ModelBackend keeps these on the user object (django.contrib.auth.backends).
_PERMISSION_CACHES = ("_perm_cache", "_user_perm_cache", "_group_perm_cache")


@receiver(m2m_changed, sender=get_user_model().groups.through,
          dispatch_uid="requetes.roles.forget")
def forget(sender, instance, **kwargs) -> None:
    """The groups of ``instance`` changed: when it is the user, drop the permissions
    Django cached on it.  (When the change came from the group's side, the users'
    objects elsewhere keep their cache until their request ends, as in Django.)"""
    for name in _PERMISSION_CACHES:
        instance.__dict__.pop(name, None)
