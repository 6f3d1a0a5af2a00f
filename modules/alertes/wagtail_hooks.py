"""Admin of `alertes`: topics and alerts (snippets), the sending screen, the report (and
its CSV), the subscribers and the registration of residents without an account.

Non-emergency alerts go through Wagtail's workflow ("Approbation des alertes", migration
0004): the officer submits, another approver approves (a four-eyes task, migration 0005:
nobody approves what they submitted), which publishes the alert, and publishing sends it
(``Alert.publish`` → ``services.alert_published``); the editor offers no "Publish" for an
alert not yet sent, since that would skip the approval.  Emergencies can
be sent at once by any officer from the report ("Send the emergency now"); the sending is
written in the alert's history.
"""

import csv

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db import transaction
from django.http import HttpResponse
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
from wagtail.snippets.views.snippets import (
    CopyView,
    CreateView,
    EditView,
    SnippetViewSet,
    SnippetViewSetGroup,
)

from . import approval, services, sms
from .admin_forms import AlertForm, ImportConfirmForm, ImportForm, ResidentForm
from .channels import channel_choices
from .models import Alert, ConsentRecord, Delivery, Topic


class TopicViewSet(SnippetViewSet):
    model = Topic
    icon = "tag"
    menu_label = gettext_lazy("Topics")
    list_display = ["name_fr", "name_en", "is_emergency", "cap_event", "order"]
    panels = [FieldPanel("slug"), FieldPanel("name_fr"), FieldPanel("name_en"),
              FieldPanel("description_fr"), FieldPanel("description_en"),
              FieldPanel("is_emergency"), FieldPanel("cap_event"), FieldPanel("order")]


class NoSendingByPublishMixin:
    """Publishing a draft alert sends it, so the editor's "Publish" is not offered for an
    alert that has not been sent (nor for a new one): it is sent once another approver
    approves it in the workflow (four-eyes rule, ``approval.FourEyesApprovalTask``), or as
    an emergency from its report.  A forged ``action-publish`` only saves the draft."""

    def _publish_would_send(self) -> bool:
        if not hasattr(self, "_would_send"):
            alert = getattr(self, "object", None)
            self._would_send = alert is None or alert.pk is None or Alert.objects.filter(
                pk=alert.pk, status=Alert.Status.DRAFT).exists()
        return self._would_send

    def get_available_actions(self):
        actions = super().get_available_actions()
        if "publish" in actions and self._publish_would_send():
            actions = [name for name in actions if name != "publish"]
        return actions

    def get_action(self, request):
        action = super().get_action(request)
        if request.POST.get("action-publish") and action != "publish":
            messages.error(request, _(
                "Publishing would send this alert: it is sent once another approver has "
                "approved it. Submit it for approval instead."))
        return action


class AlertCreateView(NoSendingByPublishMixin, CreateView):
    pass


class AlertCopyView(NoSendingByPublishMixin, CopyView):
    pass


class AlertEditView(NoSendingByPublishMixin, EditView):
    def get(self, request, *args, **kwargs):
        reason = approval.refusal_for(self.object, request.user)
        if reason:  # an approver looking at what they submitted: say why nothing is offered
            messages.warning(request, reason)
        return super().get(request, *args, **kwargs)


class AlertViewSet(SnippetViewSet):
    model = Alert
    add_view_class = AlertCreateView
    copy_view_class = AlertCopyView
    edit_view_class = AlertEditView
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
    alerts = Alert.objects.select_related("sent_by").order_by("-created_at")[:200]
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
        "workflow_state": alert.current_workflow_state,
        "four_eyes": approval.refusal_for(alert, request.user),
        "edit_url": reverse("wagtailsnippets_alertes_alert:edit", args=[alert.pk]),
    })


def report_csv(request, pk):
    """The report as a CSV file (counts, delays, voice confirmations, failure reasons)."""
    if not request.user.has_perm("alertes.view_alert"):
        raise PermissionDenied
    alert = get_object_or_404(Alert, pk=pk)
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="alerte-{alert.pk}-rapport.csv"'
    response.write("\ufeff")  # Excel opens UTF-8 correctly with a BOM
    writer = csv.writer(response)
    for row in services.report_rows(alert):
        writer.writerow(row)
    return response


def subscribers(request):
    """Subscribers with search and filters, and the counts per topic, zone and channel."""
    if not request.user.has_perm("alertes.view_subscriber"):
        messages.error(request, _("Sorry, you do not have permission to access this area."))
        return redirect("wagtailadmin_home")
    query = request.GET.get("q", "")[:100]
    filters = {key: request.GET.get(key, "")[:60] for key in ("topic", "district", "channel")}
    rows = services.search_subscribers(query, **filters)
    page = Paginator(rows, 50).get_page(request.GET.get("p"))
    from hub.models import District

    return TemplateResponse(request, "alertes/admin/subscribers.html", {
        "page": page, "query": query, "filters": filters,
        "counts": services.subscriber_counts(), "topics": Topic.objects.all(),
        "districts": District.objects.order_by("name"),
        "channels": channel_choices(),
        "can_register": services.can_register(request.user),
    })


def _registrar_or_home(request):
    if services.can_register(request.user):
        return None
    messages.error(request, _("Sorry, you do not have permission to access this area."))
    return redirect("wagtailadmin_home")


