"""Alerts go through Wagtail's workflow: an officer writes and submits, an approver
approves, which publishes and sends; an emergency is sent at once and logged."""

import pytest
from wagtail.models import ModelLogEntry, WorkflowContentType, WorkflowState

from modules.alertes import services
from modules.alertes.models import Alert, Delivery

from .conftest import approve_through_workflow, make_subscriber, submit_for_approval

FORM = {"title_en": "", "body_en": "", "sms_en": "", "push_fr": "", "push_en": "",
        "voice_fr": "", "voice_en": "", "channels": ["email"]}


def new_alert(officer, topics, severity="notice", **extra):
    alert = Alert.objects.create(title_fr="Collecte reportée", body_fr="La collecte est demain.",
                                 sms_fr="Collecte demain", severity=severity,
                                 channels=["email"], created_by=officer, **extra)
    alert.topics.set([topics["deneigement"]])
    return alert


def test_the_workflow_is_assigned_to_alerts(db):
    link = WorkflowContentType.objects.get(content_type__app_label="alertes",
                                           content_type__model="alert")
    assert link.workflow.name == "Approbation des alertes" and link.workflow.active
    [task] = [t.specific for t in link.workflow.tasks]
    assert type(task).__name__ == "FourEyesApprovalTask"  # migration 0005
    assert set(task.groups.values_list("name", flat=True)) == {
        "Approbateurs des alertes", "Administrateurs"}


def test_officers_cannot_publish_approvers_can(officer, approver, administrator):
    assert not officer.has_perm("alertes.publish_alert")
    assert officer.has_perm("alertes.send_alert")
    assert approver.has_perm("alertes.publish_alert")
    assert not approver.has_perm("alertes.send_alert")  # no emergency "send now"
    assert administrator.has_perm("alertes.publish_alert")


def test_submitted_alert_is_not_sent_until_approved(officer, approver, topics, smtp,
                                                    django_capture_on_commit_callbacks):
    make_subscriber(email="r@example.com", topics=[topics["deneigement"]])
    alert = new_alert(officer, topics)
    with django_capture_on_commit_callbacks(execute=True):
        state = submit_for_approval(alert, officer)
    alert.refresh_from_db()
    assert state.status == WorkflowState.STATUS_IN_PROGRESS
    assert alert.status == "draft" and not alert.live and not Delivery.objects.exists()
    task_state = state.current_task_state.specific
    with django_capture_on_commit_callbacks(execute=True):
        task_state.task.specific.on_action(task_state, approver, "approve")
    alert.refresh_from_db()
    assert alert.live and alert.status == "sent" and alert.sent_by == approver
    # (Wagtail also emails the approvers and the submitter about the workflow.)
    assert [m.rcpt_tos for m in smtp.messages].count(["r@example.com"]) == 1
    entry = ModelLogEntry.objects.for_instance(alert).get(action="alertes.approved_send")
    assert entry.user == approver and entry.data["deliveries"] == 1


def test_rejected_alert_is_not_sent(officer, approver, topics):
    make_subscriber(email="r@example.com", topics=[topics["deneigement"]])
    alert = new_alert(officer, topics)
    state = submit_for_approval(alert, officer)
    task_state = state.current_task_state.specific
    task_state.task.specific.on_action(task_state, approver, "reject")
    alert.refresh_from_db()
    assert alert.status == "draft" and not alert.live and not Delivery.objects.exists()


def test_approval_with_an_empty_audience_sends_nothing_and_says_why(officer, approver,
                                                                      topics):
    alert = new_alert(officer, topics)
    approve_through_workflow(alert, officer, approver)
    assert alert.status == "draft" and not Delivery.objects.exists()
    entry = ModelLogEntry.objects.for_instance(alert).get(action="alertes.not_sent")
    assert "Nobody would receive" in entry.data["reason"] or "Personne" in entry.data["reason"]


def test_emergency_send_now_bypasses_the_workflow_and_is_logged(
        officer, topics, smtp, django_capture_on_commit_callbacks):
    make_subscriber(email="r@example.com", topics=[topics["loisirs"]])
    alert = new_alert(officer, topics, severity="emergency")
    with django_capture_on_commit_callbacks(execute=True):
        assert services.send(alert, officer) == 1
    alert.refresh_from_db()
    assert alert.status == "sent" and alert.live and alert.sent_by == officer
    entry = ModelLogEntry.objects.for_instance(alert).get(action="alertes.emergency_send")
    assert entry.user == officer and entry.data == {"deliveries": 1, "scheduled": False}
    assert entry.timestamp is not None


