"""The names of a user's groups, read once per user object.

``services.is_administrator`` / ``is_intake_agent`` / ``is_department_agent`` answer
from these names.  One page of the admin asks them about twenty times (the menu items,
the queue, the dashboard link, the bulk form), each a query before; the user object of a
request lives for that request only, so the names are read once per request.  Like
Django's own permission cache on the user object (``_perm_cache``), and, in addition,
forgotten when that same object's groups change (``user.groups.add/remove/clear/set``).
"""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.db.models.signals import m2m_changed
from django.dispatch import receiver

ATTRIBUTE = "_requetes_group_names"


def group_names(user) -> frozenset[str]:
    # getattr/setattr, not __dict__: ``request.user`` is a lazy wrapper that passes
    # attributes on to the user object, where ``forget`` finds them.
    names = getattr(user, ATTRIBUTE, None)
    if names is None:
        names = frozenset(user.groups.values_list("name", flat=True))
        setattr(user, ATTRIBUTE, names)
    return names


@receiver(m2m_changed, sender=get_user_model().groups.through,
          dispatch_uid="requetes.group_names.forget")
def forget(sender, instance, **kwargs) -> None:
    """The groups of ``instance`` changed (``instance`` is the user, or the group when
    the change came from the group's side: then the users' objects elsewhere keep their
    names until their request ends, as Django's permission cache does)."""
    instance.__dict__.pop(ATTRIBUTE, None)
