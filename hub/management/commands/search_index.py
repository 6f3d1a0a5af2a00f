"""Create the Elasticsearch indexes modules declare (``hub_search_documents``) and
bulk-index their rows: run once after configuring ``ELASTICSEARCH_URL``, after changing
a document's mapping (``--recreate``), or to catch up after Elasticsearch was down."""

from django.core.management.base import BaseCommand, CommandError

from hub import search


class Command(BaseCommand):
    help = "Create the modules' Elasticsearch indexes and index every row."

    def add_arguments(self, parser):
        parser.add_argument("--recreate", action="store_true",
                            help="Delete and recreate each index (after a mapping change).")

    def handle(self, *args, recreate=False, **options):
        if not search.elasticsearch_enabled():
            raise CommandError("ELASTICSEARCH_URL is not set: there is no index to build.")
        sources = search.document_sources()
        if not sources:
            self.stdout.write("No module declares a search document.")
            return
        client = search.elasticsearch_client()
        for source in sources:
            name = source.document._index._name
            try:
                search.create_index(source, client=client, recreate=recreate)
                count = search.index_all(source, client=client)
            except Exception as exc:  # connection refused, mapping conflict…
                raise CommandError(f"{name}: {exc}") from exc
            self.stdout.write(f"{name}: {count} documents indexed")
