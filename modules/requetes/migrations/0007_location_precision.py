"""Each category says how precisely the public sees where its requests are
(``Category.location_precision``, applied by ``public.py`` on every public output).

Until now open data rounded every point and dropped every civic number while Open311,
the app's nearby list and the public map gave them exactly.  Categories of the demo and
seeded data that residents report at their home (garbage, recycling and compost
collection, water and sewers at home, the snowbank in a driveway) become "approximate";
every other category stays "exact" (problems in public space: potholes, lights…).
"""

from django.db import migrations, models

HOME_CATEGORIES = ("ordures", "recyclage", "compost", "aqueduc", "egouts", "deneigement")


def set_home_categories(apps, schema_editor):
    Category = apps.get_model("requetes", "Category")
    Category.objects.filter(service_code__in=HOME_CATEGORIES).update(
        location_precision="approximate")


class Migration(migrations.Migration):

    dependencies = [
        ("requetes", "0006_role_permissions"),
    ]

    operations = [
        migrations.AddField(
            model_name="category",
            name="location_precision",
            field=models.CharField(
                choices=[("exact", "Exact point and address (public space)"),
                         ("approximate", "About 100 m and the street only (at a home)")],
                default="exact",
                help_text="What the public map, Open311, the app and open data show of "
                          "where a request is. Choose “about 100 m” for problems reported "
                          "at a home (missed collection, water at home), so that no one "
                          "learns where the resident lives.",
                max_length=12, verbose_name="public location"),
        ),
        migrations.RunPython(set_home_categories, migrations.RunPython.noop),
    ]
