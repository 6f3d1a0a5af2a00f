"""Four-eyes approval of alerts: a Wagtail workflow task whose approver must be someone
other than the person who submitted the alert.

``FourEyesApprovalTask`` is Wagtail's group approval task (members of the chosen groups
approve or request changes) with one more rule: the user who submitted the workflow
(``WorkflowState.requested_by``) or who wrote the version under review (the task state's
revision, e.g. after resubmitting) is offered no action on it, and ``on_action`` refuses
it server-side too, whatever the path (the workflow action view, the editor's action menu,
or code).  The "Approbation des alertes" workflow uses it (migration 0005).  Wagtail's
"awaiting your review" list leaves out the alerts a user may not review.

Publishing a draft alert sends it, so the editor's "Publish" is not offered either for
an alert that has not been sent (``admin.snippets.AlertViewSet``): a draft reaches the
residents only through this approval, or as an emergency sent by an officer (logged).
"""

from __future__ import annotations

from django.core.exceptions import PermissionDenied
from django.db.models import Q
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from wagtail.models import AbstractGroupApprovalTask, TaskState, WorkflowState


def own_work_reason(workflow_state: WorkflowState | None, user) -> str | None:
    """Why ``user`` may not approve or reject ``workflow_state`` (``None``: they may).

    The submitter of the workflow and the author of the revision awaiting approval are
    refused, superusers included: four-eyes means two different people."""
    if workflow_state is None or user is None or not user.is_authenticated:
        return None
    if workflow_state.requested_by_id == user.pk:
        return _("You submitted this alert for approval: another approver must approve "
                 "it (four-eyes rule).")
    task_state = workflow_state.current_task_state
    if task_state is not None and task_state.revision_id is not None \
            and task_state.revision.user_id == user.pk:
        return _("You wrote the version awaiting approval: another approver must approve "
                 "it (four-eyes rule).")
    return None


class FourEyesApprovalTask(AbstractGroupApprovalTask):
    """Group approval where nobody approves their own submission."""

    class Meta:
        app_label = "alertes"
        verbose_name = gettext_lazy("Four-eyes group approval task")
        verbose_name_plural = gettext_lazy("Four-eyes group approval tasks")

    @classmethod
    def get_description(cls):
        return gettext_lazy("Members of the chosen groups approve, but never what they "
                            "submitted or wrote themselves")

    def refusal(self, obj, user) -> str | None:
        """Why ``user`` gets no action on ``obj`` in this task, if they are refused."""
        return own_work_reason(_workflow_state_of(obj), user)

    def get_actions(self, obj, user):
        if self.refusal(obj, user):
            return []
        return super().get_actions(obj, user)

    def on_action(self, task_state, user, action_name, **kwargs):
        if action_name in ("approve", "reject"):
            reason = own_work_reason(task_state.workflow_state, user)
            if reason:
                raise PermissionDenied(reason)
        return super().on_action(task_state, user, action_name, **kwargs)

    def get_task_states_user_can_moderate(self, user, **kwargs):
        states = super().get_task_states_user_can_moderate(user, **kwargs)
        if not user.is_authenticated:
            return states
        return states.exclude(Q(workflow_state__requested_by=user) | Q(revision__user=user))


def _workflow_state_of(obj) -> WorkflowState | None:
    if obj is None or getattr(obj, "pk", None) is None:
        return None
    return obj.current_workflow_state


def refusal_for(obj, user) -> str | None:
    """Why ``user`` may not act on the approval in progress on ``obj``, when its current
    task is a four-eyes task and they would otherwise be one of its approvers."""
    state = _workflow_state_of(obj)
    if state is None or state.status != WorkflowState.STATUS_IN_PROGRESS:
        return None
    task_state = state.current_task_state
    if task_state is None or task_state.status != TaskState.STATUS_IN_PROGRESS:
        return None
    task = task_state.task.specific
    if not isinstance(task, FourEyesApprovalTask):
        return None
    if not (user.is_superuser
            or task.groups.filter(pk__in=user.groups.values("pk")).exists()):
        return None
    return own_work_reason(state, user)
