"""Hook implementations of the throwaway module."""

from django.http import HttpResponse
from django.urls import path
from django.utils.safestring import mark_safe
from rest_framework import serializers, viewsets
from rest_framework.permissions import AllowAny
from rest_framework.response import Response

from hub.api.permissions import OAuth2TokenHasViewScopes
from hub.plugins import hookimpl

from . import hookspecs

RECEIVED: list[dict] = []
EXPORTED_FOR: list[str] = []
ERASED_FOR: list[str] = []
DEMO_RUNS: list[int] = []


def hello(request):
    return HttpResponse("Bonjour du module jetable")


class PingSerializer(serializers.Serializer):
    pong = serializers.BooleanField()


class PingViewSet(viewsets.ViewSet):
    """Open to everyone, but an OAuth2 client's token must hold the module's own
    ``throwaway:read`` scope (declared with ``hub_oauth_scopes``)."""

    permission_classes = [AllowAny, OAuth2TokenHasViewScopes]
    required_scopes = ["throwaway:read"]
    serializer_class = PingSerializer

    def list(self, request):
        return Response({"pong": True})


@hookimpl
def hub_module():
    return {"slug": "throwaway", "name_fr": "Module jetable", "name_en": "Throwaway module",
            "icon": "module", "order": 99, "version": "1.0"}


@hookimpl
def hub_hookspecs():
    return hookspecs


@hookimpl
def hub_urlpatterns():
    return [path("jetable/", hello, name="throwaway_hello")]


def machine_endpoint(request):
    return HttpResponse("ok", content_type="text/plain")


@hookimpl
def hub_root_urlpatterns():
    return [path("open311/jetable/", machine_endpoint, name="throwaway_machine")]


@hookimpl
def hub_api_routes(router):
    router.register("throwaway-ping", PingViewSet, basename="throwaway-ping")


@hookimpl
def hub_home_tiles(request):
    return [{"title": "Tuile jetable", "description": "", "url": "/fr/jetable/",
             "icon": "module", "order": 99}]


@hookimpl
def hub_dashboard_panels(request):
    body = mark_safe("<p>Contenu du panneau jetable</p>")
    return [{"title": "Panneau jetable", "body": body, "order": 99}]


@hookimpl
def hub_banners(request):
    return [{"text": "Bannière jetable", "level": "info"}]


@hookimpl
def hub_search_sources():
    return []


@hookimpl(optionalhook=True)
def alertes_channels():
    """A delivery channel for `alertes`, declared through alertes' own hook: optional,
    so this module works as well without alertes."""
    from .webhook import WebhookChannel

    return [WebhookChannel()]


@hookimpl
def hub_user_data_export(user):
    EXPORTED_FOR.append(user.email)
    return {"favourite_colour": "bleu"}


@hookimpl
def hub_user_data_erase(user):
    ERASED_FOR.append(user.email)


@hookimpl
def hub_demo_data():
    DEMO_RUNS.append(1)


@hookimpl(optionalhook=True)
def throwaway_happened(payload):
    RECEIVED.append(payload)


STAFF_ROLE = "Testeurs du module jetable"


@hookimpl
def hub_oauth_scopes():
    return {"throwaway:read": "Lire vos données du module jetable"}


@hookimpl
def hub_staff_roles():
    from hub.roles import StaffRole

    return [StaffRole(name=STAFF_ROLE, description="Try the throwaway module in the admin.",
                      permissions=("wagtailadmin.access_admin", "hub.view_district"))]
