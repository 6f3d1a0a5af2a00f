"""Who may do what with service requests.  Permissions, never group names (roles.py): a
renamed group keeps its access.  Django caches a user's permissions on the user object,
so the twenty checks of one admin page cost the two queries of the first."""

from __future__ import annotations

from .. import roles
from ..models import ServiceRequest


def is_administrator(user) -> bool:
    return bool(user and user.is_authenticated and user.has_perm(roles.PERM_ADMINISTER))


def is_intake_agent(user) -> bool:
    return bool(user and user.is_authenticated and user.has_perm(roles.PERM_TAKE_PHONE))


def is_department_agent(user) -> bool:
    return bool(user and user.is_authenticated
                and user.has_perm(roles.PERM_HANDLE_DEPARTMENT))


def is_staff_for_requests(user) -> bool:
    return is_administrator(user) or is_intake_agent(user) or is_department_agent(user)


def staff_queryset(user):
    """The requests a staff member may see: all for administrators and intake agents,
    their departments' for department agents, none otherwise."""
    qs = ServiceRequest.objects.all()
    if is_administrator(user) or is_intake_agent(user):
        return qs
    if is_department_agent(user):
        return qs.filter(department__in=user.departments.all())
    return qs.none()


def can_handle(user, request: ServiceRequest) -> bool:
    """May ``user`` change ``request`` (transitions, assignment, internal notes)?"""
    if is_administrator(user):
        return True
    return is_department_agent(user) and user.departments.filter(
        pk=request.department_id).exists()


def can_view_as_staff(user, request: ServiceRequest) -> bool:
    return (is_administrator(user) or is_intake_agent(user) or can_handle(user, request))


def can_view_photos(user, request: ServiceRequest) -> bool:
    """The photos of a request are its requester's and staff's (the handling department,
    administrators, intake agents): never a follower's.  Following ("me too") shows the
    public face of a request (``requetes/public.py``), which has no photos: otherwise a
    resident could follow every open request and collect every photo by its id."""
    if not (user and user.is_authenticated):
        return False
    if request.citizen_id is not None and request.citizen_id == user.pk:
        return True
    return can_view_as_staff(user, request)
