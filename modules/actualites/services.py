"""What `actualites` reads and does: the latest news, the index of a language, feeds'
items and the ``news_published`` event.  (The news list's filters are in ``listing.py``:
the index page applies them, and models never import this module.)"""

from __future__ import annotations

from django.db.models import QuerySet
from wagtail.models import Locale

from hub.i18n import current_locale
from hub.plugins.manager import fire_event

from .hookspecs import NewsPublished
from .models import NewsIndexPage, NewsPage


def live_news(locale: Locale | None = None) -> QuerySet:
    """Live, public news pages (of one locale when given), newest first."""
    pages = NewsPage.objects.live().public()
    if locale is not None:
        pages = pages.filter(locale=locale)
    return pages.order_by("-date", "-first_published_at")


def news_index(locale: Locale | None = None):
    """The live news index of a locale (falling back to any live news index)."""
    indexes = NewsIndexPage.objects.live().public()
    if locale is not None:
        found = indexes.filter(locale=locale).first()
        if found is not None:
            return found
    return indexes.order_by("depth", "path").first()


def news_for_home(language: str, limit: int = 3):
    """The news list and the latest news of ``language`` for the home page: its tile and
    its cards (each with its image and the image's renditions).

    The home page is what 43,000 residents open in an emergency: the view restrictions
    are read once for the list and the news, the locale is joined rather than looked up
    and the renditions come in one query, so tile and cards cost four queries."""
    private = NewsPage.objects.all().private_q()
    indexes = NewsIndexPage.objects.live().exclude(private)
    index = (indexes.filter(locale__language_code=language).first()
             or indexes.order_by("depth", "path").first())
    if index is None:
        return None, []
    pages = list(NewsPage.objects.live().exclude(private)
                 .filter(locale__language_code=language)
                 .select_related("main_image").prefetch_related("main_image__renditions")
                 .order_by("-date", "-first_published_at")[:limit])
    return index, pages


def latest_news(limit: int = 3) -> list:
    """The latest live news of the visitor's language."""
    locale = current_locale()
    if locale is None:
        return []
    return list(live_news(locale).select_related("main_image")[:limit])


def published_payload(page) -> NewsPublished:
    """What listeners of ``news_published`` get to know of a live news page."""
    return NewsPublished(
        page_id=page.pk, translation_key=str(page.translation_key),
        language=page.locale.language_code, title=page.title, lead=page.lead,
        url=page.get_full_url() or "", date=page.date,
        first_published_at=page.first_published_at,
        published_at=page.last_published_at,
        categories=tuple(page.category_names), tags=tuple(page.tag_names),
        public=not page.get_view_restrictions().exists())


def on_page_published(sender, instance, **kwargs) -> None:
    """Wagtail's ``page_published`` signal for news pages → ``news_published(news)``,
    fired after the transaction commits (the payload is read now, from the page as
    published)."""
    fire_event("news_published", news=published_payload(instance.specific))
