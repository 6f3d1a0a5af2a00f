"""The alert approval becomes a four-eyes task: nobody approves what they submitted;
topics get their CAP-CP event code.

The "Approbation d'une alerte" task of the "Approbation des alertes" workflow (migration
0004) was a plain ``GroupApprovalTask``; it becomes an ``alertes.FourEyesApprovalTask``
with the same id, name and groups, so approvals already in progress stay on it and follow
the new rule at once.  Only the task's subclass row changes (``wagtailcore_task`` keeps
its row, its task states and its place in the workflow).

``Topic.cap_event``: the topic's event code in the CAP feed (``cap_cp``); the demo's
topics, when present, get theirs (roadwork → roadClose, snow removal and parking bans →
roadUsage, water quality → drinkingWate…).  Reversible.
"""

import django.db.models.deletion
from django.db import migrations, models

import modules.alertes.cap_cp

TASK = "Approbation d'une alerte"
WORKFLOW = "Approbation des alertes"
APPROVERS = "Approbateurs des alertes"
ADMINISTRATORS = "Administrateurs"


def _swap(apps, schema_editor, source_label, target_label):
    """Turn the task named TASK from ``source`` into ``target`` (both subclasses of
    wagtailcore.Task with a ``groups`` field), keeping the parent Task row."""
    ContentType = apps.get_model("contenttypes", "ContentType")
    Task = apps.get_model("wagtailcore", "Task")
    source = apps.get_model(*source_label.split("."))
    target = apps.get_model(*target_label.split("."))
    target_type, _ = ContentType.objects.get_or_create(
        app_label=target._meta.app_label, model=target._meta.model_name)
    connection = schema_editor.connection
    quote = connection.ops.quote_name
    for old in source.objects.filter(name=TASK):
        group_ids = list(old.groups.values_list("pk", flat=True))
        task_id = old.pk
        source.groups.through.objects.filter(
            **{source.groups.field.m2m_field_name(): task_id}).delete()
        with connection.cursor() as cursor:
            # The child row only: deleting through the ORM would cascade to the Task row,
            # its task states and its place in the workflow.
            cursor.execute(f"DELETE FROM {quote(source._meta.db_table)} "
                           f"WHERE {quote('task_ptr_id')} = %s", [task_id])  # noqa: S608
        new = target(task_ptr_id=task_id, name=old.name, active=old.active,
                      content_type_id=target_type.pk)
        new.save_base(raw=True, force_insert=True)  # the child row; the Task row is already there
        Task.objects.filter(pk=task_id).update(content_type=target_type)
        new.groups.set(group_ids)


def to_four_eyes(apps, schema_editor):
    _swap(apps, schema_editor, "wagtailcore.GroupApprovalTask", "alertes.FourEyesApprovalTask")
    FourEyes = apps.get_model("alertes", "FourEyesApprovalTask")
    if FourEyes.objects.filter(name=TASK).exists():
        return
    # No task from 0004 (deleted by hand): create it and put it in the workflow.
    ContentType = apps.get_model("contenttypes", "ContentType")
    Group = apps.get_model("auth", "Group")
    Workflow = apps.get_model("wagtailcore", "Workflow")
    WorkflowTask = apps.get_model("wagtailcore", "WorkflowTask")
    task_type, _ = ContentType.objects.get_or_create(app_label="alertes",
                                                     model="foureyesapprovaltask")
    task = FourEyes.objects.create(name=TASK, active=True, content_type=task_type)
    task.groups.set(Group.objects.filter(name__in=[APPROVERS, ADMINISTRATORS]))
    workflow = Workflow.objects.filter(name=WORKFLOW).first()
    if workflow is not None:
        WorkflowTask.objects.filter(workflow=workflow).delete()
        WorkflowTask.objects.create(workflow=workflow, task=task, sort_order=0)


# The demo's topics (modules/alertes/demo.py keeps the same codes for new databases).
TOPIC_EVENTS = {
    "urgences": "civilEmerg",
    "deneigement": "roadUsage",
    "collectes": "waste",
    "travaux": "roadClose",
    "qualite-eau": "drinkingWate",
    "loisirs": "civilEvent",
    "nouvelles": "other",
}


def topic_events(apps, schema_editor):
    Topic = apps.get_model("alertes", "Topic")
    for slug, code in TOPIC_EVENTS.items():
        Topic.objects.filter(slug=slug, cap_event="").update(cap_event=code)


def to_group_approval(apps, schema_editor):
    _swap(apps, schema_editor, "alertes.FourEyesApprovalTask", "wagtailcore.GroupApprovalTask")


class Migration(migrations.Migration):

    dependencies = [
        ('alertes', '0004_workflow'),
        ('auth', '0012_alter_user_first_name_max_length'),
        ('contenttypes', '0002_remove_content_type_name'),
        ('wagtailcore', '0098_apitoken'),
    ]

    operations = [
        migrations.CreateModel(
            name='FourEyesApprovalTask',
            fields=[
                ('task_ptr', models.OneToOneField(auto_created=True, on_delete=django.db.models.deletion.CASCADE, parent_link=True, primary_key=True, serialize=False, to='wagtailcore.task')),
                ('groups', models.ManyToManyField(help_text='Pages/snippets at this step in a workflow will be moderated or approved by these groups of users', to='auth.group', verbose_name='groups')),
            ],
            options={
                'verbose_name': 'Four-eyes group approval task',
                'verbose_name_plural': 'Four-eyes group approval tasks',
            },
            bases=('wagtailcore.task',),
        ),
        migrations.RunPython(to_four_eyes, to_group_approval),
        migrations.AddField(
            model_name='topic',
            name='cap_event',
            field=models.CharField(blank=True, choices=modules.alertes.cap_cp.event_choices, help_text="The event code of this topic's alerts in the CAP feed (Canadian profile). Empty: “civil emergency” for emergencies, “special message” otherwise.", max_length=12, verbose_name='CAP-CP event'),
        ),
        migrations.RunPython(topic_events, migrations.RunPython.noop),
    ]
