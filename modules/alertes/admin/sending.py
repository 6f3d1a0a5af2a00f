"""The sending screens: every alert with its status, an alert's report (and its CSV) and
the actions taken from the report (send an emergency now, a test send, an update or a
cancellation, resolve a delivery under review).

Emergencies can be sent at once by any officer from the report ("Send the emergency
now"); the sending is written in the alert's history.  Who may send is the services'
rule (``services.can_send``): the action view lets them refuse with ``PermissionDenied``.
"""

import csv

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views import View

from .. import approval, services, sms
from ..models import Alert, Delivery
from .base import AlertesPartViewSet, StaffScreen


class SendingsView(StaffScreen):
    """Every alert with its status and a link to its report and actions."""

    permission = "alertes.view_alert"

    def get(self, request):
        alerts = list(Alert.objects.select_related("sent_by").order_by("-created_at")[:200])
        found = services.summaries(alerts)  # one aggregate query for the whole list
        for alert in alerts:
            alert.sending_summary = found[alert.pk]
        return TemplateResponse(request, "alertes/admin/sendings.html", {"alerts": alerts})


class ReportView(StaffScreen):
    """An alert's report: counts per channel and status, SMS lengths, the audience of an
    alert not yet sent, the failures and the actions the viewer may take."""

    permission = "alertes.view_alert"

    def get(self, request, pk):
        alert = get_object_or_404(Alert, pk=pk)
        texts = {lang: getattr(alert, f"sms_{lang}") or "" for lang in ("fr", "en")}
        audience = plan = None
        if alert.status in (Alert.Status.DRAFT, Alert.Status.SCHEDULED):
            audience = services.audience_size(alert)
            plan = services.sending_plan(alert)  # the confirmation before "send now"
        report = services.humanize_report(services.report(alert))
        summary = None
        if alert.status not in (Alert.Status.DRAFT, Alert.Status.SCHEDULED):
            summary = services.summary_from_counts(alert, report["per_channel"])
        return TemplateResponse(request, "alertes/admin/report.html", {
            "alert": alert, "report": report, "sending_plan": plan,
            "sending_summary": summary,
            "lengths": {lang: sms.measure(text) for lang, text in texts.items()},
            "safe": {lang: sms.gsm7_safe(text) for lang, text in texts.items()},
            "audience": audience, "statuses": Delivery.Status.choices,
            "can_send": services.can_send(request.user),
            "workflow_state": alert.current_workflow_state,
            "four_eyes": approval.refusal_for(alert, request.user),
            "edit_url": reverse("wagtailsnippets_alertes_alert:edit", args=[alert.pk]),
        })


class ReportCSVView(StaffScreen):
    """The report as a CSV file (counts, delays, voice confirmations, failure reasons)."""

    permission = "alertes.view_alert"
    forbid = True

    def get(self, request, pk):
        alert = get_object_or_404(Alert, pk=pk)
        response = HttpResponse(content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = (f'attachment; filename="alerte-{alert.pk}'
                                           '-rapport.csv"')
        response.write("\ufeff")  # Excel opens UTF-8 correctly with a BOM
        writer = csv.writer(response)
        for row in services.report_rows(alert):
            writer.writerow(row)
        return response


class ActionView(View):
    """The report's buttons (POST only).  No permission test here: each service checks
    its own (sending, correcting, resolving) and its refusal is shown on the report."""

    http_method_names = ["post"]

    def post(self, request, pk):
        alert = get_object_or_404(Alert, pk=pk)
        what = request.POST.get("action")
        try:
            if what in ("update", "cancel"):
                correction = services.create_correction(alert, what, request.user)
                return redirect(reverse("wagtailsnippets_alertes_alert:edit",
                                        args=[correction.pk]))
            self.act(request, alert, what)
        except PermissionDenied as exc:
            messages.error(request, str(exc) or _("You may not do this."))
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))
        return redirect("alertes_admin:report", pk=alert.pk)

    def act(self, request, alert, what):
        if what == "send":
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
        elif what in ("resend", "mark_sent"):
            delivery = get_object_or_404(Delivery, pk=request.POST.get("delivery") or 0,
                                         alert=alert)
            with transaction.atomic():
                services.resolve_review(delivery, request.user, resend=what == "resend")
            messages.success(request, _("Delivery updated."))
        else:
            messages.error(request, _("Unknown action."))


class SendingViewSet(AlertesPartViewSet):
    """The "Alert sending" menu item and the screens behind it."""

    menu_label = gettext_lazy("Alert sending")
    menu_icon = "mail"
    menu_order = 251
    menu_permission = "alertes.view_alert"

    def get_urlpatterns(self):
        return [
            path("envois/", SendingsView.as_view(), name="sendings"),
            path("<int:pk>/rapport/", ReportView.as_view(), name="report"),
            path("<int:pk>/action/", ActionView.as_view(), name="action"),
            path("<int:pk>/rapport.csv", ReportCSVView.as_view(), name="report_csv"),
        ]
