"""The versioned DRF API (``/api/v1/``): hub routes plus what modules register."""

from django.urls import path
from rest_framework.permissions import AllowAny
from rest_framework.routers import APIRootView, DefaultRouter

from hub.plugins.manager import hooks

from . import views


class PublicAPIRootView(APIRootView):
    """The list of routes is public: apps discover the API before signing in."""

    permission_classes = [AllowAny]


class HubRouter(DefaultRouter):
    """DefaultRouter whose root lists module routes too, without format suffixes."""

    include_format_suffixes = False
    APIRootView = PublicAPIRootView


def build_api_urls() -> list:
    router = HubRouter()
    hooks().hub_api_routes(router=router)
    return [
        path("me/", views.MeView.as_view(), name="api_me"),
        path("modules/", views.ModulesView.as_view(), name="api_modules"),
        path("search/", views.SearchView.as_view(), name="api_search"),
        *router.urls,
    ]
