"""``manage.py pi_inventory [--output FILE] [--language fr|en]``: the personal-information
file inventory (Law 25), written as CSV from the models' ``personal_data`` declarations
(``hub/personal_data.py``)."""

import sys

from django.core.management.base import BaseCommand, CommandError
from django.utils import translation

from hub.personal_data import undeclared_fields, write_inventory


class Command(BaseCommand):
    help = ("Write the personal-information file inventory (model, field, verbose name, "
            "category, purpose, retention, access) as CSV, from the models' declarations.")

    def add_arguments(self, parser):
        parser.add_argument("--output", "-o", default="-", help="CSV file ('-': stdout).")
        parser.add_argument("--language", default="fr", choices=["fr", "en"])

    def handle(self, *args, output, language, **options):
        missing = undeclared_fields()
        if missing:
            raise CommandError("Personal fields without a declaration: " + ", ".join(missing))
        with translation.override(language):
            if output == "-":
                count = write_inventory(self.stdout if self.stdout else sys.stdout)
            else:
                with open(output, "w", newline="", encoding="utf-8") as out:
                    count = write_inventory(out)
                self.stderr.write(f"{count} personal fields written to {output}")
