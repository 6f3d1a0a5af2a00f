"""Give each staff group what its role needs in the admin.

Editors and communications officers write and publish pages and upload images and
documents; administrators also manage users, groups, departments, districts and city
settings. Modules grant their own permissions (requests, alerts) in their migrations.
"""

from django.db import migrations

PAGE_EDITING = ["add_page", "change_page", "publish_page", "lock_page", "unlock_page"]
MEDIA = [("wagtailimages", "image", ["add_image", "change_image", "choose_image"]),
         ("wagtaildocs", "document", ["add_document", "change_document", "choose_document"])]
ADMIN_MODELS = [("hub", "user"), ("auth", "group"), ("hub", "department"),
                ("hub", "district"), ("hub", "sitesettings")]

EDITORS = "Rédacteurs"
COMMUNICATIONS = "Agents de communication"
ADMINISTRATORS = "Administrateurs"
AGENTS = ["Agents de saisie", "Agents de service"]


def _permission(apps, app_label, model, codename):
    ContentType = apps.get_model("contenttypes", "ContentType")
    Permission = apps.get_model("auth", "Permission")
    content_type, _ = ContentType.objects.get_or_create(app_label=app_label, model=model)
    permission, _ = Permission.objects.get_or_create(
        content_type=content_type, codename=codename,
        defaults={"name": codename.replace("_", " ").capitalize()},
    )
    return permission


def grant(apps, schema_editor):
    Group = apps.get_model("auth", "Group")
    Page = apps.get_model("wagtailcore", "Page")
    Collection = apps.get_model("wagtailcore", "Collection")
    GroupPagePermission = apps.get_model("wagtailcore", "GroupPagePermission")
    GroupCollectionPermission = apps.get_model("wagtailcore", "GroupCollectionPermission")
    root_page = Page.objects.filter(depth=1).first()
    root_collection = Collection.objects.filter(depth=1).first()

    def pages(group, codenames):
        for codename in codenames:
            GroupPagePermission.objects.get_or_create(
                group=group, page=root_page,
                permission=_permission(apps, "wagtailcore", "page", codename))

    def media(group, only=None):
        for app_label, model, codenames in MEDIA:
            for codename in codenames:
                if only and codename not in only:
                    continue
                GroupCollectionPermission.objects.get_or_create(
                    group=group, collection=root_collection,
                    permission=_permission(apps, app_label, model, codename))

    for name in (EDITORS, COMMUNICATIONS, ADMINISTRATORS):
        group = Group.objects.get(name=name)
        pages(group, PAGE_EDITING + (["bulk_delete_page"] if name == ADMINISTRATORS else []))
        media(group)
    administrators = Group.objects.get(name=ADMINISTRATORS)
    for app_label, model in ADMIN_MODELS:
        actions = ["change"] if model == "sitesettings" else ["add", "change", "delete"]
        for action in actions:
            administrators.permissions.add(
                _permission(apps, app_label, model, f"{action}_{model}"))
    for name in AGENTS:
        media(Group.objects.get(name=name), only=["choose_image", "choose_document"])


def revoke(apps, schema_editor):
    Group = apps.get_model("auth", "Group")
    groups = Group.objects.filter(name__in=[EDITORS, COMMUNICATIONS, ADMINISTRATORS, *AGENTS])
    apps.get_model("wagtailcore", "GroupPagePermission").objects.filter(group__in=groups).delete()
    apps.get_model("wagtailcore", "GroupCollectionPermission").objects.filter(
        group__in=groups).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("hub", "0003_staff_groups"),
        ("wagtailcore", "0098_apitoken"),
        ("wagtailimages", "0027_image_description"),
        ("wagtaildocs", "0014_alter_document_file_size"),
    ]

    operations = [migrations.RunPython(grant, revoke)]
