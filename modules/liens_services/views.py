"""Public pages of `liens_services`: the directory and the favourites' buttons."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from . import services
from .models import Category, ServiceLink


@require_GET
def index(request):
    result = services.directory(query=request.GET.get("q", ""),
                                category=request.GET.get("categorie", ""))
    keys = services.favourite_keys(request.user)
    for link in result.links:
        link.is_favourite = link.translation_key in keys
    status = 400 if result.errors else 200
    return render(request, "liens_services/index.html", {
        "directory": result,
        "categories": Category.choices,
    }, status=status)


def _back(request):
    target = request.POST.get("next", "")
    if target and url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()},
                                                  require_https=request.is_secure()):
        return redirect(target)
    return redirect(reverse("liens_services:index"))


@login_required
@require_POST
def add_favourite(request, link_id: int):
    link = get_object_or_404(ServiceLink, pk=link_id, is_active=True)
    services.add_favourite(request.user, link)
    messages.success(request, _("“%(title)s” was added to your services.")
                     % {"title": link.title})
    return _back(request)


@login_required
@require_POST
def remove_favourite(request, link_id: int):
    link = get_object_or_404(ServiceLink, pk=link_id)
    if services.remove_favourite(request.user, link):
        messages.success(request, _("“%(title)s” was removed from your services.")
                         % {"title": link.title})
    else:
        messages.error(request, _("This service is not one of your favourites."))
    return _back(request)
