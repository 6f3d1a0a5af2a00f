"""``manage.py alertes dispatch``: the every-minute sweep of the outbox (scheduled alerts,
lost tasks, retries due, rows stuck in ``sending`` flagged for review)."""

from django.core.management.base import BaseCommand


class Command(BaseCommand):
    help = "Alert delivery maintenance."

    def add_arguments(self, parser):
        parser.add_argument("action", choices=["dispatch"])

    def handle(self, *args, **options):
        from django.db import transaction

        from modules.alertes import services

        with transaction.atomic():
            result = services.dispatch_due()
        self.stdout.write(" ".join(f"{key}={value}" for key, value in result.items()))
