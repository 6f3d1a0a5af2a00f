"""Hook implementations of `alertes`: the only place the hub talks to this module."""

from django.template.loader import render_to_string
from django.urls import include, path, reverse
from django.utils.translation import gettext as _

from hub.plugins import hookimpl

SLUG = "alertes"


@hookimpl
def hub_module():
    return {
        "slug": SLUG,
        "name_fr": "Alertes et communications",
        "name_en": "Alerts and communications",
        "description_fr": "Recevoir les communications de la Ville par texto, courriel, "
                          "notification ou appel.",
        "description_en": "Receive the city's communications by text message, email, "
                          "notification or phone call.",
        "icon": "alert",
        "order": 20,
        "version": "0.1.0",
    }


@hookimpl
def hub_urlpatterns():
    return [path("alertes/", include("modules.alertes.urls"))]


@hookimpl
def hub_home_tiles(request):
    return [{
        "title": _("Alerts and communications"),
        "description": _("Choose the topics that interest you and how the city reaches you: "
                         "text message, email, notification or phone call."),
        "url": reverse("alertes:index"),
        "icon": "alert",
        "order": 20,
    }]


@hookimpl
def hub_dashboard_panels(request):
    return [{
        "title": _("My communications"),
        "body": render_to_string("alertes/panel.html", {"user": request.user},
                                 request=request),
        "url": reverse("alertes:index"),
        "link_text": _("About the city's communications"),
        "order": 20,
    }]
