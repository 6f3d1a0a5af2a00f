"""Registrations of `alertes` in the Wagtail admin; the screens themselves are in
``admin/`` (snippets, sending, subscribers)."""

from django.utils.translation import gettext_lazy
from wagtail import hooks
from wagtail.snippets.models import register_snippet

from .admin.snippets import AlertsGroup, unsent_alert
from .admin.viewsets import AlertesAdminViewSet
from .models import Alert

register_snippet(AlertsGroup)


@hooks.register("register_admin_viewset")
def register_alertes_admin():
    """``/admin/alertes/``: the sending and subscriber screens and their menu items."""
    return AlertesAdminViewSet()


@hooks.register("construct_snippet_action_menu")
def hide_publish_of_unsent_alerts(menu_items, request, context):
    """No "Publish" in the editor of an alert that publishing would send (see
    ``admin.snippets.NoSendingByPublishMixin``, which refuses it server-side)."""
    if context.get("model") is Alert and unsent_alert(context.get("instance")):
        menu_items[:] = [item for item in menu_items if item.name != "action-publish"]


@hooks.register("register_log_actions")
def register_log_actions(actions):
    actions.register_action("alertes.emergency_send", gettext_lazy("Emergency sent"),
                            gettext_lazy("Emergency sent at once, without approval"))
    actions.register_action("alertes.approved_send", gettext_lazy("Sent after approval"),
                            gettext_lazy("Sent (or scheduled) after its approval"))
    actions.register_action("alertes.not_sent", gettext_lazy("Not sent"),
                            gettext_lazy("Approved but not sent: see the report"))
