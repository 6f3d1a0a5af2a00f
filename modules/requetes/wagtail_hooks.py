"""Admin screens of `requetes`: request categories (a snippet with its questions), the
department queue with each request's actions, and the phone/counter intake form."""

from django.urls import path, reverse
from django.utils.translation import gettext_lazy as _
from wagtail import hooks
from wagtail.admin.menu import MenuItem
from wagtail.admin.viewsets.base import ViewSet
from wagtail.snippets.models import register_snippet
from wagtail.snippets.views.snippets import SnippetViewSet

from . import admin_views, dashboard_views, services
from .models import Category
from .response_templates import ResponseTemplateViewSet


class CategoryViewSet(SnippetViewSet):
    model = Category
    icon = "list-ul"
    menu_label = _("Request categories")
    menu_order = 210
    add_to_admin_menu = True
    list_display = ["name_fr", "service_code", "department", "service_level_days", "active"]
    list_filter = ["active", "department", "group"]
    search_fields = ["name_fr", "name_en", "service_code", "keywords"]


register_snippet(CategoryViewSet)
register_snippet(ResponseTemplateViewSet)


class _StaffMenuItem(MenuItem):
    def is_shown(self, request):
        return services.is_staff_for_requests(request.user)


class RequestQueueViewSet(ViewSet):
    name = "requetes_admin"
    url_prefix = "requetes"
    icon = "list-ul"
    menu_label = _("Service requests")
    menu_order = 200
    add_to_admin_menu = True

    @property
    def menu_url(self):
        return reverse("requetes_admin:queue")

    def get_menu_item(self, order=None):
        return _StaffMenuItem(self.menu_label, self.menu_url, name=self.menu_name,
                              icon_name=self.menu_icon,
                              order=order if order is not None else self.menu_order)

    def get_urlpatterns(self):
        return [
            path("", admin_views.queue, name="queue"),
            path("carte/", admin_views.queue_map, name="map"),
            path("<int:pk>/", admin_views.detail, name="detail"),
            path("saisie/", admin_views.intake_choose, name="intake_choose"),
            path("saisie/<slug:code>/", admin_views.intake, name="intake"),
        ]


@hooks.register("register_admin_viewset")
def register_queue():
    return RequestQueueViewSet()


class _DashboardMenuItem(MenuItem):
    def is_shown(self, request):
        return dashboard_views.may_see_figures(request.user)


class RequestDashboardViewSet(ViewSet):
    """The management figures and their CSV export (see ``stats``)."""

    name = "requetes_dashboard"
    url_prefix = "requetes/tableau-de-bord"
    icon = "table"
    menu_label = _("Request figures")
    menu_order = 201
    add_to_admin_menu = True

    @property
    def menu_url(self):
        return reverse("requetes_dashboard:index")

    def get_menu_item(self, order=None):
        return _DashboardMenuItem(self.menu_label, self.menu_url, name=self.menu_name,
                                  icon_name=self.menu_icon,
                                  order=order if order is not None else self.menu_order)

    def get_urlpatterns(self):
        return [
            path("", dashboard_views.dashboard, name="index"),
            path("export.csv", dashboard_views.export, name="export"),
        ]


@hooks.register("register_admin_viewset")
def register_dashboard():
    return RequestDashboardViewSet()


@hooks.register("register_admin_viewset")
def register_open311_keys():
    from .open311.admin import ApiKeyViewSet

    return ApiKeyViewSet()
