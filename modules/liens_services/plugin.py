"""Hook implementations of `liens_services`: the only place the hub talks to this module."""

from django.template.loader import render_to_string
from django.urls import include, path, reverse
from django.utils.translation import gettext as _

from hub.plugins import hookimpl

SLUG = "liens_services"


@hookimpl
def hub_module():
    return {
        "slug": SLUG,
        "name_fr": "Services en ligne",
        "name_en": "Online services",
        "description_fr": "Les autres services en ligne de la Ville, avec le même compte.",
        "description_en": "The city's other online services, with the same account.",
        "icon": "link",
        "order": 40,
        "version": "0.2.0",
    }


@hookimpl
def hub_urlpatterns():
    return [path("services-en-ligne/", include("modules.liens_services.urls"))]


@hookimpl
def hub_home_tiles(request):
    return [{
        "title": _("Other online services"),
        "description": _("Urban-planning requests, property assessment roll, leisure "
                         "registration and more."),
        "url": reverse("liens_services:index"),
        "icon": "link",
        "order": 40,
    }]


@hookimpl
def hub_dashboard_panels(request):
    """The links of the visitor's language, their favourites first: one query
    (``services.my_services``), always fresh."""
    from . import services

    return [{
        "title": _("My services"),
        # Without the request: the panel uses none of the context processors.
        "body": render_to_string("liens_services/panel.html",
                                 {"services": services.my_services(request.user)}),
        "url": reverse("liens_services:index"),
        "link_text": _("All online services"),
        "order": 40,
    }]


@hookimpl
def hub_search_sources():
    from .models import ServiceLink

    return [ServiceLink.objects.filter(is_active=True)]


@hookimpl
def hub_user_data_export(user):
    from . import services

    return services.export_user_data(user)


@hookimpl
def hub_user_data_erase(user):
    from . import services

    services.erase_user_data(user)


@hookimpl
def hub_demo_data():
    from . import demo

    demo.load()


@hookimpl
def hub_oauth_client_services(application_ids):
    """The service link behind each single sign-on client, for "Services using my
    account"."""
    from . import services

    return services.services_for_clients(application_ids)
