"""Hook implementations of `actualites`: the only place the hub talks to this module."""

from django.template.loader import render_to_string
from django.urls import include, path, reverse
from django.utils.translation import gettext as _

from hub.plugins import hookimpl

from . import services

SLUG = "actualites"


@hookimpl
def hub_module():
    return {
        "slug": SLUG,
        "name_fr": "Actualités",
        "name_en": "News",
        "description_fr": "Les nouvelles de la Ville.",
        "description_en": "News from the city.",
        "icon": "news",
        "order": 30,
        "version": "0.1.0",
    }


@hookimpl
def hub_urlpatterns():
    return [path("actualites/", include("modules.actualites.urls"))]


@hookimpl
def hub_home_tiles(request):
    return [{
        "title": _("City news"),
        "description": _("Announcements, works, events and decisions of the city council."),
        "url": reverse("actualites:index"),
        "icon": "news",
        "order": 30,
    }]


@hookimpl
def hub_dashboard_panels(request):
    return [{
        "title": _("Latest news"),
        "body": render_to_string("actualites/panel.html",
                                 {"pages": services.latest_pages(request, limit=3)},
                                 request=request),
        "url": reverse("actualites:index"),
        "link_text": _("All news"),
        "order": 30,
    }]
