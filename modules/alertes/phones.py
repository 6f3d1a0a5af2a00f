"""Phone numbers as alertes stores them (E.164).  Pure: no database import, so the
channels (which check an address as it is typed) and the services both use it without
importing each other."""

from __future__ import annotations

import re

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _


def normalize_phone(value: str) -> str:
    """A North American number in E.164 (``+14503704820``), or ``ValidationError``."""
    raw = (value or "").strip()
    digits = re.sub(r"\D", "", raw)
    if raw.startswith("+") and not raw.startswith("+1") and 8 <= len(digits) <= 15:
        return "+" + digits
    if len(digits) == 11 and digits.startswith("1"):
        digits = digits[1:]
    if len(digits) != 10 or digits[0] in "01":
        raise ValidationError(_("Enter a 10-digit phone number, e.g. 450 370-4820."))
    return "+1" + digits
