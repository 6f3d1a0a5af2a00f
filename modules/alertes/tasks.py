"""Background tasks of `alertes` (django-tasks).  Tasks carry delivery ids only."""

from django_tasks import task


@task()
def deliver_batch(delivery_ids: list[int]) -> dict:
    """Claim and send a batch of deliveries; see the guarantee in ``services``."""
    from . import services

    return services.deliver([int(pk) for pk in delivery_ids])
