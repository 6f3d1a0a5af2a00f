"""Background tasks of `alertes` (django-tasks).  Tasks carry delivery ids only."""

from django_tasks import task


@task()
def deliver_batch(delivery_ids: list[int]) -> dict:
    """Claim and send a batch of deliveries; see the guarantee in ``services``."""
    from . import services

    return services.deliver([int(pk) for pk in delivery_ids])


@task()
def dispatch() -> dict:
    """The every-minute sweep (scheduled alerts, lost or retried deliveries, rows stuck
    in ``sending``): ``services.dispatch_due``, enqueued by the hub's scheduler
    (``alertes.dispatch`` in ``plugin.hub_periodic_tasks``).  One transaction, as
    ``manage.py alertes dispatch``: the deliveries it requeues are enqueued on commit."""
    from django.db import transaction

    from . import services

    with transaction.atomic():
        return services.dispatch_due()