def test_publishing_a_sent_alert_again_does_not_resend(
        officer, approver, topics, smtp, django_capture_on_commit_callbacks):
    make_subscriber(email="r@example.com", topics=[topics["deneigement"]])
    alert = new_alert(officer, topics)
    with django_capture_on_commit_callbacks(execute=True):
        approve_through_workflow(alert, officer, approver)
    revision = alert.save_revision(user=approver)
    with django_capture_on_commit_callbacks(execute=True):
        revision.publish(user=approver)
    assert Delivery.objects.count() == 1
    assert [m.rcpt_tos for m in smtp.messages].count(["r@example.com"]) == 1


# --- through the admin, as people use it -----------------------------------------------

def test_submit_and_approve_in_the_admin(client, officer, approver, topics, smtp,
                                         django_capture_on_commit_callbacks):
    make_subscriber(email="r@example.com", topics=[topics["deneigement"]])
    client.force_login(officer)
    response = client.post("/admin/snippets/alertes/alert/add/", {
        **FORM, "severity": "notice", "title_fr": "Collecte reportée", "body_fr": "Demain.",
        "sms_fr": "Collecte demain", "topics": [topics["deneigement"].pk],
        "action-submit": "1"})
    assert response.status_code == 302, response.content[:2000]
    alert = Alert.objects.get()
    assert alert.workflow_in_progress and alert.status == "draft" and not alert.live
    # The officer has no "Publish" and cannot approve the task.
    edit = client.get(f"/admin/snippets/alertes/alert/edit/{alert.pk}/").content.decode()
    assert 'name="action-publish"' not in edit
    task_state = alert.current_workflow_state.current_task_state
    approve_url = (f"/admin/snippets/alertes/alert/workflow/action/{alert.pk}/approve/"
                   f"{task_state.pk}/")
    client.post(approve_url, {"comment": ""})
    alert.refresh_from_db()
    assert alert.status == "draft" and not Delivery.objects.exists()
    # "Send" from the report refuses a non-emergency alert.
    client.post(f"/admin/alertes/{alert.pk}/action/", {"action": "send"})
    alert.refresh_from_db()
    assert alert.status == "draft" and not Delivery.objects.exists()

    client.force_login(approver)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(approve_url, {"comment": "OK"})
    assert response.status_code == 302
    alert.refresh_from_db()
    assert alert.status == "sent" and alert.live and alert.sent_by == approver
    assert Delivery.objects.get().status == "sent"
    history = client.get(f"/admin/snippets/alertes/alert/history/{alert.pk}/")
    assert history.status_code == 200


@pytest.mark.parametrize("who", ["agent_a", "editor", "approver"])
def test_who_is_not_an_officer_cannot_send_an_emergency(client, who, request, officer,
                                                         topics):
    make_subscriber(email="r@example.com", topics=[topics["deneigement"]])
    alert = new_alert(officer, topics, severity="emergency")
    client.force_login(request.getfixturevalue(who))
    client.post(f"/admin/alertes/{alert.pk}/action/", {"action": "send"})
    alert.refresh_from_db()
    assert alert.status == "draft" and not Delivery.objects.exists()
    assert not ModelLogEntry.objects.filter(action="alertes.emergency_send").exists()


def test_emergency_sent_while_pending_approval_cancels_it_and_is_not_resent(
        officer, approver, topics, smtp, django_capture_on_commit_callbacks):
    make_subscriber(email="r@example.com", topics=[topics["deneigement"]])
    alert = new_alert(officer, topics, severity="emergency")
    state = submit_for_approval(alert, officer)
    with django_capture_on_commit_callbacks(execute=True):
        services.send(alert, officer)
    state.refresh_from_db()
    assert state.status == WorkflowState.STATUS_CANCELLED
    # An old revision published later does not rewind the alert to a draft nor resend it.
    with django_capture_on_commit_callbacks(execute=True):
        state.current_task_state.revision.publish(user=approver)
    alert.refresh_from_db()
    assert alert.status == "sent" and alert.sent_by == officer
    assert Delivery.objects.count() == 1
