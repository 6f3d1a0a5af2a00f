"""What the alertes admin screens share: a permission checked before the view runs,
and a menu item shown only to those who hold it."""

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.shortcuts import redirect
from django.utils.functional import cached_property
from django.utils.translation import gettext as _
from django.views import View
from wagtail.admin.menu import MenuItem
from wagtail.admin.viewsets.base import ViewSet

NAMESPACE = "alertes_admin"


def send_home(request):
    """Wagtail's answer to a screen one may not open: back to the dashboard, saying why."""
    messages.error(request, _("Sorry, you do not have permission to access this area."))
    return redirect("wagtailadmin_home")


class StaffScreen(View):
    """An admin screen behind a Django permission (``permission``); without it, the
    dashboard with a message, or 403 when ``forbid`` (a file download has no page to
    show the message on)."""

    permission = ""
    forbid = False

    def has_permission(self, user) -> bool:
        return user.has_perm(self.permission)

    def dispatch(self, request, *args, **kwargs):
        if not self.has_permission(request.user):
            if self.forbid:
                raise PermissionDenied
            return send_home(request)
        return super().dispatch(request, *args, **kwargs)


class AlertesPartViewSet(ViewSet):
    """One family of screens with its own menu item, shown to holders of
    ``menu_permission``.  Its URLs live in the shared ``alertes_admin`` namespace, so
    it is registered through ``viewsets.AlertesAdminViewSet`` rather than alone (two
    viewsets with one namespace would hide each other's URL names)."""

    name = NAMESPACE
    add_to_admin_menu = True
    menu_permission = ""

    @cached_property
    def menu_item_class(self):
        permission = self.menu_permission

        class PermittedMenuItem(MenuItem):
            def is_shown(self, request):
                return request.user.has_perm(permission)

        PermittedMenuItem.__name__ = f"{type(self).__name__}MenuItem"
        return PermittedMenuItem
