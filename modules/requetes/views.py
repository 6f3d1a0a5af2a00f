"""Public pages of `requetes`."""

from django.shortcuts import render
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_GET

# What residents can report, as the city lists it (the categories themselves become
# editable snippets with the service-request model).
REPORTABLE = [
    _("Snow removal"), _("Roads"), _("Signage"), _("Water main"), _("Sewers"),
    _("Garbage"), _("Recycling"), _("Compost"), _("Cleanliness of public space"),
    _("Animals"), _("Trees and plants"), _("Municipal buildings"), _("Street lighting"),
    _("Street furniture"), _("Sports equipment"), _("Playgrounds"),
]


@require_GET
def index(request):
    return render(request, "requetes/index.html", {"reportable": REPORTABLE})
