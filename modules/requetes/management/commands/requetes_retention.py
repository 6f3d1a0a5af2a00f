"""``manage.py requetes_retention [--dry-run] [--batch-size N] [--max-batches N]``: apply
the retention schedule now (the scheduler runs it daily as ``requetes.retention``)."""

from django.core.management.base import BaseCommand

from modules.requetes.services import retention


class Command(BaseCommand):
    help = ("Anonymise closed service requests past their category's retention period "
            "(idempotent; resumes where a previous run stopped).")

    def add_arguments(self, parser):
        parser.add_argument("--dry-run", action="store_true",
                            help="Count the requests due, change nothing.")
        parser.add_argument("--batch-size", type=int, default=retention.BATCH_SIZE)
        parser.add_argument("--max-batches", type=int, default=None,
                            help="Stop after this many batches (the next run resumes).")

    def handle(self, *args, dry_run, batch_size, max_batches, **options):
        report = retention.anonymise_expired(dry_run=dry_run, batch_size=max(1, batch_size),
                                             max_batches=max_batches)
        verb = "due" if dry_run else "anonymised"
        for code, count in sorted(report.anonymised.items()):
            self.stdout.write(f"{code}: {count} {verb}")
        self.stdout.write(self.style.SUCCESS(
            f"{report.total} requests {verb}, {report.photos_deleted} photos deleted, "
            f"{report.comments_cleared} comments cleared."))
