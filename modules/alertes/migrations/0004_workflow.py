"""Alerts become Wagtail snippets with drafts, revisions, locking and a workflow.

The approval that was a pair of fields (``approved_by``/``approved_at``) becomes the
"Approbation des alertes" workflow: one group approval task for the alert approvers
(a new "Approbateurs des alertes" group, and the administrators), assigned to the Alert
snippet model.  Approvers get the publish permission, since approving publishes the alert
and publishing sends it; communications officers write, submit, lock and send
emergencies, but cannot publish, so a non-emergency alert never skips the approval.
Alerts not yet sent are drafts (not live); sent ones are live.
"""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


WORKFLOW = "Approbation des alertes"
TASK = "Approbation d'une alerte"
APPROVERS = "Approbateurs des alertes"
OFFICERS = "Agents de communication"
ADMINISTRATORS = "Administrateurs"
GRANTS = {
    APPROVERS: ["view_alert", "change_alert", "publish_alert", "lock_alert", "unlock_alert",
                "view_topic", "view_subscriber"],
    ADMINISTRATORS: ["publish_alert", "lock_alert", "unlock_alert"],
    OFFICERS: ["lock_alert"],
}


def create_workflow(apps, schema_editor):
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    ContentType = apps.get_model("contenttypes", "ContentType")
    Workflow = apps.get_model("wagtailcore", "Workflow")
    WorkflowTask = apps.get_model("wagtailcore", "WorkflowTask")
    WorkflowContentType = apps.get_model("wagtailcore", "WorkflowContentType")
    GroupApprovalTask = apps.get_model("wagtailcore", "GroupApprovalTask")
    Alert = apps.get_model("alertes", "Alert")

    Alert.objects.filter(status__in=["draft", "scheduled"]).update(
        live=False, has_unpublished_changes=True)
    Alert.objects.exclude(status__in=["draft", "scheduled"]).update(
        live=True, first_published_at=models.F("sent_at"), last_published_at=models.F("sent_at"))

    approvers, _ = Group.objects.get_or_create(name=APPROVERS)
    admin_access = Permission.objects.filter(content_type__app_label="wagtailadmin",
                                             codename="access_admin").first()
    if admin_access is not None:
        approvers.permissions.add(admin_access)
    alert_type, _ = ContentType.objects.get_or_create(app_label="alertes", model="alert")
    for name, codenames in GRANTS.items():
        group = Group.objects.filter(name=name).first()
        if group is None:
            continue
        for codename in codenames:
            model = codename.split("_", 1)[1]
            content_type, _ = ContentType.objects.get_or_create(app_label="alertes",
                                                                model=model)
            permission, _ = Permission.objects.get_or_create(
                content_type=content_type, codename=codename,
                defaults={"name": f"Can {codename.replace('_', ' ')}"})
            group.permissions.add(permission)
    # The old second-officer approval permission has no use any more.
    Permission.objects.filter(content_type=alert_type, codename="approve_alert").delete()

    task_type, _ = ContentType.objects.get_or_create(app_label="wagtailcore",
                                                     model="groupapprovaltask")
    task = GroupApprovalTask.objects.filter(name=TASK).first()
    if task is None:
        task = GroupApprovalTask.objects.create(name=TASK, active=True,
                                                content_type=task_type)
    task.groups.set(Group.objects.filter(name__in=[APPROVERS, ADMINISTRATORS]))
    workflow, _ = Workflow.objects.get_or_create(name=WORKFLOW, defaults={"active": True})
    WorkflowTask.objects.get_or_create(workflow=workflow, task=task,
                                       defaults={"sort_order": 0})
    WorkflowContentType.objects.update_or_create(content_type=alert_type,
                                                 defaults={"workflow": workflow})


def remove_workflow(apps, schema_editor):
    Workflow = apps.get_model("wagtailcore", "Workflow")
    Task = apps.get_model("wagtailcore", "Task")
    Group = apps.get_model("auth", "Group")
    Workflow.objects.filter(name=WORKFLOW).delete()
    Task.objects.filter(name=TASK).delete()
    Group.objects.filter(name=APPROVERS).delete()


class Migration(migrations.Migration):

    dependencies = [
        ('alertes', '0003_voice_confirmation'),
        ('wagtailcore', '0098_apitoken'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
        ('auth', '0012_alter_user_first_name_max_length'),
        ('contenttypes', '0002_remove_content_type_name'),
        ('wagtailadmin', '0001_create_admin_access_permissions'),
    ]

    operations = [
        migrations.AlterModelOptions(
            name='alert',
            options={'ordering': ['-sent_at', '-created_at'], 'permissions': [('send_alert', 'Can send an alert')], 'verbose_name': 'alert', 'verbose_name_plural': 'alerts'},
        ),
        migrations.RemoveField(
            model_name='alert',
            name='approved_at',
        ),
        migrations.RemoveField(
            model_name='alert',
            name='approved_by',
        ),
        migrations.AddField(
            model_name='alert',
            name='expire_at',
            field=models.DateTimeField(blank=True, null=True, verbose_name='expiry date/time'),
        ),
        migrations.AddField(
            model_name='alert',
            name='expired',
            field=models.BooleanField(default=False, editable=False, verbose_name='expired'),
        ),
        migrations.AddField(
            model_name='alert',
            name='first_published_at',
            field=models.DateTimeField(blank=True, db_index=True, null=True, verbose_name='first published at'),
        ),
        migrations.AddField(
            model_name='alert',
            name='go_live_at',
            field=models.DateTimeField(blank=True, null=True, verbose_name='go live date/time'),
        ),
        migrations.AddField(
            model_name='alert',
            name='has_unpublished_changes',
            field=models.BooleanField(default=False, editable=False, verbose_name='has unpublished changes'),
        ),
        migrations.AddField(
            model_name='alert',
            name='last_published_at',
            field=models.DateTimeField(editable=False, null=True, verbose_name='last published at'),
        ),
        migrations.AddField(
            model_name='alert',
            name='latest_revision',
            field=models.ForeignKey(blank=True, editable=False, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to='wagtailcore.revision', verbose_name='latest revision'),
        ),
        migrations.AddField(
            model_name='alert',
            name='live',
            field=models.BooleanField(default=False, editable=False, verbose_name='live'),
        ),
        migrations.AddField(
            model_name='alert',
            name='live_revision',
            field=models.ForeignKey(blank=True, editable=False, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to='wagtailcore.revision', verbose_name='live revision'),
        ),
        migrations.AddField(
            model_name='alert',
            name='locked',
            field=models.BooleanField(default=False, editable=False, verbose_name='locked'),
        ),
        migrations.AddField(
            model_name='alert',
            name='locked_at',
            field=models.DateTimeField(editable=False, null=True, verbose_name='locked at'),
        ),
        migrations.AddField(
            model_name='alert',
            name='locked_by',
            field=models.ForeignKey(blank=True, editable=False, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='locked_%(class)ss', to=settings.AUTH_USER_MODEL, verbose_name='locked by'),
        ),
        migrations.RunPython(create_workflow, remove_workflow),
    ]
