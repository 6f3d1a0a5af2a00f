"""Background tasks of `alertes` (django-tasks).  Tasks carry delivery ids only.

The layer above ``services``: a task calls down to the services, and the services never
import this module (``services.outbox.deliver_task`` finds ``deliver_batch`` by its
dotted path, as the queue's worker does), so there is no import circle."""

from django.db import transaction
from django_tasks import task

from .services import delivery


@task()
def deliver_batch(delivery_ids: list[int], alert_id: int | None = None,
                  first: int | None = None, last: int | None = None) -> dict:
    """Claim and send a batch of deliveries; see the guarantee in ``services.outbox``.

    The batch is the ids given, or, with ``alert_id``, the alert's rows whose id lies
    in ``[first, last]`` (what an emergency's outbox build enqueues: a range costs a
    task row three numbers instead of 500)."""
    ids = [int(pk) for pk in delivery_ids]
    if alert_id is not None and first is not None and last is not None:
        ids += delivery.ids_in_range(int(alert_id), int(first), int(last))
    return delivery.deliver(ids)


@task()
def dispatch() -> dict:
    """The every-minute sweep (scheduled alerts, lost or retried deliveries, rows stuck
    in ``sending``): ``services.dispatch_due``, enqueued by the hub's scheduler
    (``alertes.dispatch`` in ``plugin.hub_periodic_tasks``).  One transaction, as
    ``manage.py alertes dispatch``: the deliveries it requeues are enqueued on commit."""
    with transaction.atomic():
        return delivery.dispatch_due()
