"""Law 25 in the admin: the notice to the persons concerned by a confidentiality incident
(art. 5 of the *Règlement sur les incidents de confidentialité*: the information concerned,
the circumstances, the date or period, the measures taken or planned, what the persons
can do, whom to contact), rendered from the register's row in French or English."""

from __future__ import annotations

from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404
from django.template.loader import render_to_string
from django.utils import translation
from wagtail.admin.auth import permission_denied

from hub.models import PrivacyIncident, SiteSettings

NOTICE_LANGUAGES = ("fr", "en")


def render_notice(incident: PrivacyIncident, language: str) -> str:
    """The notice's HTML in ``language`` (``fr`` or ``en``)."""
    if language not in NOTICE_LANGUAGES:
        raise ValueError(language)
    city = SiteSettings.current()
    with translation.override(language):
        return render_to_string("hub/privacy/incident_notice.html", {
            "incident": incident, "language": language, "city": city.city_name,
            "phone": city.intake_phone})


def incident_notice(request, pk: int, language: str):
    """Admin view: the notice, for those who may view the register."""
    if not request.user.has_perm("hub.view_privacyincident"):
        return permission_denied(request)  # Wagtail's: back to the dashboard
    if language not in NOTICE_LANGUAGES:
        raise Http404
    incident = get_object_or_404(PrivacyIncident, pk=pk)
    return HttpResponse(render_notice(incident, language))
