"""Four-eyes approval: an alert is approved by someone other than its submitter.

The "Approbation des alertes" workflow's task is ``alertes.FourEyesApprovalTask``
(migration 0005).  An officer who is also an approver submits an alert: they are offered
no approve/reject action, every way of approving it themselves is refused (workflow action
view, editor, the task's API, "Publish" in the editor), the admin says why, and another
approver approves it, which sends it."""

import pytest
from django.core.exceptions import PermissionDenied
from wagtail.models import GroupApprovalTask, Task, TaskState, WorkflowContentType

from modules.alertes.approval import FourEyesApprovalTask
from modules.alertes.models import Alert, Delivery
from modules.alertes.roles import COMMUNICATIONS_OFFICERS
from tests.conftest import make_user

from .conftest import APPROVERS, make_subscriber, submit_for_approval

FORM = {"title_en": "", "body_en": "", "sms_en": "", "push_fr": "", "push_en": "",
        "voice_fr": "", "voice_en": "", "channels": ["email"], "severity": "notice",
        "title_fr": "Collecte reportée", "body_fr": "La collecte est demain.",
        "sms_fr": "Collecte demain"}
APPROVE = 'data-workflow-action-name="approve"'
REJECT = 'data-workflow-action-name="reject"'
SELF_REASON = "une autre personne approbatrice doit l’approuver"  # French first


@pytest.fixture
def officer_approver(db):
    """A communications officer who is also in the alert approvers' group."""
    return make_user("agent-approbateur@example.com", is_staff=True,
                     groups=[COMMUNICATIONS_OFFICERS, APPROVERS])


def edit_url(alert):
    return f"/admin/snippets/alertes/alert/edit/{alert.pk}/"


def approve_url(alert, action="approve"):
    task_state = alert.current_workflow_state.current_task_state
    return f"/admin/snippets/alertes/alert/workflow/action/{alert.pk}/{action}/{task_state.pk}/"


def submit_in_admin(client, user, topics):
    client.force_login(user)
    response = client.post("/admin/snippets/alertes/alert/add/", {
        **FORM, "topics": [topics["deneigement"].pk], "action-submit": "1"})
    assert response.status_code == 302, response.content[:2000]
    alert = Alert.objects.get()
    assert alert.workflow_in_progress
    return alert


def assert_not_sent(alert):
    alert.refresh_from_db()
    assert alert.status == "draft" and not alert.live and alert.sent_by is None
    assert not Delivery.objects.filter(alert=alert).exists()
    assert alert.workflow_in_progress
    assert alert.current_workflow_state.current_task_state.status == "in_progress"


def test_migration_turned_the_alert_task_into_a_four_eyes_task(db):
    link = WorkflowContentType.objects.get(content_type__app_label="alertes",
                                           content_type__model="alert")
    [task] = [t.specific for t in link.workflow.tasks]
    assert isinstance(task, FourEyesApprovalTask) and task.active
    assert task.name == "Approbation d'une alerte"
    assert set(task.groups.values_list("name", flat=True)) == {APPROVERS, "Administrateurs"}
    # The same Task row, converted in place: no plain group approval task is left over.
    assert not GroupApprovalTask.objects.filter(name=task.name).exists()
    assert Task.objects.filter(name=task.name).count() == 1


def test_submitter_who_is_an_approver_cannot_approve_in_the_admin(
        client, officer_approver, approver, topics, smtp, django_capture_on_commit_callbacks):
    make_subscriber(email="r@example.com", topics=[topics["deneigement"]])
    alert = submit_in_admin(client, officer_approver, topics)
    state = alert.current_workflow_state
    assert state.requested_by == officer_approver

    # No action offered, and the editor says why.
    page = client.get(edit_url(alert)).content.decode()
    assert APPROVE not in page and REJECT not in page
    assert 'name="action-publish"' not in page
    assert SELF_REASON in page
    # The report says it too.
    report = client.get(f"/admin/alertes/{alert.pk}/rapport/").content.decode()
    assert SELF_REASON in report

    # Every way of doing it anyway is refused, and nothing is sent.
    for action in ("approve", "reject"):
        for response in (client.get(approve_url(alert, action)),
                         client.post(approve_url(alert, action), {"comment": "moi"})):
            # Wagtail's admin answers PermissionDenied by a redirect to the dashboard.
            assert (response.status_code, response.get("Location")) == (302, "/admin/")
        assert_not_sent(alert)
    with django_capture_on_commit_callbacks(execute=True):
        client.post(edit_url(alert), {**FORM, "topics": [topics["deneigement"].pk],
                                      "action-workflow-action": "1",
                                      "workflow-action-name": "approve"})
    assert_not_sent(alert)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(edit_url(alert), {**FORM, "topics": [topics["deneigement"].pk],
                                                 "action-publish": "1"}, follow=True)
    assert "Soumettez-la plutôt à l’approbation" in response.content.decode()
    assert_not_sent(alert)
    assert not [m for m in smtp.messages if m.rcpt_tos == ["r@example.com"]]

    # Another approver is offered the actions and approves: the alert is sent.
    client.force_login(approver)
    page = client.get(edit_url(alert)).content.decode()
    assert APPROVE in page and REJECT in page and SELF_REASON not in page
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(approve_url(alert), {"comment": "OK"})
    assert response.status_code == 302
    alert.refresh_from_db()
    assert alert.status == "sent" and alert.live and alert.sent_by == approver
    assert [m.rcpt_tos for m in smtp.messages].count(["r@example.com"]) == 1


