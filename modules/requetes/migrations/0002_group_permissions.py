"""Give the staff groups the permissions their role needs on service requests.

Intake agents create and read requests; department agents read and change them (which
requests exactly is decided by ``services``: their departments' only); administrators
manage everything, categories included.
"""

from django.db import migrations

MODELS = ["category", "question", "servicerequest", "requestevent", "requestphoto"]
GRANTS = {
    "Agents de saisie": ["view_category", "add_servicerequest", "view_servicerequest",
                         "view_requestevent", "view_requestphoto"],
    "Agents de service": ["view_category", "view_servicerequest", "change_servicerequest",
                          "view_requestevent", "add_requestevent", "view_requestphoto"],
    "Administrateurs": [f"{action}_{model}" for model in MODELS
                        for action in ("add", "change", "delete", "view")],
}


def grant(apps, schema_editor):
    ContentType = apps.get_model("contenttypes", "ContentType")
    Permission = apps.get_model("auth", "Permission")
    Group = apps.get_model("auth", "Group")
    for name, codenames in GRANTS.items():
        group, _ = Group.objects.get_or_create(name=name)
        for codename in codenames:
            model = codename.split("_", 1)[1]
            content_type, _ = ContentType.objects.get_or_create(app_label="requetes",
                                                                model=model)
            permission, _ = Permission.objects.get_or_create(
                content_type=content_type, codename=codename,
                defaults={"name": codename.replace("_", " ").capitalize()})
            group.permissions.add(permission)


def revoke(apps, schema_editor):
    Permission = apps.get_model("auth", "Permission")
    Group = apps.get_model("auth", "Group")
    for name, codenames in GRANTS.items():
        group = Group.objects.filter(name=name).first()
        if group is not None:
            group.permissions.remove(*Permission.objects.filter(
                content_type__app_label="requetes", codename__in=codenames))


class Migration(migrations.Migration):
    dependencies = [
        ("requetes", "0001_initial"),
        ("hub", "0004_staff_group_permissions"),
        ("contenttypes", "0002_remove_content_type_name"),
        ("auth", "0012_alter_user_first_name_max_length"),
    ]

    operations = [migrations.RunPython(grant, revoke)]
