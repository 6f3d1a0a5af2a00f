"""Reading a request's history as its people see it, and staff hiding a public
description.  What the *public* sees of a request is ``requetes/public.py``."""

from __future__ import annotations

import datetime

from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.utils.translation import gettext as _

from ..models import RequestEvent, ServiceRequest
from .lifecycle import _lock
from .permissions import can_handle

Status = ServiceRequest.Status


def public_events(request: ServiceRequest, *, requester: bool = False):
    """The request's history as its people see it: the public steps (creation, status
    moves, the department's messages, reopening, merging).  The requester's own
    comments are theirs: only ``requester=True`` (the requester reading their own
    request) includes them, and the words they wrote when reopening; a follower gets
    the public steps only, as Open311 does."""
    events = [event for event in request.events.select_related("actor")
              if event.is_public and event.kind != RequestEvent.Kind.FOLLOWED
              and (requester or event.kind != RequestEvent.Kind.COMMENT or event.by_staff)]
    if not requester:
        for event in events:
            if not event.by_staff:
                # The step stays (e.g. "reopened"), the requester's words do not.  Only
                # the instance read here changes; nothing is saved.
                event.public_message = ""
    return events


def time_to_acknowledge(request: ServiceRequest) -> datetime.timedelta | None:
    """From creation to the first move out of "new" (exact, from the history)."""
    event = request.events.filter(kind=RequestEvent.Kind.STATUS,
                                  from_status=Status.NEW).order_by("created_at").first()
    return event.created_at - request.created_at if event else None


def time_to_resolve(request: ServiceRequest) -> datetime.timedelta | None:
    """From creation to the last closure (None while open)."""
    if request.status != Status.CLOSED:
        return None
    event = request.events.filter(to_status=Status.CLOSED).order_by("-created_at").first()
    return event.created_at - request.created_at if event else None


def set_description_redacted(request: ServiceRequest, *, actor, redacted: bool
                             ) -> RequestEvent | None:
    """Hide (or show again) a public description; only the handling department or an
    administrator may.  Kept in the history as an internal event; None when nothing
    changes."""
    if not can_handle(actor, request):
        raise PermissionDenied(_("Only the department handling this request may change it."))
    redacted = bool(redacted)
    with transaction.atomic():
        request = _lock(request)
        if request.description_redacted == redacted:
            return None
        request.description_redacted = redacted
        request.save(update_fields=["description_redacted", "updated_at"])
        note = (_("Description hidden from the public.") if redacted
                else _("Description shown to the public again."))
        return RequestEvent.objects.create(request=request, kind=RequestEvent.Kind.NOTE,
                                           actor=actor, internal_note=note, by_staff=True)
