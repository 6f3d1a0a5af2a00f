"""RSS 2.0 and Atom feeds of the news, one per language (``/fr/actualites/flux.rss``,
``/en/actualites/flux.atom``…)."""

from django.contrib.syndication.views import Feed
from django.utils.feedgenerator import Atom1Feed
from django.utils.translation import gettext as _

from hub.i18n import current_language, current_locale

from . import services

FEED_SIZE = 20


class NewsRssFeed(Feed):
    def get_object(self, request, *args, **kwargs):
        return current_locale()

    def title(self, locale):
        return _("City news")

    def description(self, locale):
        return _("Announcements, works, events and decisions of the city council.")

    def link(self, locale):
        index = services.news_index(locale)
        return index.full_url if index else f"/{current_language()}/"

    def items(self, locale):
        if locale is None:
            return []
        return list(services.live_news(locale)[:FEED_SIZE])

    def item_title(self, item):
        return item.title

    def item_description(self, item):
        return item.lead

    def item_link(self, item):
        return item.full_url

    def item_pubdate(self, item):
        return item.first_published_at

    def item_updateddate(self, item):
        return item.last_published_at

    def item_categories(self, item):
        return item.category_names


class NewsAtomFeed(NewsRssFeed):
    feed_type = Atom1Feed
    subtitle = NewsRssFeed.description
