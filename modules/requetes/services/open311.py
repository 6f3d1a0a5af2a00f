"""Open311 clients (GeoReport v2): their API keys, the requests they send and the
updates a back-office system posts.  Every change goes through the lifecycle."""

from __future__ import annotations

import hashlib
import secrets

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from ..models import Open311ApiKey, RequestEvent, ServiceRequest
from .lifecycle import add_comment, create_request, transition
from .permissions import is_administrator

Channel = ServiceRequest.Channel

API_KEY_PREFIX = "o311_"
API_KEY_TOUCH_SECONDS = 300


def _hash_api_key(raw: str) -> str:
    return hashlib.sha256(raw.encode("utf-8")).hexdigest()


def issue_api_key(*, actor, name: str, contact_email: str = "",
                  can_post_updates: bool = False) -> tuple[Open311ApiKey, str]:
    """Create a client's key; return it with the raw key, which is never stored (only
    its SHA-256), so the administrator must copy it from this one answer."""
    if not is_administrator(actor):
        raise PermissionDenied(_("Only administrators issue Open311 API keys."))
    name = (name or "").strip()
    if not name:
        raise ValidationError({"name": _("Name the client that will use this key.")})
    raw = API_KEY_PREFIX + secrets.token_urlsafe(32)
    key = Open311ApiKey.objects.create(
        name=name[:120], contact_email=(contact_email or "").strip()[:254],
        prefix=raw[:12], key_hash=_hash_api_key(raw), created_by=actor,
        can_post_updates=bool(can_post_updates))
    return key, raw


def deactivate_api_key(key: Open311ApiKey, *, actor) -> None:
    """Revoke a key for good: requests it created keep their link to the client."""
    if not is_administrator(actor):
        raise PermissionDenied(_("Only administrators revoke Open311 API keys."))
    Open311ApiKey.objects.filter(pk=key.pk).update(active=False)


def check_api_key(raw: str | None) -> Open311ApiKey | None:
    """The active key matching ``raw``, or None.  ``last_used_at`` is written at most
    every few minutes so that a busy client does not turn every call into a write."""
    raw = (raw or "").strip()
    if not raw or len(raw) > 200:
        return None
    key = Open311ApiKey.objects.filter(key_hash=_hash_api_key(raw), active=True).first()
    if key is not None:
        now = timezone.now()
        if key.last_used_at is None or (now - key.last_used_at).total_seconds() \
                > API_KEY_TOUCH_SECONDS:
            Open311ApiKey.objects.filter(pk=key.pk).update(last_used_at=now)
            key.last_used_at = now
    return key


def create_open311_request(*, api_key: Open311ApiKey, category, description: str,
                           latitude, longitude, answers: dict | None = None,
                           address: str = "", caller_name: str = "",
                           caller_email: str = "", caller_phone: str = "",
                           media_url: str = "", device_id: str = "", account_id: str = "",
                           submission_key=None) -> ServiceRequest:
    """A request sent by an Open311 client: ``create_request`` (every rule of the web
    form) plus what only Open311 carries, in one transaction, so that the events fire
    once the client's fields are saved too.  The description is public (the client
    publishes to an open API); staff can still redact it."""
    if api_key is None or not api_key.active:
        raise PermissionDenied(_("A valid API key is required."))
    contact = (ServiceRequest.ContactChannel.EMAIL if caller_email.strip()
               else ServiceRequest.ContactChannel.PHONE if caller_phone.strip()
               else ServiceRequest.ContactChannel.NONE)
    with transaction.atomic():
        request = create_request(
            actor=None, category=category, description=description, latitude=latitude,
            longitude=longitude, answers=answers, address=address, channel=Channel.OPEN311,
            caller_name=caller_name, caller_email=caller_email, caller_phone=caller_phone,
            contact_channel=contact, description_public=True, submission_key=submission_key)
        extras = {"media_url": (media_url or "")[:500], "device_id": (device_id or "")[:120],
                  "account_id": (account_id or "")[:120], "api_key": api_key}
        if ServiceRequest.objects.filter(pk=request.pk, api_key__isnull=True,
                                         channel=Channel.OPEN311).update(**extras):
            for field, value in extras.items():
                setattr(request, field, value)
    return request


def post_open311_update(request: ServiceRequest, *, api_key: Open311ApiKey,
                        to_status: str | None, message: str, closure_reason: str = "",
                        duplicate_of: str | None = None) -> RequestEvent:
    """An update from a back-office system (mySociety's ``servicerequestupdates``): a
    status change through ``transition``, or a public comment when the status does not
    change.  The key acts with the rights of the administrator who issued it, so the
    history names a person who answers for the integration."""
    if api_key is None or not api_key.active or not api_key.can_post_updates:
        raise PermissionDenied(_("This API key may not post request updates."))
    actor = api_key.created_by
    if not is_administrator(actor):
        raise PermissionDenied(_("The administrator who issued this API key can no longer "
                                 "change requests: issue a new key."))
    note = _("Update from the Open311 client “%(client)s”.") % {"client": api_key.name}
    if to_status is None or to_status == request.status:
        return add_comment(request, actor=actor, message=message)
    return transition(request, actor=actor, to_status=to_status, public_message=message,
                      internal_note=note, closure_reason=closure_reason,
                      closure_note=message if closure_reason else "",
                      duplicate_of=duplicate_of)
