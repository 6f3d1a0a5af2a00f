"""Editors, communications officers and administrators manage the module's snippets
(`servicelink`) in the admin."""

from django.db import migrations

GROUPS = ["Rédacteurs", "Agents de communication", "Administrateurs"]
MODEL = "servicelink"


def _permission(apps, codename):
    ContentType = apps.get_model("contenttypes", "ContentType")
    Permission = apps.get_model("auth", "Permission")
    content_type, _ = ContentType.objects.get_or_create(app_label="liens_services", model=MODEL)
    permission, _ = Permission.objects.get_or_create(
        content_type=content_type, codename=codename,
        defaults={"name": codename.replace("_", " ").capitalize()},
    )
    return permission


def grant(apps, schema_editor):
    Group = apps.get_model("auth", "Group")
    permissions = [_permission(apps, f"{action}_{MODEL}")
                   for action in ("add", "change", "delete", "view")]
    for group in Group.objects.filter(name__in=GROUPS):
        group.permissions.add(*permissions)


def revoke(apps, schema_editor):
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    permissions = Permission.objects.filter(content_type__app_label="liens_services",
                                            content_type__model=MODEL)
    for group in Group.objects.filter(name__in=GROUPS):
        group.permissions.remove(*permissions)


class Migration(migrations.Migration):
    dependencies = [
        ("liens_services", "0001_initial"),
        ("hub", "0004_staff_group_permissions"),
    ]

    operations = [migrations.RunPython(grant, revoke)]
