"""Admin of `alertes`: topics and alerts (snippets), the sending screen and the report.

Non-emergency alerts need a second officer's approval before they are sent (the
``approved_by`` field, set by the "Approve" button by an officer other than the author);
emergencies can be sent at once by any officer, and the sending is logged.
"""

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST
from wagtail import hooks
from wagtail.admin.menu import MenuItem
from wagtail.admin.panels import FieldPanel, MultiFieldPanel
from wagtail.snippets.models import register_snippet
from wagtail.snippets.views.snippets import SnippetViewSet, SnippetViewSetGroup

from . import services, sms
from .admin_forms import AlertForm
from .models import Alert, Delivery, Topic


class TopicViewSet(SnippetViewSet):
    model = Topic
    icon = "tag"
    menu_label = gettext_lazy("Topics")
    list_display = ["name_fr", "name_en", "is_emergency", "order"]
    panels = [FieldPanel("slug"), FieldPanel("name_fr"), FieldPanel("name_en"),
              FieldPanel("description_fr"), FieldPanel("description_en"),
              FieldPanel("is_emergency"), FieldPanel("order")]


class AlertViewSet(SnippetViewSet):
    model = Alert
    icon = "warning"
    menu_label = gettext_lazy("Alerts")
    list_display = ["title_fr", "severity", "kind", "status", "sent_at"]
    list_filter = ["status", "severity"]
    panels = [
        FieldPanel("severity"),
        MultiFieldPanel([FieldPanel("title_fr"), FieldPanel("body_fr"), FieldPanel("sms_fr"),
                         FieldPanel("push_fr"), FieldPanel("voice_fr")],
                        heading=gettext_lazy("French")),
        MultiFieldPanel([FieldPanel("title_en"), FieldPanel("body_en"), FieldPanel("sms_en"),
                         FieldPanel("push_en"), FieldPanel("voice_en")],
                        heading=gettext_lazy("English")),
        FieldPanel("topics"), FieldPanel("districts"), FieldPanel("channels"),
        FieldPanel("send_at"), FieldPanel("expires_at"),
    ]

    def get_form_class(self, for_update=False):
        from wagtail.admin.panels import ObjectList

        return ObjectList(self.panels, base_form_class=AlertForm).bind_to_model(
            self.model).get_form_class()


class AlertsGroup(SnippetViewSetGroup):
    items = (AlertViewSet, TopicViewSet)
    menu_icon = "warning"
    menu_label = gettext_lazy("Alerts")
    menu_name = "alertes"
    menu_order = 250


register_snippet(AlertsGroup)


def _officer_or_denied(request, perm="alertes.view_alert"):
    if not request.user.has_perm(perm):
        raise PermissionDenied


def sendings(request):
    """Every alert with its status and a link to its report and actions."""
    if not request.user.has_perm("alertes.view_alert"):
        messages.error(request, _("Sorry, you do not have permission to access this area."))
        return redirect("wagtailadmin_home")
    alerts = Alert.objects.order_by("-created_at")[:200]
    return TemplateResponse(request, "alertes/admin/sendings.html", {"alerts": alerts})


def report(request, pk):
    if not request.user.has_perm("alertes.view_alert"):
        messages.error(request, _("Sorry, you do not have permission to access this area."))
        return redirect("wagtailadmin_home")
    alert = get_object_or_404(Alert, pk=pk)
    lengths = {lang: sms.measure(getattr(alert, f"sms_{lang}") or "") for lang in ("fr", "en")}
    safe = {lang: sms.gsm7_safe(getattr(alert, f"sms_{lang}") or "") for lang in ("fr", "en")}
    audience = None
    if alert.status in (Alert.Status.DRAFT, Alert.Status.SCHEDULED):
        audience = services.audience_size(alert)
    return TemplateResponse(request, "alertes/admin/report.html", {
        "alert": alert, "report": services.report(alert), "lengths": lengths, "safe": safe,
        "audience": audience, "statuses": Delivery.Status.choices,
        "can_send": services.can_send(request.user),
        "can_approve": services.can_approve(request.user)
        and alert.created_by_id != request.user.pk,
    })


@require_POST
def action(request, pk):
    alert = get_object_or_404(Alert, pk=pk)
    what = request.POST.get("action")
    try:
        if what == "approve":
            services.approve(alert, request.user)
            messages.success(request, _("Alert approved."))
        elif what == "send":
            count = services.send(alert, request.user)
            if count:
                messages.success(request, _("Alert sent to %(count)d addresses.") % {
                    "count": count})
            else:
                messages.success(request, _("Alert scheduled."))
        elif what == "test":
            channels = services.send_test(alert, request.user)
            if channels:
                messages.success(request, _("Test sent on: %(channels)s.") % {
                    "channels": ", ".join(channels)})
            else:
                messages.warning(request, _("You have no confirmed address: subscribe to "
                                            "the alerts first."))
        elif what in ("update", "cancel"):
            correction = services.create_correction(alert, what, request.user)
            return redirect(reverse("wagtailsnippets_alertes_alert:edit",
                                    args=[correction.pk]))
        elif what in ("resend", "mark_sent"):
            delivery = get_object_or_404(Delivery, pk=request.POST.get("delivery") or 0,
                                         alert=alert)
            with transaction.atomic():
                services.resolve_review(delivery, request.user, resend=what == "resend")
            messages.success(request, _("Delivery updated."))
        else:
            messages.error(request, _("Unknown action."))
    except PermissionDenied as exc:
        messages.error(request, str(exc) or _("You may not do this."))
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    return redirect("alertes_admin:report", pk=alert.pk)


@hooks.register("register_admin_urls")
def urls():
    return [path("alertes/", include_urls())]


def include_urls():
    from django.urls import include

    return include(([
        path("envois/", sendings, name="sendings"),
        path("<int:pk>/rapport/", report, name="report"),
        path("<int:pk>/action/", action, name="action"),
    ], "alertes_admin"))


class SendingsMenuItem(MenuItem):
    def is_shown(self, request):
        return request.user.has_perm("alertes.view_alert")


@hooks.register("register_admin_menu_item")
def sendings_menu_item():
    return SendingsMenuItem(gettext_lazy("Alert sending"), reverse("alertes_admin:sendings"),
                            icon_name="mail", order=251)
