"""Events the `actualites` module owns, and the plain data they carry.

Other modules implement them with ``@hookimpl(optionalhook=True)``, so nothing breaks
when `actualites` is absent.  Fired after the database transaction commits
(``hub.plugins.manager.fire_event``); a failing listener is logged and never breaks the
sender.  A listener reads the payload's documented fields, never a page object.

Example listener (in another module's ``plugin.py``)::

    @hookimpl(optionalhook=True)
    def news_published(news):
        if news.public and news.language == "fr":
            logger.info("News: %s %s", news.title, news.url)
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass

from hub.plugins import hookspec


@dataclass(frozen=True)
class NewsPublished:
    """A news page went live (an editor published it, or its go-live time came).

    - ``page_id``: the Wagtail page's id; ``translation_key``: the same for the page and
      its translations (a UUID as text), so a listener can tell one news item published
      in two languages;
    - ``language``: the page's language code (``"fr"``, ``"en"``);
    - ``title``, ``lead`` (the short summary shown in lists and feeds);
    - ``url``: the page's absolute address (empty when no site serves it);
    - ``date``: the news' date; ``first_published_at``: when it first went live, and
      ``published_at``: this publication (a correction republishes);
    - ``categories``, ``tags``: their names, in the page's language;
    - ``public``: False when a view restriction (password, signed-in users, groups)
      hides the page: a listener must not announce it to everyone.
    """

    page_id: int
    translation_key: str
    language: str
    title: str
    lead: str
    url: str
    date: datetime.date
    first_published_at: datetime.datetime | None
    published_at: datetime.datetime | None
    categories: tuple[str, ...] = ()
    tags: tuple[str, ...] = ()
    public: bool = True


@hookspec
def news_published(news: NewsPublished) -> None:
    """A news page was published (by an editor, or at its scheduled time by
    ``manage.py publish_scheduled``), in any language, after its transaction committed.

    ``news`` is a :class:`NewsPublished`.  E.g. `alertes` may push it to the subscribers
    of the City news topic.  Return nothing.
    """
