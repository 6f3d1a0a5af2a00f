"""Background jobs of `requetes`, declared to the scheduler in ``plugin.hub_periodic_tasks``."""

from django_tasks import task


@task()
def anonymise_expired() -> int:
    """The retention schedule's daily run (``services.retention``); returns how many
    requests it anonymised."""
    from .services import retention

    return retention.anonymise_expired().total
