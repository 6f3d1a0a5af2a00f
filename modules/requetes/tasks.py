"""Background jobs of `requetes`, declared to the scheduler in ``plugin.hub_periodic_tasks``."""

from django_tasks import task


@task()
def anonymise_expired() -> int:
    """The retention schedule's daily run (``services.retention``); returns how many
    requests it anonymised."""
    from .services import retention

    return retention.anonymise_expired().total


@task()
def refresh_dashboard() -> int:
    """The dashboard's usual periods computed ahead (``snapshots``), every ten minutes;
    returns how many periods it wrote."""
    from . import snapshots

    return len(snapshots.refresh())
