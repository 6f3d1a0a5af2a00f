"""The Mon Espace panel of `requetes`: the citizen's latest requests, read on every visit
and never cached, so a status an agent just changed shows on the next page."""

from __future__ import annotations

from django.db import models

from hub.prepared import PreparedQuery, Slot

from ..models import ServiceRequest

LATEST_COUNT = 5

# Compiled once per process (hub.prepared): only the columns the panel shows.
_LATEST = PreparedQuery(lambda: ServiceRequest.objects.filter(
    citizen_id=Slot("citizen", models.IntegerField()))
    .select_related("category")
    .only("reference", "status", "category__name_fr", "category__name_en")
    .order_by("-created_at")[:LATEST_COUNT])


def latest_requests(user) -> list[ServiceRequest]:
    """The citizen's five latest requests, newest first (reference, status, category)."""
    return _LATEST.fetch(citizen=user.pk)
