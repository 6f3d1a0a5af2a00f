"""``/open311/v2/``, mounted at the site root by ``plugin.hub_root_urlpatterns`` (a
standard's fixed address, outside the language prefixes)."""

from django.urls import path, re_path, register_converter

from . import views


class FormatConverter:
    """The spec's two response formats, given as the path's extension."""

    regex = "json|xml"

    def to_python(self, value):
        return value

    def to_url(self, value):
        return value


register_converter(FormatConverter, "o311fmt")

app_name = "open311"

urlpatterns = [
    path("discovery.<o311fmt:fmt>", views.discovery, name="discovery"),
    path("services.<o311fmt:fmt>", views.service_list, name="services"),
    path("services/<str:service_code>.<o311fmt:fmt>", views.service_definition,
         name="service"),
    path("requests.<o311fmt:fmt>", views.requests_endpoint, name="requests"),
    path("requests/<str:service_request_id>.<o311fmt:fmt>", views.request_detail,
         name="request"),
    path("tokens/<str:token>.<o311fmt:fmt>", views.token_detail, name="token"),
    path("servicerequestupdates.<o311fmt:fmt>", views.updates_endpoint, name="updates"),
    re_path(r"^(?P<rest>.*)$", views.not_found, name="not_found"),
]
