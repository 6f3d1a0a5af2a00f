"""``manage.py alertes dispatch``: the every-minute sweep of the outbox (scheduled alerts,
lost tasks, retries due, rows stuck in ``sending`` flagged for review).

``manage.py alertes import FILE.csv --by officer@ville --apply``: register residents
without an account from a CSV file (a dry run with a per-line report unless ``--apply``).

``manage.py alertes vapid [--subject mailto:…]``: a new VAPID key pair for Web Push,
printed as the settings to add.  Changing the keys orphans every browser subscription
(push services refuse a key they were not subscribed with), so generate them once.
"""

from django.core.management.base import BaseCommand


class Command(BaseCommand):
    help = "Alert delivery maintenance."

    def add_arguments(self, parser):
        parser.add_argument("action", choices=["dispatch", "import", "vapid"])
        parser.add_argument("file", nargs="?", help="CSV file (import)")
        parser.add_argument("--by", help="email of the officer registering (import)")
        parser.add_argument("--apply", action="store_true", help="write (import)")
        parser.add_argument("--consent", default="", help="how consent was given (import)")
        parser.add_argument("--subject", default="",
                            help="VAPID contact, mailto: or https: (vapid)")

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
        if options["action"] == "vapid":
            from django.conf import settings

            from modules.alertes.channels import webpush as push

            subject = options["subject"] or f"mailto:{settings.DEFAULT_FROM_EMAIL}"
            if not subject.startswith(("mailto:", "https://")):
                raise CommandError("--subject must start with mailto: or https://")
            private, public = push.generate_vapid_keys()
            self.stdout.write("# Web Push (VAPID) keys: keep the private key secret.\n"
                              f'ALERTES_VAPID_PRIVATE_KEY = "{private}"\n'
                              f'ALERTES_VAPID_PUBLIC_KEY = "{public}"\n'
                              f'ALERTES_VAPID_SUBJECT = "{subject}"')
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
