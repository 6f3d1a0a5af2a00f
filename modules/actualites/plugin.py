"""Hook implementations of `actualites`: the only place the hub talks to this module."""

from django.template.loader import render_to_string
from django.urls import include, path
from django.utils.translation import gettext as _

from hub.i18n import current_language
from hub.plugins import hookimpl

from . import hookspecs, services

SLUG = "actualites"


@hookimpl
def hub_module():
    return {
        "slug": SLUG,
        "name_fr": "Actualités",
        "name_en": "News",
        "description_fr": "Les nouvelles de la Ville.",
        "description_en": "News from the city.",
        "icon": "news",
        "order": 30,
        "version": "0.2.0",
    }


@hookimpl
def hub_hookspecs():
    return hookspecs


@hookimpl
def hub_urlpatterns():
    # Only the feeds: the list is the NewsIndexPage served by Wagtail at /fr/actualites/.
    return [path("actualites/", include("modules.actualites.urls"))]


@hookimpl
def hub_home_tiles(request):
    """The news tile: the same for every visitor of a language, so it is kept a few
    seconds (publishing a page refreshes it at once) instead of costing three queries
    on every home page."""
    from wagtail.models import Site

    from hub.cache import memoize_public

    language = current_language()
    site = Site.find_for_request(request)
    return memoize_public("actualites-tile", [language, site.pk if site else ""],
                          lambda: _home_tiles(request, language))


def _home_news(request, language: str):
    """``services.news_for_home``, read once per request for the tile and the cards."""
    cached = getattr(request, "_actualites_home_news", None)
    if cached is None or cached[0] != language:
        cached = (language, services.news_for_home(language))
        request._actualites_home_news = cached
    return cached[1]


def _home_tiles(request, language: str) -> list[dict]:
    index, pages = _home_news(request, language)
    latest = pages[0] if pages else None
    if index is None:
        return []  # no news list published yet: nothing to point residents to
    description = (_("Latest: %(title)s") % {"title": latest.title} if latest
                   else _("Announcements, works, events and decisions of the city council."))
    return [{
        "title": _("City news"),
        "description": description,
        "url": index.get_url(request),
        "icon": "news",
        "order": 30,
    }]


@hookimpl
def hub_home_sections(request):
    """The latest news as cards with their image; like the tile, the same for every
    visitor of a language, so the rendered cards are kept a few seconds."""
    from wagtail.models import Site

    from hub.cache import memoize_public

    language = current_language()
    site = Site.find_for_request(request)
    return memoize_public("actualites-home-section", [language, site.pk if site else ""],
                          lambda: _home_sections(request, language))


def _home_sections(request, language: str) -> list[dict]:
    index, pages = _home_news(request, language)
    if index is None or not pages:
        return []
    return [{
        "slug": "news",
        "title": _("Latest news"),
        "body": render_to_string("actualites/home_section.html", {"pages": pages},
                                 request=request),
        "url": index.get_url(request),
        "link_text": _("All news"),
        "order": 30,
    }]


@hookimpl
def hub_dashboard_panels(request):
    """The latest news of the visitor's language: public pages only, the same for every
    resident of a language, so the rendered panel is kept a few seconds like the home's
    cards (publishing a page refreshes it at once) and costs Mon Espace no query."""
    from wagtail.models import Site

    from hub.cache import memoize_public

    language = current_language()
    site = Site.find_for_request(request)
    return memoize_public("actualites-dashboard-panel", [language, site.pk if site else ""],
                          lambda: _dashboard_panels(request, language))


def _dashboard_panels(request, language: str) -> list[dict]:
    index, pages = _home_news(request, language)
    return [{
        "title": _("Latest news"),
        "body": render_to_string("actualites/panel.html", {"pages": pages},
                                 request=request),
        "url": index.get_url(request) if index is not None else None,
        "link_text": _("All news"),
        "order": 30,
    }]


@hookimpl
def hub_search_sources():
    from .models import NewsPage

    return [NewsPage.objects.live().public()]


@hookimpl
def hub_demo_data():
    from . import demo

    demo.load()
