"""``manage.py hub modules`` lists the modules; ``manage.py hub demo`` loads demo data."""

from django.core.management.base import BaseCommand

from hub import demo
from hub.plugins.manager import registered_modules


class Command(BaseCommand):
    help = "Espace citoyen hub: list modules, load demo data."

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="action", required=True)
        sub.add_parser("modules", help="List discovered modules and the hooks they implement.")
        demo_parser = sub.add_parser("demo", help="Create or refresh the demo data (idempotent).")
        demo_parser.add_argument("--admin-email", default=demo.ADMIN_EMAIL)
        demo_parser.add_argument("--admin-password", default=demo.ADMIN_PASSWORD)

    def handle(self, *args, action, **options):
        if action == "modules":
            self.list_modules()
        elif action == "demo":
            demo.load(admin_email=options["admin_email"],
                      admin_password=options["admin_password"])
            self.stdout.write(self.style.SUCCESS("Demo data ready."))

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
