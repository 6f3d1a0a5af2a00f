"""Communications officers write, approve and send alerts and edit topics; they see
subscribers in the reports.  Administrators get the same."""

from django.db import migrations

GROUPS = ["Agents de communication", "Administrateurs"]
PERMISSIONS = [
    ("alert", ["add_alert", "change_alert", "view_alert", "send_alert", "approve_alert"]),
    ("topic", ["add_topic", "change_topic", "view_topic"]),
    ("subscriber", ["view_subscriber"]),
]


def grant(apps, schema_editor):
    Group = apps.get_model("auth", "Group")
    ContentType = apps.get_model("contenttypes", "ContentType")
    Permission = apps.get_model("auth", "Permission")
    for name in GROUPS:
        group = Group.objects.filter(name=name).first()
        if group is None:
            continue
        for model, codenames in PERMISSIONS:
            content_type, _ = ContentType.objects.get_or_create(app_label="alertes", model=model)
            for codename in codenames:
                permission, _ = Permission.objects.get_or_create(
                    content_type=content_type, codename=codename,
                    defaults={"name": codename.replace("_", " ").capitalize()})
                group.permissions.add(permission)


def revoke(apps, schema_editor):
    Permission = apps.get_model("auth", "Permission")
    Group = apps.get_model("auth", "Group")
    for group in Group.objects.filter(name__in=GROUPS):
        group.permissions.remove(*Permission.objects.filter(content_type__app_label="alertes"))


class Migration(migrations.Migration):
    dependencies = [
        ("alertes", "0001_initial"),
        ("hub", "0004_staff_group_permissions"),
        ("contenttypes", "0002_remove_content_type_name"),
        ("auth", "0012_alter_user_first_name_max_length"),
    ]

    operations = [migrations.RunPython(grant, revoke)]
