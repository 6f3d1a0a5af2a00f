"""Public pages of `liens_services`."""

from django.shortcuts import render
from django.views.decorators.http import require_GET

from .directory import SERVICES


@require_GET
def index(request):
    return render(request, "liens_services/index.html", {"services": SERVICES})
