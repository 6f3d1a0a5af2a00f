"""Public pages of `alertes`."""

from django.shortcuts import render
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_GET

TOPICS = [
    (_("Emergencies"), _("Sent to every reachable resident of the area concerned.")),
    (_("Snow removal and parking bans"), ""),
    (_("Waste collection"), ""),
    (_("Roadwork and closures"), ""),
    (_("Water quality"), _("Including boil-water notices.")),
    (_("Leisure and events"), ""),
    (_("City news"), ""),
]
CHANNELS = [_("Text message (SMS)"), _("Email"), _("Push notification"),
            _("Automated phone call (emergencies)")]


@require_GET
def index(request):
    return render(request, "alertes/index.html", {"topics": TOPICS, "channels": CHANNELS})
