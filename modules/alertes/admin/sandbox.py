"""The "boîte de test": the messages the sandbox channel recorded instead of sending
them (``channels.sandbox``), shown like a phone's message list — one conversation per
recipient, the newest first.  Staff who may see the subscribers only: the messages are
personal information."""

from django.db.models import Q
from django.template.response import TemplateResponse
from django.urls import path
from django.utils.translation import gettext_lazy

from ..channels import sandbox
from ..models import SandboxMessage
from .base import AlertesPartViewSet, StaffScreen

MAX_MESSAGES = 300


def conversations(messages) -> list[dict]:
    """Messages grouped by recipient (channel kept per message), the recipient with the
    newest message first, each conversation's messages newest first."""
    grouped: dict[str, dict] = {}
    for message in messages:
        entry = grouped.setdefault(message.address, {"address": message.address,
                                                     "messages": [], "channels": []})
        entry["messages"].append(message)
        if message.channel not in entry["channels"]:
            entry["channels"].append(message.channel)
    return list(grouped.values())


class SandboxView(StaffScreen):
    """``/admin/alertes/boite-de-test/``: the last recorded messages, by recipient;
    ``?q=`` keeps the recipients whose number or address contains it."""

    permission = "alertes.view_subscriber"

    def get(self, request):
        query = (request.GET.get("q") or "").strip()[:100]
        messages = SandboxMessage.objects.select_related("delivery")
        if query:
            messages = messages.filter(Q(address__icontains=query))
        total = messages.count()
        latest = list(messages.order_by("-created_at", "-pk")[:MAX_MESSAGES])
        return TemplateResponse(request, "alertes/admin/sandbox.html", {
            "conversations": conversations(latest), "total": total, "query": query,
            "shown": len(latest), "enabled": sandbox.enabled(),
        })


class SandboxViewSet(AlertesPartViewSet):
    """The "Test box" menu item and its screen."""

    menu_label = gettext_lazy("Test box")
    menu_icon = "mobile-alt"
    menu_order = 253
    menu_permission = "alertes.view_subscriber"

    def get_urlpatterns(self):
        return [path("boite-de-test/", SandboxView.as_view(), name="sandbox")]
