"""Residents registered by staff (a senior with a landline, the counter, the phone) and
imported from a CSV file: the consent is recorded with its circumstances, the addresses
count as verified by the staff member.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from hub.text import CsvError, decode_csv_bytes, dict_reader

from ..models import (
    Channel,
    ConsentRecord,
    Subscriber,
    Topic,
)
from ..phones import normalize_phone
from .addresses import add_address
from .subscriptions import place_resident, record_consent, update_preferences

logger = logging.getLogger(__name__)


@transaction.atomic
def register_resident(*, name: str, phone: str = "", email: str = "", civic_address: str = "",
                      language: str = "fr", district=None, topics: Iterable[Topic] = (),
                      voice: bool = True, sms: bool = False, actor=None,
                      method: str = ConsentRecord.Method.STAFF,
                      consent_note: str = "") -> Subscriber:
    """Staff register a resident without an account (e.g. a senior with a landline) who
    gave their consent (by phone, at the counter): the consent is recorded with its
    circumstances, the addresses count as verified by the staff member.  Without a
    ``district``, the civic address places the resident (``place_resident``)."""
    if actor is None or not can_register(actor):
        raise PermissionDenied(_("You may not register residents."))
    if not (phone or email):
        raise ValidationError(_("Give a phone number or an email address."))
    if language not in ("fr", "en"):
        raise ValidationError(_("Choose French or English."))
    if district is None and civic_address:  # placed in a zone from the address register
        civic_address, district = place_resident(civic_address)
    subscriber = Subscriber.objects.create(name=name[:150], civic_address=civic_address[:255],
                                           language=language, district=district,
                                           registered_by=actor)
    record_consent(subscriber, ConsentRecord.Action.GIVEN, "all", method, actor, consent_note)
    given = [(Channel.VOICE, phone, "phone", phone and voice),
             (Channel.SMS, phone, "phone", phone and sms), (Channel.EMAIL, email, "email", email)]
    for channel, value, field, wanted in given:
        if not wanted:
            continue
        try:
            add_address(subscriber, channel, value, method=method, actor=actor, verified=True)
        except ValidationError as exc:  # named after the form's field, not add_address's
            raise ValidationError({field: exc.messages}) from exc
    update_preferences(subscriber, topics=topics, language=language, district=district,
                       method=method, actor=actor)
    return subscriber


def can_register(user) -> bool:
    return bool(user and user.is_active and user.has_perm("alertes.send_alert"))


def import_residents(rows: Iterable[dict], actor, *, dry_run: bool = True,
                     consent_note: str = "") -> dict:
    """Import residents from CSV rows (``name``, ``phone``, ``email``, ``address``,
    ``language``, ``district`` slug, ``topics`` slugs separated by ``;``).  Each line is
    checked; ``dry_run`` shows what would happen without writing anything.  An empty
    district is found from the address in the civic address register (a line whose
    address is not found is an error).  Returns
    ``{"created": n, "errors": [(line, message), …]}``."""
    from hub.models import District

    if not can_register(actor):
        raise PermissionDenied(_("You may not register residents."))
    districts = {d.slug: d for d in District.objects.all()}
    all_topics = {t.slug: t for t in Topic.objects.all()}
    created, errors = 0, []
    for line, row in enumerate(rows, start=2):
        row = {k.strip().lower(): (v or "").strip() for k, v in row.items() if k}
        try:
            district = None
            if row.get("district"):
                district = districts.get(row["district"])
                if district is None:
                    raise ValidationError(_("Unknown district “%(slug)s”.") % {
                        "slug": row["district"]})
            wanted = [s.strip() for s in row.get("topics", "").split(";") if s.strip()]
            unknown = [s for s in wanted if s not in all_topics]
            if unknown:
                raise ValidationError(_("Unknown topic “%(slug)s”.") % {"slug": unknown[0]})
            if row.get("phone"):
                normalize_phone(row["phone"])
            with transaction.atomic():
                register_resident(
                    name=row.get("name", ""), phone=row.get("phone", ""),
                    email=row.get("email", ""), civic_address=row.get("address", ""),
                    language=row.get("language") or "fr", district=district,
                    topics=[all_topics[s] for s in wanted], actor=actor,
                    method=ConsentRecord.Method.IMPORT, consent_note=consent_note)
                if dry_run:
                    transaction.set_rollback(True)
            created += 1
        except ValidationError as exc:
            errors.append((line, " ".join(exc.messages)))
    return {"created": created, "errors": errors, "dry_run": dry_run}


IMPORT_MAX_BYTES = 2 * 1024 * 1024
IMPORT_MAX_ROWS = 5000
IMPORT_COLUMNS = {"name", "phone", "email", "address", "language", "district", "topics"}


def parse_residents_csv(data: bytes) -> list[dict]:
    """Read an uploaded CSV of residents into rows for ``import_residents``.  Anything
    that is not a UTF-8 (or Windows-1252, as Excel saves it) comma or semicolon separated
    file with a known header is refused as a whole with a clear message."""
    import csv

    if len(data) > IMPORT_MAX_BYTES:
        raise ValidationError(_("The file is larger than %(size)d MB.") % {
            "size": IMPORT_MAX_BYTES // (1024 * 1024)})
    if not data.strip():
        raise ValidationError(_("The file is empty."))
    try:
        text = decode_csv_bytes(data)
    except CsvError as exc:
        raise ValidationError(str(exc)) from None
    try:
        reader = dict_reader(text)
        header = {(name or "").strip().lower() for name in (reader.fieldnames or [])}
        if "name" not in header or not ({"phone", "email"} & header):
            raise ValidationError(_("The first line must name the columns: name, phone "
                                    "and/or email (optional: address, language, district, "
                                    "topics)."))
        rows = []
        for row in reader:
            if len(rows) >= IMPORT_MAX_ROWS:
                raise ValidationError(_("The file has more than %(max)d lines: split it.")
                                      % {"max": IMPORT_MAX_ROWS})
            rows.append({k: v if isinstance(v, str) else "" for k, v in row.items()
                         if k and k.strip().lower() in IMPORT_COLUMNS})
    except csv.Error as exc:
        raise ValidationError(_("The file could not be read as CSV: %(error)s") % {
            "error": exc}) from exc
    if not rows:
        raise ValidationError(_("The file has no resident lines."))
    return rows
