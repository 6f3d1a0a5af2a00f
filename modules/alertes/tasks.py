"""Background tasks of `alertes` (django-tasks).  Tasks carry delivery ids only.

The layer above ``services``: a task calls down to the services, and the services never
import this module (``services.outbox.deliver_task`` finds ``deliver_batch`` by its
dotted path, as the queue's worker does), so there is no import circle."""

from django.db import transaction
from django_tasks import task

from .services import delivery


@task()
def deliver_batch(delivery_ids: list[int]) -> dict:
    """Claim and send a batch of deliveries; see the guarantee in ``services.outbox``."""
    return delivery.deliver([int(pk) for pk in delivery_ids])


@task()
def dispatch() -> dict:
    """The every-minute sweep (scheduled alerts, lost or retried deliveries, rows stuck
    in ``sending``): ``services.dispatch_due``, enqueued by the hub's scheduler
    (``alertes.dispatch`` in ``plugin.hub_periodic_tasks``).  One transaction, as
    ``manage.py alertes dispatch``: the deliveries it requeues are enqueued on commit."""
    with transaction.atomic():
        return delivery.dispatch_due()
