"""The three permissions `requetes` checks with ``user.has_perm`` instead of group names
(take phone requests, handle department requests, administer requests), granted to the
groups that held those roles by name until now, so that an existing database keeps its
staff's access.

Only groups that exist are granted (a renamed group had no access under the name check
either); new databases get the groups and their permissions from the hub's role sync
(``hub_staff_roles``) after ``migrate``.
"""

from django.db import migrations

PERMISSIONS = {
    "take_phone_requests":
        "Can record requests for callers (phone, counter, email) and see every request",
    "handle_department_requests": "Can handle the requests of their own departments",
    "administer_requests":
        "Can administer every service request, the categories and the Open311 keys",
}
GRANTS = {
    "Agents de saisie": "take_phone_requests",
    "Agents de service": "handle_department_requests",
    "Administrateurs": "administer_requests",
}


def grant(apps, schema_editor):
    ContentType = apps.get_model("contenttypes", "ContentType")
    Permission = apps.get_model("auth", "Permission")
    Group = apps.get_model("auth", "Group")
    content_type, _ = ContentType.objects.get_or_create(app_label="requetes",
                                                        model="servicerequest")
    permissions = {}
    for codename, name in PERMISSIONS.items():
        permissions[codename], _ = Permission.objects.get_or_create(
            content_type=content_type, codename=codename, defaults={"name": name})
    for group in Group.objects.filter(name__in=list(GRANTS)):
        group.permissions.add(permissions[GRANTS[group.name]])


def revoke(apps, schema_editor):
    apps.get_model("auth", "Permission").objects.filter(
        content_type__app_label="requetes", codename__in=list(PERMISSIONS)).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("requetes", "0005_dashboard_covering_indexes"),
        ("contenttypes", "0002_remove_content_type_name"),
        ("auth", "0012_alter_user_first_name_max_length"),
    ]

    operations = [
        migrations.AlterModelOptions(
            name="servicerequest",
            options={
                "ordering": ["-created_at"],
                "permissions": [(codename, name) for codename, name in PERMISSIONS.items()],
                "verbose_name": "service request",
                "verbose_name_plural": "service requests",
            },
        ),
        migrations.RunPython(grant, revoke),
    ]
