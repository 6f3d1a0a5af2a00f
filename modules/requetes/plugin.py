"""Hook implementations of `requetes`: the only place the hub talks to this module."""

from django.template.loader import render_to_string
from django.urls import include, path, reverse
from django.utils.translation import gettext as _

from hub.plugins import hookimpl

from . import hookspecs

SLUG = "requetes"


@hookimpl
def hub_module():
    return {
        "slug": SLUG,
        "name_fr": "Requêtes",
        "name_en": "Service requests",
        "description_fr": "Signaler un problème et suivre son traitement.",
        "description_en": "Report a problem and follow its processing.",
        "icon": "request",
        "order": 10,
        "version": "0.1.0",
    }


@hookimpl
def hub_hookspecs():
    return hookspecs


@hookimpl
def hub_notice_topics():
    """"My requests": the updates of the requests a resident made or follows, on the
    channels they choose (email until they do)."""
    from .notices import topic

    return [topic()]


@hookimpl
def hub_staff_roles():
    """Intake agents, department agents, and what administrators may do here; code
    checks the permissions (``roles.py``), never the groups' names."""
    from .roles import staff_roles

    return staff_roles()


@hookimpl
def hub_urlpatterns():
    return [path("requetes/", include("modules.requetes.urls"))]


@hookimpl
def hub_root_urlpatterns():
    """Open311 GeoReport v2 at the address clients expect, outside the language
    prefixes (the language of names and messages follows Accept-Language)."""
    return [path("open311/v2/", include("modules.requetes.open311.urls"))]


@hookimpl
def hub_api_routes(router):
    from .api import CategoryViewSet, ServiceRequestViewSet

    router.register("request-categories", CategoryViewSet, basename="request-categories")
    router.register("requests", ServiceRequestViewSet, basename="requests")


@hookimpl
def hub_home_tiles(request):
    return [{
        "title": _("Report a problem"),
        "description": _("Snow removal, roads, lighting, garbage… report it with a precise "
                         "location and follow its processing."),
        "url": reverse("requetes:index"),
        "icon": "request",
        "order": 10,
    }]


@hookimpl
def hub_dashboard_panels(request):
    """The citizen's five latest requests: one query of the columns shown, never cached
    (``services.panel``)."""
    from .services.panel import latest_requests

    return [{
        "title": _("My requests"),
        # Without the request: the panel uses none of the context processors.
        "body": render_to_string("requetes/panel.html",
                                 {"latest": latest_requests(request.user)}),
        "url": reverse("requetes:choose_category"),
        "link_text": _("Report a problem"),
        "order": 10,
    }]


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
def hub_periodic_tasks():
    """``requetes.retention`` every night at 3:15: closed requests past their
    category's retention period are anonymised (``services/retention.py``);
    ``requetes.dashboard`` every ten minutes: the dashboard's usual periods are computed
    ahead (``snapshots.py``)."""
    from hub.scheduler import PeriodicTask

    from .snapshots import SCHEDULE
    from .tasks import anonymise_expired, refresh_dashboard

    return [PeriodicTask(name="requetes.retention", task=anonymise_expired,
                         schedule="15 3 * * *"),
            PeriodicTask(name="requetes.dashboard", task=refresh_dashboard,
                         schedule=SCHEDULE)]


@hookimpl
def hub_search_sources():
    """Active categories, so "nid de poule" leads to the roads category's report form."""
    from .models import Category

    return [Category.objects.filter(active=True)]


@hookimpl
def hub_search_documents():
    """The staff service-request index (only asked when Elasticsearch is configured)."""
    from .search_documents import SOURCE

    return [SOURCE]


@hookimpl
def hub_oauth_scopes():
    """The scopes of the requests API (``required_scopes`` in api.py), in the resident's
    words: the consent screen and "Services using my account" show these texts."""
    from django.utils.translation import gettext_lazy

    return {"requetes:read": gettext_lazy("Read your service requests"),
            "requetes:write": gettext_lazy("Submit and follow service requests for you")}
