"""``manage.py alertes dispatch``: the every-minute sweep of the outbox (scheduled alerts,
lost tasks, retries due, rows stuck in ``sending`` flagged for review).

``manage.py alertes import FILE.csv --by officer@ville --apply``: register residents
without an account from a CSV file (a dry run with a per-line report unless ``--apply``).
"""

from django.core.management.base import BaseCommand


class Command(BaseCommand):
    help = "Alert delivery maintenance."

    def add_arguments(self, parser):
        parser.add_argument("action", choices=["dispatch", "import"])
        parser.add_argument("file", nargs="?", help="CSV file (import)")
        parser.add_argument("--by", help="email of the officer registering (import)")
        parser.add_argument("--apply", action="store_true", help="write (import)")
        parser.add_argument("--consent", default="", help="how consent was given (import)")

    def handle(self, *args, **options):
        import csv

        from django.contrib.auth import get_user_model
        from django.core.management.base import CommandError
        from django.db import transaction

        from modules.alertes import services

        if options["action"] == "dispatch":
            with transaction.atomic():
                result = services.dispatch_due()
            self.stdout.write(" ".join(f"{key}={value}" for key, value in result.items()))
            return
        if not options["file"] or not options["by"]:
            raise CommandError("import needs a CSV file and --by")
        actor = get_user_model().objects.filter(email=options["by"].lower()).first()
        if actor is None:
            raise CommandError(f"no user {options['by']}")
        with open(options["file"], newline="", encoding="utf-8-sig") as handle:
            result = services.import_residents(csv.DictReader(handle), actor,
                                               dry_run=not options["apply"],
                                               consent_note=options["consent"])
        for line, message in result["errors"]:
            self.stdout.write(f"line {line}: {message}")
        verb = "would create" if result["dry_run"] else "created"
        self.stdout.write(f"{verb} {result['created']} residents, "
                          f"{len(result['errors'])} errors")