def register_resident(request):
    """One resident without an account (e.g. a senior with a landline), with the
    consent they gave (by phone, at the counter) recorded."""
    if (denied := _registrar_or_home(request)) is not None:
        return denied
    form = ResidentForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            services.register_resident(
                name=data["name"], phone=data["phone"], email=data["email"],
                civic_address=data["civic_address"], language=data["language"],
                district=data["district"], topics=data["topics"], voice=data["voice"],
                sms=data["sms"], actor=request.user, method=ConsentRecord.Method.STAFF,
                consent_note=data["consent_note"])
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            messages.success(request, _("%(name)s is registered.") % {"name": data["name"]})
            return redirect("alertes_admin:subscribers")
    return TemplateResponse(request, "alertes/admin/register.html", {"form": form})


def import_residents(request):
    """CSV import in two steps: the upload is always a dry run (what would be created,
    the errors line by line, nothing written); "Import" writes the previewed file."""
    if (denied := _registrar_or_home(request)) is not None:
        return denied
    context = {"form": ImportForm(), "max_mb": services.IMPORT_MAX_BYTES // (1024 * 1024)}
    if request.method == "POST" and "content" in request.POST:
        confirm = ImportConfirmForm(request.POST)
        if confirm.is_valid():
            try:
                rows = services.parse_residents_csv(
                    confirm.cleaned_data["content"].encode("utf-8"))
            except ValidationError as exc:
                messages.error(request, " ".join(exc.messages))
                return TemplateResponse(request, "alertes/admin/import.html", context)
            result = services.import_residents(
                rows, request.user, dry_run=False,
                consent_note=confirm.cleaned_data["consent_note"])
            messages.success(request, _("%(created)d residents registered, %(errors)d lines "
                                        "with errors.") % {"created": result["created"],
                                                            "errors": len(result["errors"])})
            context.update(result=result)
            return TemplateResponse(request, "alertes/admin/import.html", context)
        messages.error(request, _("The preview expired: upload the file again."))
    elif request.method == "POST":
        form = ImportForm(request.POST, request.FILES)
        context["form"] = form
        if form.is_valid():
            upload = form.cleaned_data["file"]
            try:
                if upload.size > services.IMPORT_MAX_BYTES:
                    raise ValidationError(_("The file is larger than %(size)d MB.") % {
                        "size": context["max_mb"]})
                data = upload.read()
                rows = services.parse_residents_csv(data)
            except ValidationError as exc:
                form.add_error("file", exc)
            else:
                result = services.import_residents(
                    rows, request.user, dry_run=True,
                    consent_note=form.cleaned_data["consent_note"])
                context.update(preview=result, confirm=ImportConfirmForm(initial={
                    "content": data.decode("utf-8-sig", errors="replace")
                    if _is_utf8(data) else data.decode("cp1252"),
                    "consent_note": form.cleaned_data["consent_note"]}))
    return TemplateResponse(request, "alertes/admin/import.html", context)


def _is_utf8(data: bytes) -> bool:
    try:
        data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return False
    return True


@require_POST
def action(request, pk):
    alert = get_object_or_404(Alert, pk=pk)
    what = request.POST.get("action")
    try:
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
        path("<int:pk>/rapport.csv", report_csv, name="report_csv"),
        path("abonnes/", subscribers, name="subscribers"),
        path("abonnes/inscrire/", register_resident, name="register"),
        path("abonnes/importer/", import_residents, name="import"),
    ], "alertes_admin"))


@hooks.register("construct_snippet_action_menu")
def hide_publish_of_unsent_alerts(menu_items, request, context):
    """No "Publish" in the editor of an alert that publishing would send (see
    ``NoSendingByPublishMixin``, which refuses it server-side)."""
    if context.get("model") is not Alert:
        return
    instance = context.get("instance")
    if instance is not None and instance.pk is not None and not Alert.objects.filter(
            pk=instance.pk, status=Alert.Status.DRAFT).exists():
        return
    menu_items[:] = [item for item in menu_items if item.name != "action-publish"]


@hooks.register("register_log_actions")
def register_log_actions(actions):
    actions.register_action("alertes.emergency_send", gettext_lazy("Emergency sent"),
                            gettext_lazy("Emergency sent at once, without approval"))
    actions.register_action("alertes.approved_send", gettext_lazy("Sent after approval"),
                            gettext_lazy("Sent (or scheduled) after its approval"))
    actions.register_action("alertes.not_sent", gettext_lazy("Not sent"),
                            gettext_lazy("Approved but not sent: see the report"))


class SubscribersMenuItem(MenuItem):
    def is_shown(self, request):
        return request.user.has_perm("alertes.view_subscriber")


@hooks.register("register_admin_menu_item")
def subscribers_menu_item():
    return SubscribersMenuItem(gettext_lazy("Alert subscribers"),
                               reverse("alertes_admin:subscribers"), icon_name="group",
                               order=252)


class SendingsMenuItem(MenuItem):
    def is_shown(self, request):
        return request.user.has_perm("alertes.view_alert")


@hooks.register("register_admin_menu_item")
def sendings_menu_item():
    return SendingsMenuItem(gettext_lazy("Alert sending"), reverse("alertes_admin:sendings"),
                            icon_name="mail", order=251)
