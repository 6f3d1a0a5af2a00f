"""``manage.py hub modules`` lists the modules; ``manage.py hub demo`` loads demo data;
``manage.py hub addresses import <csv>`` loads the civic address register (docs/addresses.md);
``manage.py hub addresses relocate`` recomputes addresses' districts;
``manage.py hub scheduler [--once]`` enqueues the periodic jobs on time (hub/scheduler.py);
``manage.py hub backup|restore <dir>`` backs up and restores the database and media
(hub/backup.py)."""

import logging

from django.core.management.base import BaseCommand, CommandError

from hub import addresses, demo
from hub.plugins.manager import registered_modules


class Command(BaseCommand):
    help = "Espace citoyen hub: list modules, load demo data, import civic addresses."

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="action", required=True)
        sub.add_parser("modules", help="List discovered modules and the hooks they implement.")
        demo_parser = sub.add_parser("demo", help="Create or refresh the demo data (idempotent).")
        demo_parser.add_argument("--admin-email", default=demo.ADMIN_EMAIL)
        demo_parser.add_argument("--admin-password", default=demo.ADMIN_PASSWORD)
        addr = sub.add_parser("addresses", help="The civic address register.")
        addr_sub = addr.add_subparsers(dest="addresses_action", required=True)
        imp = addr_sub.add_parser("import", help="Import or update addresses from a CSV file "
                                                 "(format: docs/addresses.md).")
        imp.add_argument("csv", help="Path of the CSV file (UTF-8, comma or semicolon).")
        imp.add_argument("--dry-run", action="store_true",
                         help="Check every line and count, write nothing.")
        imp.add_argument("--municipality", default="",
                         help="Municipality for lines without a municipalite column.")
        imp.add_argument("--encoding", default="utf-8-sig",
                         help="File encoding (default UTF-8; cp1252 for old Excel files).")
        imp.add_argument("--max-errors", type=int, default=50,
                         help="How many line errors to print (all are counted).")
        addr_sub.add_parser("relocate", help="Recompute every address's district (after "
                                             "districts' boundaries changed).")
        sched = sub.add_parser("scheduler", help="Enqueue the hub's and modules' periodic jobs "
                                                  "on time, every minute, until stopped.")
        sched.add_argument("--once", action="store_true",
                           help="One tick (the jobs due this minute), then exit.")
        backup = sub.add_parser("backup", help="Back up the database and MEDIA_ROOT into a "
                                                "new directory, with checksums (README).")
        backup.add_argument("directory")
        restore = sub.add_parser("restore", help="Restore a backup directory into the "
                                                 "configured database and MEDIA_ROOT, "
                                                 "then check row counts and checksums.")
        restore.add_argument("directory")

    def handle(self, *args, action, **options):
        if action == "modules":
            self.list_modules()
        elif action == "demo":
            # Wagtail logs every page it creates, edits and publishes, and the redirects
            # it makes: a hundred lines on each `make run`; -v 2 shows them.
            quiet = options["verbosity"] < 2
            wagtail_logger = logging.getLogger("wagtail")
            level = wagtail_logger.level
            if quiet:
                wagtail_logger.setLevel(logging.WARNING)
            try:
                demo.load(admin_email=options["admin_email"],
                          admin_password=options["admin_password"])
            finally:
                wagtail_logger.setLevel(level)
            self.stdout.write(self.style.SUCCESS("Demo data ready."))
        elif action == "addresses":
            self.addresses(options)
        elif action == "scheduler":
            self.scheduler(once=options["once"])
        elif action in ("backup", "restore"):
            from hub import backup

            try:
                manifest = getattr(backup, action)(options["directory"])
            except (backup.BackupError, OSError) as exc:
                raise CommandError(str(exc)) from exc
            self.stdout.write(self.style.SUCCESS(
                f"{action}: {sum(manifest['row_counts'].values())} rows in "
                f"{len(manifest['row_counts'])} tables, {len(manifest['media'])} media "
                f"files ({options['directory']})."))

    def scheduler(self, *, once: bool):
        """Until SIGTERM or SIGINT (Ctrl-C), which end the current tick cleanly."""
        import signal
        import threading

        from hub.scheduler import Scheduler

        scheduler = Scheduler()
        if once:
            for name, due in scheduler.tick():
                self.stdout.write(f"enqueued {name} (due {due:%Y-%m-%d %H:%M})")
            return
        stop = threading.Event()
        for signum in (signal.SIGTERM, signal.SIGINT):
            signal.signal(signum, lambda *_: stop.set())
        scheduler.run(stop)

    def addresses(self, options):
        if options["addresses_action"] == "relocate":
            changed = addresses.relocate_all()
            self.stdout.write(self.style.SUCCESS(f"{changed} addresses changed district."))
            return
        try:
            result = addresses.import_csv(options["csv"], dry_run=options["dry_run"],
                                          municipality=options["municipality"],
                                          encoding=options["encoding"])
        except FileNotFoundError as exc:
            raise CommandError(f"No such file: {options['csv']}") from exc
        except LookupError as exc:
            raise CommandError(str(exc)) from exc
        except addresses.ImportError_ as exc:
            raise CommandError(str(exc)) from exc
        for line, message in result.errors[:options["max_errors"]]:
            self.stderr.write(f"line {line}: {message}")
        if len(result.errors) > options["max_errors"]:
            self.stderr.write(f"… and {len(result.errors) - options['max_errors']} more "
                              "line errors.")
        prefix = "Dry run (nothing written): would create" if result.dry_run else "Created"
        self.stdout.write(self.style.SUCCESS(
            f"{prefix} {result.created}, {'update' if result.dry_run else 'updated'} "
            f"{result.updated}; {len(result.errors)} lines in error; {result.outside} "
            "addresses outside every district."))

    def list_modules(self):
        modules = registered_modules()
        if not modules:
            self.stdout.write("No module installed.")
            return
        for meta in modules:
            state = "enabled" if meta["enabled"] else "disabled"
            self.stdout.write(
                f"{meta['slug']:<16} {meta['name_fr']} / {meta['name_en']}  "
                f"[{state}]  v{meta['version'] or '?'}"
            )
            self.stdout.write(f"{'':<16} hooks: {', '.join(meta['hooks'])}")
