"""The staff who write pages may also translate them.

wagtail-localize creates its "submit translation" permission for Wagtail's default groups
("Editors", "Moderators"), which the hub renames or does not use; without it the French
editors, the communications officers and the administrators never see "Traduire cette
page" and cannot open the translation editor.
"""

from django.db import migrations

GROUPS = ["Rédacteurs", "Agents de communication", "Administrateurs"]


def _permission(apps):
    ContentType = apps.get_model("contenttypes", "ContentType")
    Permission = apps.get_model("auth", "Permission")
    content_type, _ = ContentType.objects.get_or_create(
        app_label="wagtail_localize", model="translation")
    permission, _ = Permission.objects.get_or_create(
        content_type=content_type, codename="submit_translation",
        defaults={"name": "Can submit translations"})
    return permission


def grant(apps, schema_editor):
    permission = _permission(apps)
    for group in apps.get_model("auth", "Group").objects.filter(name__in=GROUPS):
        group.permissions.add(permission)


def revoke(apps, schema_editor):
    permission = _permission(apps)
    for group in apps.get_model("auth", "Group").objects.filter(name__in=GROUPS):
        group.permissions.remove(permission)


class Migration(migrations.Migration):
    dependencies = [
        ("hub", "0011_redeemed_authorization_codes"),
        ("wagtail_localize", "0006_create_submit_translation_permission"),
    ]

    operations = [migrations.RunPython(grant, revoke)]
