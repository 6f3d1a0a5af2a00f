"""What `actualites` reads: the latest published pages in the visitor's language."""

from django.utils.translation import get_language
from wagtail.models import Locale, Page


def latest_pages(request, limit: int = 20) -> list[Page]:
    """Published pages of the current language, newest first (the home page excluded)."""
    try:
        locale = Locale.objects.get(language_code=(get_language() or "fr")[:2])
    except Locale.DoesNotExist:
        return []
    pages = (
        Page.objects.live().public().filter(locale=locale, depth__gt=2)
        .exclude(first_published_at=None).order_by("-first_published_at")
    )
    return list(pages[:limit])
