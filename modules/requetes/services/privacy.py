"""Personal data (Quebec's Law 25): what a resident gets when they ask for their data,
and what is erased when they close their account."""

from __future__ import annotations

from ..models import RequestEvent, RequestPhoto, ServiceRequest


def export_user_data(user) -> dict | None:
    requests = ServiceRequest.objects.filter(citizen=user).select_related("category")
    followed = ServiceRequest.objects.filter(followers=user).exclude(citizen=user)
    if not requests.exists() and not followed.exists():
        return None
    return {
        "requests": [{
            "reference": r.reference, "category": r.category.service_code,
            "description": r.description, "answers": r.answers,
            "latitude": r.latitude, "longitude": r.longitude, "address": r.address,
            "status": r.status, "created_at": r.created_at.isoformat(),
            "comments": [e.public_message for e in r.events.filter(
                kind=RequestEvent.Kind.COMMENT, actor=user)],
        } for r in requests],
        "followed": [r.reference for r in followed],
    }


def erase_user_data(user) -> None:
    """Anonymise: the city keeps the requests, without the link to the person."""
    ServiceRequest.objects.filter(citizen=user).update(
        citizen=None, caller_name="", caller_email="", caller_phone="",
        contact_channel=ServiceRequest.ContactChannel.NONE)
    for request in ServiceRequest.objects.filter(followers=user):
        request.followers.remove(user)
    RequestEvent.objects.filter(actor=user, by_staff=False).update(actor=None)
    RequestPhoto.objects.filter(uploaded_by=user).update(uploaded_by=None)
