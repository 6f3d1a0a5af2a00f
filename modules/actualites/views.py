"""Public pages of `actualites`."""

from django.shortcuts import render
from django.views.decorators.http import require_GET

from . import services


@require_GET
def index(request):
    return render(request, "actualites/index.html",
                  {"pages": services.latest_pages(request, limit=20)})