def test_the_task_refuses_the_submitter_server_side(officer_approver, approver, topics):
    alert = Alert.objects.create(title_fr="Collecte", body_fr="Demain.", severity="notice",
                                 channels=["email"], created_by=officer_approver)
    alert.topics.set([topics["deneigement"]])
    state = submit_for_approval(alert, officer_approver)
    task_state = state.current_task_state.specific
    task = task_state.task.specific
    assert task.get_actions(alert, officer_approver) == []
    assert [name for name, _label, _modal in task.get_actions(alert, approver)] == [
        "reject", "approve", "approve"]
    for action in ("approve", "reject"):
        with pytest.raises(PermissionDenied, match="quatre yeux"):
            task.on_action(task_state, officer_approver, action)
    task_state.refresh_from_db()
    assert task_state.status == TaskState.STATUS_IN_PROGRESS
    # "Awaiting your review" lists it for the other approver only.
    assert not task.get_task_states_user_can_moderate(officer_approver).exists()
    assert [s.pk for s in task.get_task_states_user_can_moderate(approver)] == [task_state.pk]
    # The submitter may still withdraw it.
    assert state.user_can_cancel(officer_approver)


def test_superusers_do_not_approve_their_own_submission(approver, topics):
    boss = make_user("dg@example.com", is_staff=True, is_superuser=True)
    alert = Alert.objects.create(title_fr="Collecte", body_fr="Demain.", severity="notice",
                                 channels=["email"], created_by=boss)
    alert.topics.set([topics["deneigement"]])
    state = submit_for_approval(alert, boss)
    task_state = state.current_task_state.specific
    task = task_state.task.specific
    assert task.get_actions(alert, boss) == []
    with pytest.raises(PermissionDenied):
        task.on_action(task_state, boss, "approve")
    task.on_action(task_state, approver, "approve")
    alert.refresh_from_db()
    assert alert.live


def test_who_resubmits_after_changes_does_not_approve_their_version(
        officer, officer_approver, approver, topics):
    """The submitter is not the only one refused: after "request changes", whoever
    writes and resubmits the version under review may not approve it either."""
    alert = Alert.objects.create(title_fr="Collecte", body_fr="Demain.", severity="notice",
                                 channels=["email"], created_by=officer)
    alert.topics.set([topics["deneigement"]])
    state = submit_for_approval(alert, officer)
    task_state = state.current_task_state.specific
    task_state.task.specific.on_action(task_state, approver, "reject", comment="Précisez")
    state.refresh_from_db()
    assert state.status == "needs_changes"
    # officer_approver rewrites it and resumes the workflow.
    alert.body_fr = "La collecte est reportée à demain matin."
    alert.save_revision(user=officer_approver)
    state.resume(user=officer_approver)
    state.refresh_from_db()
    task_state = state.current_task_state.specific
    task = task_state.task.specific
    assert task_state.revision.user == officer_approver
    assert task.get_actions(alert, officer_approver) == []
    with pytest.raises(PermissionDenied, match="Vous avez rédigé la version"):
        task.on_action(task_state, officer_approver, "approve")
    task.on_action(task_state, approver, "approve")
    alert.refresh_from_db()
    assert alert.live


def test_no_publish_of_a_draft_alert_from_the_editor(client, officer_approver, topics):
    """Approvers hold the publish permission (approving publishes), but publishing a draft
    would send it without a second person: it is neither offered nor done."""
    make_subscriber(email="r@example.com", topics=[topics["deneigement"]])
    assert officer_approver.has_perm("alertes.publish_alert")
    client.force_login(officer_approver)
    assert 'name="action-publish"' not in client.get(
        "/admin/snippets/alertes/alert/add/").content.decode()
    response = client.post("/admin/snippets/alertes/alert/add/", {
        **FORM, "topics": [topics["deneigement"].pk], "action-publish": "1"})
    assert response.status_code == 302
    alert = Alert.objects.get()
    alert.refresh_from_db()
    assert alert.status == "draft" and not alert.live
    assert not Delivery.objects.exists()
    assert 'name="action-publish"' not in client.get(edit_url(alert)).content.decode()


def test_another_approver_approves_from_the_editor(client, officer_approver, approver, topics,
                                                    smtp, django_capture_on_commit_callbacks):
    """The editor's own "Approve" (which saves the form, then acts) works for a second
    person: the version they save is not the one they are refused on."""
    make_subscriber(email="r@example.com", topics=[topics["deneigement"]])
    alert = submit_in_admin(client, officer_approver, topics)
    client.force_login(approver)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(edit_url(alert), {**FORM, "topics": [topics["deneigement"].pk],
                                                 "action-workflow-action": "1",
                                                 "workflow-action-name": "approve"})
    assert response.status_code == 302
    alert.refresh_from_db()
    assert alert.status == "sent" and alert.sent_by == approver
    assert [m.rcpt_tos for m in smtp.messages].count(["r@example.com"]) == 1
