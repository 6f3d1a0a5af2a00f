"""The retention schedule (Québec's Law 25, art. 23): once a closed request is older than
its category's ``retention_months``, what identifies the resident is removed and the
city keeps the anonymous record (category, dates, department, status, description
kept by the city, the location at its public precision) for its statistics.

Removed: the account link and followers, the caller's name, email and phone, the
Open311 client's device and account ids and media address, the satisfaction comment,
the text of the resident's own comments (and their authorship), the photos (files and
rows: the files are server re-encodings without EXIF, and they go entirely).  The point
and the address are rounded as the public sees them (``requetes/public.py``).

Idempotent and resumable: requests are taken in batches by primary key, each batch in
one transaction that ends by setting ``anonymised_at``; a crash leaves the batch for the
next run (deleting a photo file that is already gone is not an error), and a request
once marked is never taken again, so a second run changes nothing.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime

from dateutil.relativedelta import relativedelta
from django.conf import settings
from django.db import transaction
from django.utils import timezone, translation
from django.utils.translation import gettext, gettext_noop

from .. import public
from ..models import Category, RequestEvent, RequestPhoto, ServiceRequest

logger = logging.getLogger("modules.requetes.retention")

BATCH_SIZE = 200
# The history note, stored in the site's language (it is data, read by staff later).
NOTE = gettext_noop("Anonymised under the retention schedule (%(months)d months after "
                    "closure).")


@dataclass
class RetentionReport:
    """What one run did: per category code, the requests anonymised."""

    anonymised: dict[str, int] = field(default_factory=dict)
    photos_deleted: int = 0
    comments_cleared: int = 0
    dry_run: bool = False

    @property
    def total(self) -> int:
        return sum(self.anonymised.values())


def cutoff(category: Category, now: datetime) -> datetime:
    """Requests of ``category`` closed before this moment are past their period."""
    return now - relativedelta(months=category.retention_months)


def expired(category: Category, now: datetime):
    """The closed requests of ``category`` past their period and not yet anonymised."""
    return ServiceRequest.objects.filter(
        category=category, status=ServiceRequest.Status.CLOSED, anonymised_at__isnull=True,
        closed_at__lt=cutoff(category, now))


def anonymise_expired(*, now: datetime | None = None, batch_size: int = BATCH_SIZE,
                      dry_run: bool = False, max_batches: int | None = None
                      ) -> RetentionReport:
    """Anonymise every closed request past its category's retention period.
    ``dry_run`` counts without changing anything; ``max_batches`` bounds one run (the
    next run resumes where it stopped)."""
    now = now or timezone.now()
    report = RetentionReport(dry_run=dry_run)
    batches = 0
    for category in Category.objects.order_by("pk"):
        queryset = expired(category, now)
        if dry_run:
            count = queryset.count()
            if count:
                report.anonymised[category.service_code] = count
            continue
        last_pk = 0
        while max_batches is None or batches < max_batches:
            ids = list(queryset.filter(pk__gt=last_pk).order_by("pk")
                       .values_list("pk", flat=True)[:batch_size])
            if not ids:
                break
            done = _anonymise_batch(category, ids, now, report)
            batches += 1
            last_pk = ids[-1]
            report.anonymised[category.service_code] = (
                report.anonymised.get(category.service_code, 0) + done)
            logger.info("retention: category=%s anonymised=%d (batch up to pk %d)",
                        category.service_code, done, last_pk)
    logger.info("retention: %s total=%d photos_deleted=%d comments_cleared=%d",
                "dry run" if dry_run else "done", report.total, report.photos_deleted,
                report.comments_cleared)
    return report


def _anonymise_batch(category: Category, ids: list[int], now: datetime,
                     report: RetentionReport) -> int:
    with transaction.atomic():
        # Lock the rows and re-check them: another run may have done them meanwhile.
        rows = list(ServiceRequest.objects.select_for_update()
                    .filter(pk__in=ids, anonymised_at__isnull=True,
                            status=ServiceRequest.Status.CLOSED).order_by("pk"))
        if not rows:
            return 0
        pks = [row.pk for row in rows]
        for photo in RequestPhoto.objects.filter(request_id__in=pks):
            for file in (photo.image, photo.thumbnail):
                if file.name:
                    file.storage.delete(file.name)  # a missing file is not an error
            photo.delete()
            report.photos_deleted += 1
        report.comments_cleared += RequestEvent.objects.filter(
            request_id__in=pks, by_staff=False, kind=RequestEvent.Kind.COMMENT,
        ).exclude(public_message="").update(public_message="", actor=None)
        RequestEvent.objects.filter(request_id__in=pks, by_staff=False).update(actor=None)
        ServiceRequest.followers.through.objects.filter(servicerequest_id__in=pks).delete()
        with translation.override(settings.LANGUAGE_CODE):
            note = gettext(NOTE) % {"months": category.retention_months}
        for row in rows:
            latitude, longitude, address = public.place(
                category.location_precision, row.latitude, row.longitude, row.address)
            ServiceRequest.objects.filter(pk=row.pk).update(
                citizen=None, caller_name="", caller_email="", caller_phone="",
                contact_channel=ServiceRequest.ContactChannel.NONE,
                satisfaction_comment="", device_id="", account_id="", media_url="",
                latitude=latitude if latitude is not None else row.latitude,
                longitude=longitude if longitude is not None else row.longitude,
                address=address, anonymised_at=now)
            RequestEvent.objects.create(request=row, kind=RequestEvent.Kind.NOTE,
                                        internal_note=note, by_staff=True, created_at=now)
        return len(rows)
