"""The hub's Wagtail pages: the home page (with module tiles) and generic content pages."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _
from wagtail.admin.panels import FieldPanel
from wagtail.api import APIField
from wagtail.fields import StreamField
from wagtail.models import Page
from wagtail.search import index

from hub.blocks import ContentStreamBlock, IntroStreamBlock
from hub.plugins.manager import collect


class HomePage(Page):
    """One per language; shows an introduction and the tiles enabled modules contribute."""

    intro = StreamField(IntroStreamBlock(), blank=True, verbose_name=_("introduction"))

    content_panels = [*Page.content_panels, FieldPanel("intro")]
    search_fields = [*Page.search_fields, index.SearchField("intro")]
    api_fields = [APIField("intro")]
    parent_page_types = ["wagtailcore.Page"]
    max_count_per_parent = 1

    class Meta:
        verbose_name = _("home page")
        verbose_name_plural = _("home pages")

    def get_context(self, request, *args, **kwargs):
        context = super().get_context(request, *args, **kwargs)
        context["tiles"] = module_tiles(request)
        return context


def module_tiles(request) -> list[dict]:
    """Tiles from enabled modules, in module order then tile order."""
    tiles = collect("hub_home_tiles", request=request)
    return sorted(tiles, key=lambda tile: (tile.get("order", 100), str(tile.get("title", ""))))


class ContentPage(Page):
    """A generic page: headings, paragraphs, images, calls to action and FAQs."""

    body = StreamField(ContentStreamBlock(), blank=True, verbose_name=_("body"))

    content_panels = [*Page.content_panels, FieldPanel("body")]
    search_fields = [*Page.search_fields, index.SearchField("body")]
    api_fields = [APIField("body")]

    class Meta:
        verbose_name = _("content page")
        verbose_name_plural = _("content pages")
