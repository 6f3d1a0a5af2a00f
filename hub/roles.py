"""The staff roles, as Django groups with permissions.

The hub declares its own two (editors, administrators); each module declares the roles
it needs with ``hub_staff_roles`` (DESIGN rule 8).  :func:`sync_staff_roles` runs after
every ``migrate`` and with ``manage.py hub demo``: it creates the groups that are missing
and grants what they list, never removing what an administrator added.  Group names are
what staff see in the admin, so they are French; code checks permissions
(``user.has_perm``), never group names, so a renamed group keeps its access.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from django.utils.translation import gettext_lazy as _

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class StaffRole:
    """A staff role a module declares (``hub_staff_roles``): the Django group ``name`` (as
    staff see it, in French), a ``description`` and the ``permissions`` it grants
    (``"app_label.codename"``)."""

    name: str
    description: str = ""
    permissions: tuple[str, ...] = ()


EDITORS = "Rédacteurs"
ADMINISTRATORS = "Administrateurs"

ACCESS_ADMIN = "wagtailadmin.access_admin"
# What the hub's migrations 0003/0004 granted (page and collection permissions are
# Wagtail's own, per page tree and collection, and stay in those migrations).
_ADMINISTERED = (("hub", "user", ("add", "change", "delete")),
                 ("auth", "group", ("add", "change", "delete")),
                 ("hub", "department", ("add", "change", "delete")),
                 ("hub", "district", ("add", "change", "delete")),
                 ("hub", "sitesettings", ("change",)))

HUB_ROLES = (
    StaffRole(name=EDITORS, permissions=(ACCESS_ADMIN,),
              description=_("Editors: write and publish pages and news.")),
    StaffRole(name=ADMINISTRATORS, permissions=(ACCESS_ADMIN, *(
        f"{app_label}.{action}_{model}" for app_label, model, actions in _ADMINISTERED
        for action in actions)),
        description=_("Administrators: manage users, departments and settings.")),
)


def staff_roles() -> list[StaffRole]:
    """The hub's roles, then every enabled module's (``hub_staff_roles``, in module
    order).  The same group name may come several times: its permissions add up."""
    from hub.plugins.manager import collect

    return [*HUB_ROLES, *(role for role in collect("hub_staff_roles")
                          if isinstance(role, StaffRole))]


def _permissions(names) -> tuple[list, list[str]]:
    """The ``Permission`` rows for ``"app_label.codename"`` names, and the names that
    match none (a typo, or an app whose permissions do not exist yet)."""
    from django.contrib.auth.models import Permission
    from django.db.models import Q

    wanted = {tuple(name.split(".", 1)) for name in names if name.count(".") == 1}
    if not wanted:
        return [], sorted(names)
    query = Q()
    for app_label, codename in wanted:
        query |= Q(content_type__app_label=app_label, codename=codename)
    found = list(Permission.objects.filter(query).select_related("content_type"))
    seen = {(p.content_type.app_label, p.codename) for p in found}
    missing = sorted(name for name in names if tuple(name.split(".", 1)) not in seen)
    return found, missing


def sync_staff_roles(roles: list[StaffRole] | None = None) -> dict[str, int]:
    """Create each role's group when missing and grant it the role's permissions.

    Never removes a permission or a group: what an administrator changed in the admin
    stays.  A permission that does not exist is logged and skipped.  Returns how many
    permissions each group was newly given."""
    from django.contrib.auth.models import Group

    roles = staff_roles() if roles is None else roles
    rename_wagtail_groups()
    wanted: dict[str, set[str]] = {}
    for role in roles:
        wanted.setdefault(role.name, set()).update(role.permissions)
    granted: dict[str, int] = {}
    for name, names in wanted.items():
        group, _created = Group.objects.get_or_create(name=name)
        permissions, missing = _permissions(names)
        for permission_name in missing:
            logger.warning("Staff role %r: no permission %r (misspelled, or its app is not "
                           "installed)", name, permission_name)
        have = set(group.permissions.values_list("pk", flat=True))
        new = [permission for permission in permissions if permission.pk not in have]
        if new:
            group.permissions.add(*new)
        granted[name] = len(new)
    return granted


# Wagtail's migrations create two groups with English names; staff read group names in
# the French admin.  Wagtail's editors are the hub's editors (the same job).
WAGTAIL_GROUPS = {"Editors": EDITORS, "Moderators": "Modérateurs"}


def rename_wagtail_groups() -> None:
    """Give Wagtail's default groups ("Editors", "Moderators") their French names, once
    every migration has run (Wagtail's own migrations look them up by name).  When the
    French group exists already, the English one is merged into it — its members, its
    permissions, its page, collection and workflow rights — and deleted."""
    from django.contrib.auth.models import Group
    from wagtail.models import GroupApprovalTask, GroupCollectionPermission, GroupPagePermission

    for english, french in WAGTAIL_GROUPS.items():
        old = Group.objects.filter(name=english).first()
        if old is None:
            continue
        new = Group.objects.filter(name=french).first()
        if new is None:
            old.name = french
            old.save(update_fields=["name"])
            continue
        new.permissions.add(*old.permissions.all())
        new.user_set.add(*old.user_set.all())
        for row in GroupPagePermission.objects.filter(group=old):
            GroupPagePermission.objects.get_or_create(group=new, page_id=row.page_id,
                                                      permission_id=row.permission_id)
        for row in GroupCollectionPermission.objects.filter(group=old):
            GroupCollectionPermission.objects.get_or_create(
                group=new, collection_id=row.collection_id, permission_id=row.permission_id)
        for task in GroupApprovalTask.objects.filter(groups=old):
            task.groups.add(new)
        old.delete()


def sync_after_migrate(sender, using="default", **kwargs) -> None:
    """``post_migrate`` receiver (connected for the hub's app, see apps.py): every app's
    permissions are created first (Django creates them per app, and the hub's signal may
    come before a module's), then the roles are synced."""
    from django.apps import apps as global_apps
    from django.contrib.auth.management import create_permissions
    from django.db import DEFAULT_DB_ALIAS

    if using != DEFAULT_DB_ALIAS or "plan" not in kwargs:
        # ``plan`` is what ``migrate`` passes; ``flush`` sends the signal without it.
        # After a flush the test runner's serialized rollback restores the groups with
        # their original ids, and groups created here first would collide with them; a
        # flushed production database gets its groups at the next ``migrate`` or
        # ``hub demo``.
        return
    for app_config in global_apps.get_app_configs():
        create_permissions(app_config, verbosity=0, using=using)
    sync_staff_roles()


# --- Demo accounts -----------------------------------------------------------------------
# The password of every account ``manage.py hub demo`` creates (README, "Demo accounts":
# local use only).
DEMO_PASSWORD = "espace-citoyen-demo"  # noqa: S105


def demo_account(email: str, *, first_name: str, last_name: str, groups=(),
                 staff: bool = True, password: str = DEMO_PASSWORD):
    """An account of the demo data (modules' ``hub_demo_data``), idempotent: created with
    the demo password when missing (an existing one keeps its password), its email
    verified (sign-in requires it), and added to ``groups`` (role names, created when
    missing).  Returns the user."""
    from allauth.account.models import EmailAddress
    from django.contrib.auth import get_user_model
    from django.contrib.auth.models import Group

    User = get_user_model()
    user = User.objects.filter(email__iexact=email).first()
    if user is None:
        user = User.objects.create_user(email=email, password=password,
                                        first_name=first_name, last_name=last_name,
                                        is_staff=staff)
    EmailAddress.objects.update_or_create(user=user, email=user.email,
                                          defaults={"verified": True, "primary": True})
    for name in groups:
        user.groups.add(Group.objects.get_or_create(name=name)[0])
    return user
