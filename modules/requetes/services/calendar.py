"""The city's business days: when a request is due (weekends and city holidays do not
count)."""

from __future__ import annotations

import datetime

from django.conf import settings
from django.utils import timezone

from ..models import Category

# Recurring holidays (month, day); REQUETES_HOLIDAYS adds dated ones ("2026-04-03").
DEFAULT_RECURRING_HOLIDAYS = [(1, 1), (1, 2), (6, 24), (7, 1), (12, 24), (12, 25),
                              (12, 26), (12, 31)]


def is_holiday(day: datetime.date) -> bool:
    recurring = getattr(settings, "REQUETES_RECURRING_HOLIDAYS", DEFAULT_RECURRING_HOLIDAYS)
    if (day.month, day.day) in {tuple(item) for item in recurring}:
        return True
    return day.isoformat() in set(getattr(settings, "REQUETES_HOLIDAYS", ()))


def add_business_days(start: datetime.date, days: int) -> datetime.date:
    """``start`` plus ``days`` business days (no weekends, no city holidays)."""
    day = start
    remaining = days
    while remaining > 0:
        day += datetime.timedelta(days=1)
        if day.weekday() < 5 and not is_holiday(day):
            remaining -= 1
    return day


def due_date_for(category: Category, created: datetime.datetime | None = None):
    created = created or timezone.now()
    return add_business_days(timezone.localdate(created), category.service_level_days)
