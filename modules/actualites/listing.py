"""The news list's filters (category, tag), applied by the news index page.

Kept apart from ``services.py`` and free of model imports: the page model calls it with
its own querysets, so ``models`` → ``listing`` is the only direction (``services``
imports ``models``; nothing imports back)."""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import Q, QuerySet
from django.utils.translation import gettext as _

MAX_FILTER_LENGTH = 80


@dataclass
class Listing:
    pages: QuerySet
    category: object | None = None
    tag: str = ""
    error: str = ""


def filter_news(pages: QuerySet, categories: QuerySet, *, category: str = "",
                tag: str = "") -> Listing:
    """Apply the category (a slug among ``categories``, the index's language's) and
    tag (slug or name) filters of the news list.

    An unknown or malformed filter gives an empty list and a message, never an error.
    """
    pages = pages.order_by("-date", "-first_published_at")
    listing = Listing(pages=pages)
    category = (category or "").strip()
    tag = (tag or "").strip()
    if category:
        found = None
        if len(category) <= MAX_FILTER_LENGTH and "\x00" not in category:
            found = categories.filter(slug=category).first()
        if found is None:
            listing.pages = pages.none()
            listing.error = _("This category does not exist.")
            return listing
        listing.category = found
        pages = pages.filter(categories__translation_key=found.translation_key)
    if tag:
        if len(tag) > MAX_FILTER_LENGTH or "\x00" in tag:
            listing.pages = pages.none()
            listing.error = _("This tag does not exist.")
            return listing
        listing.tag = tag
        pages = pages.filter(Q(tags__slug=tag) | Q(tags__name__iexact=tag))
    listing.pages = pages.distinct()
    return listing
