"""Events and notices of a request's changes.

Events carry plain data (hookspecs.py); the people of a request are told through the
hub's notify (DESIGN rules 2 and 2b).  Both are queued inside the caller's transaction
and leave once it commits: a rolled-back change tells nobody."""

from __future__ import annotations

from django.utils import translation

from hub.notify import Recipient, notify
from hub.plugins.manager import fire_event

from .. import notices
from ..hookspecs import RequestCreated, RequestStatusChanged
from ..models import RequestEvent, ServiceRequest

Status = ServiceRequest.Status
Reason = ServiceRequest.ClosureReason


def _labels(choices, value: str) -> tuple[str, str]:
    """A choice's label in French and in English (empty for an empty value)."""
    if not value:
        return "", ""
    with translation.override("fr"):
        french = str(choices(value).label)
    with translation.override("en"):
        english = str(choices(value).label)
    return french, english


def _requester(request: ServiceRequest) -> Recipient | None:
    """Who made ``request``, as a notice recipient: their account, else the caller's
    contact details on the channel they preferred (a caller has no stored language:
    French); None when they asked for no follow-up or left no way to reach them."""
    if request.contact_channel == ServiceRequest.ContactChannel.NONE:
        return None
    if request.citizen_id:
        citizen = request.citizen
        return Recipient.for_user(citizen) if citizen.is_active else None
    email, phone = request.caller_email.strip(), request.caller_phone.strip()
    if request.contact_channel == ServiceRequest.ContactChannel.EMAIL and email:
        phone = ""
    elif phone:
        email = ""
    if not (email or phone):
        return None
    return Recipient(email=email, phone=phone, language="fr", name=request.caller_name)


def _followers(request: ServiceRequest) -> list[Recipient]:
    """The "me too" followers other than the requester (active accounts)."""
    followers = request.followers.filter(is_active=True)
    if request.citizen_id:
        followers = followers.exclude(pk=request.citizen_id)
    return [Recipient.for_user(user) for user in followers.order_by("pk")]


def _created_payload(request: ServiceRequest) -> RequestCreated:
    category = request.category
    status_fr, status_en = _labels(Status, request.status)
    return RequestCreated(
        reference=request.reference, category_code=category.service_code,
        category_name_fr=category.name_fr, category_name_en=category.name_en,
        department=request.department.name, status=request.status,
        status_label_fr=status_fr, status_label_en=status_en, channel=request.channel,
        latitude=request.latitude, longitude=request.longitude,
        public_url=notices.request_url(request.reference), created_at=request.created_at,
        requester=_requester(request))


def _status_payload(request: ServiceRequest, event: RequestEvent, old: str, *,
                    requester: Recipient | None, followers: list[Recipient]
                    ) -> RequestStatusChanged:
    category = request.category
    old_fr, old_en = _labels(Status, old)
    new_fr, new_en = _labels(Status, request.status)
    closed = request.status == Status.CLOSED
    reason_fr, reason_en = _labels(Reason, request.closure_reason if closed else "")
    return RequestStatusChanged(
        reference=request.reference, category_code=category.service_code,
        category_name_fr=category.name_fr, category_name_en=category.name_en,
        department=request.department.name, channel=request.channel,
        old_status=old, old_status_label_fr=old_fr, old_status_label_en=old_en,
        new_status=request.status, new_status_label_fr=new_fr, new_status_label_en=new_en,
        event_kind=event.kind, public_message=event.public_message,
        closure_reason=request.closure_reason if closed else "",
        closure_reason_label_fr=reason_fr, closure_reason_label_en=reason_en,
        closure_note=request.closure_note if closed else "",
        duplicate_of=request.duplicate_of.reference
        if closed and request.duplicate_of_id else "",
        public_url=notices.request_url(request.reference), occurred_at=event.created_at,
        requester=requester, followers=tuple(followers))


def _notice_step(event: RequestEvent, old: str, request: ServiceRequest) -> str | None:
    """The public step ``event`` is for the people of the request, or None when it
    means nothing to them (an internal note, a reassignment without a word for them)."""
    Kind = RequestEvent.Kind
    if event.kind == Kind.REOPENED:
        return notices.REOPENED
    if event.kind == Kind.COMMENT:
        # The requester's own comment is theirs, not a public step: the followers are
        # not told of it (and the requester wrote it).
        return notices.MESSAGE if event.by_staff else None
    if event.kind != Kind.STATUS:
        return None
    new = event.to_status
    if new == Status.CLOSED:
        return notices.MERGED if request.closure_reason == Reason.DUPLICATE \
            else notices.CLOSED
    if new != old:
        return {Status.ACKNOWLEDGED: notices.ACKNOWLEDGED, Status.ASSIGNED: notices.ASSIGNED,
                Status.IN_PROGRESS: notices.IN_PROGRESS}.get(new)
    return notices.MESSAGE if event.public_message else None


def _tell_people(request: ServiceRequest, event: RequestEvent, old: str, *, actor,
                 requester: Recipient | None = None,
                 followers: list[Recipient] | None = None) -> None:
    """Tell the requester and the followers about ``event`` through ``hub_notify``,
    each in their own language, once per event and person (``dedupe_key``), except
    the person who made the change.  Call it inside the change's transaction: the
    notices leave when it commits."""
    step = _notice_step(event, old, request)
    if step is None:
        return
    if followers is None:
        requester, followers = _requester(request), _followers(request)
    actor_id = actor.pk if actor is not None and actor.is_authenticated else None
    people = [(requester, True)] if requester is not None else []
    people += [(follower, False) for follower in followers]
    category = request.category
    closed = step in (notices.CLOSED, notices.MERGED)
    reason_fr, reason_en = _labels(Reason, request.closure_reason if closed else "")
    for recipient, is_requester in people:
        if actor_id is not None and recipient.user_id == actor_id:
            continue  # nobody is told about their own action
        notify(notices.build(
            step=step, recipient=recipient, is_requester=is_requester,
            reference=request.reference, category_fr=category.name_fr,
            category_en=category.name_en, department=request.department.name,
            # A follower gets the city's words only, never the requester's (reopening).
            public_message=event.public_message if is_requester or event.by_staff else "",
            closure_reason_fr=reason_fr,
            closure_reason_en=reason_en,
            closure_note=request.closure_note if closed else "",
            target=request.duplicate_of.reference if step == notices.MERGED else "",
            with_link=recipient.user_id is not None,
            dedupe_key=f"requetes:event:{event.pk}:{recipient.key}"))


def _changed(request: ServiceRequest, event: RequestEvent, old: str, *, actor) -> None:
    """A status change: tell the people, fire ``request_status_changed`` (both after
    commit).  ``request`` is the locked, saved row."""
    requester, followers = _requester(request), _followers(request)
    _tell_people(request, event, old, actor=actor, requester=requester,
                 followers=followers)
    fire_event("request_status_changed", change=_status_payload(
        request, event, old, requester=requester, followers=followers))
