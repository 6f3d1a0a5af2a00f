"""The alert and topic snippets of the admin.

Non-emergency alerts go through Wagtail's workflow ("Approbation des alertes", migration
0004): the officer submits, another approver approves (a four-eyes task, migration 0005:
nobody approves what they submitted), which publishes the alert, and publishing sends it
(``Alert.publish`` → ``services.alert_published``); the editor offers no "Publish" for an
alert not yet sent, since that would skip the approval.
"""

import uuid

from django.contrib import messages
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from wagtail.admin.panels import FieldPanel, MultiFieldPanel
from wagtail.admin.ui.tables import Column
from wagtail.snippets.views.snippets import (
    CopyView,
    CreateView,
    EditView,
    IndexView,
    SnippetViewSet,
    SnippetViewSetGroup,
)

from .. import approval, services
from ..admin_forms import AlertForm
from ..models import Alert, Topic


class TopicViewSet(SnippetViewSet):
    model = Topic
    icon = "tag"
    menu_label = gettext_lazy("Topics")
    list_display = ["name_fr", "name_en", "is_emergency", "cap_event", "order"]
    panels = [FieldPanel("slug"), FieldPanel("name_fr"), FieldPanel("name_en"),
              FieldPanel("description_fr"), FieldPanel("description_en"),
              FieldPanel("is_emergency"), FieldPanel("cap_event"), FieldPanel("order")]


def unsent_alert(alert) -> bool:
    """Whether publishing ``alert`` would send it: a new alert, or one still a draft in
    the database (what the form holds may differ)."""
    return alert is None or alert.pk is None or Alert.objects.filter(
        pk=alert.pk, status=Alert.Status.DRAFT).exists()


class NoSendingByPublishMixin:
    """Publishing a draft alert sends it, so the editor's "Publish" is not offered for an
    alert that has not been sent (nor for a new one): it is sent once another approver
    approves it in the workflow (four-eyes rule, ``approval.FourEyesApprovalTask``), or as
    an emergency from its report.  A forged ``action-publish`` only saves the draft."""

    def _publish_would_send(self) -> bool:
        if not hasattr(self, "_would_send"):
            self._would_send = unsent_alert(getattr(self, "object", None))
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


class AlertCopyView(NoSendingByPublishMixin, CopyView):
    def get_initial_form_instance(self):
        """Wagtail binds the copy's form to the original itself (its primary key
        included): a POST to the copy address would save over the original, past the
        editor's lock and workflow checks.  The form gets an unsaved draft instead."""
        original = self._original = super().get_initial_form_instance()
        copy = Alert.objects.get(pk=original.pk)
        copy.pk = copy.id = None
        copy._state.adding = True
        copy.identifier = uuid.uuid4()
        copy.status = Alert.Status.DRAFT
        copy.sent_at = copy.sent_by = None
        copy.created_by = None
        for name, value in (("live", False), ("has_unpublished_changes", True),
                            ("latest_revision", None), ("live_revision", None),
                            ("first_published_at", None), ("last_published_at", None),
                            ("locked", False), ("locked_at", None), ("locked_by", None)):
            if hasattr(copy, name):
                setattr(copy, name, value)
        return copy

    def get_form_kwargs(self):
        kwargs = super().get_form_kwargs()
        original = getattr(self, "_original", None)
        if original is not None:  # an unsaved copy has no relations: the original's
            kwargs["initial"] = {**(kwargs.get("initial") or {}),
                                 "topics": list(original.topics.all()),
                                 "districts": list(original.districts.all())}
        return kwargs


class SendingContextMixin:
    """The compose and approval screens tell, above the form, what sending will do (the
    channels used, the emergency override, a channel without its provider, English calls
    read in French) and, once sent, what happened (``services.summary``)."""

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        alert = getattr(self, "object", None)
        if alert is None or alert.pk is None:
            alert = Alert(severity=Alert.Severity.INFO, channels=[])
            context["sending_plan"] = services.sending_plan(alert, every_channel=True)
        else:
            context["sending_plan"] = services.sending_plan(alert)
            if alert.status not in (Alert.Status.DRAFT, Alert.Status.SCHEDULED):
                context["sending_summary"] = services.summary(alert)
        return context


class AlertCreateView(SendingContextMixin, NoSendingByPublishMixin, CreateView):
    pass


class AlertEditView(SendingContextMixin, NoSendingByPublishMixin, EditView):
    def get(self, request, *args, **kwargs):
        reason = approval.refusal_for(self.object, request.user)
        if reason:  # an approver looking at what they submitted: say why nothing is offered
            messages.warning(request, reason)
        return super().get(request, *args, **kwargs)


class AlertIndexView(IndexView):
    """The alert list: each row's status says what happened, counted from its deliveries
    in one aggregate query for the page (``services.summaries``)."""

    def get_table(self, object_list):
        rows = list(object_list)
        found = services.summaries(rows)
        for alert in rows:
            alert.sending_summary = found[alert.pk]
        return super().get_table(rows)


def _sending_status(alert) -> str:
    summary = getattr(alert, "sending_summary", None)
    return summary.label if summary is not None else alert.get_status_display()


class AlertViewSet(SnippetViewSet):
    model = Alert
    add_view_class = AlertCreateView
    copy_view_class = AlertCopyView
    edit_view_class = AlertEditView
    index_view_class = AlertIndexView
    create_template_name = "alertes/admin/alert_create.html"
    edit_template_name = "alertes/admin/alert_edit.html"
    icon = "warning"
    menu_label = gettext_lazy("Alerts")
    list_display = ["title_fr", "severity", "kind",
                    Column("status", label=gettext_lazy("Status"), accessor=_sending_status),
                    "sent_at"]
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
