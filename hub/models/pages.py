"""The hub's Wagtail pages: the home page (with module tiles) and generic content pages."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _
from wagtail.admin.panels import FieldPanel
from wagtail.api import APIField
from wagtail.fields import StreamField
from wagtail.models import Page
from wagtail.search import index

from hub.blocks import ContentStreamBlock, IntroStreamBlock
from hub.plugins.manager import collect_sorted


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

    def route(self, request, path_components):
        """The child is read from its own table in one query instead of two (Wagtail
        reads it as a plain page, then as its specific type): the child's content type
        per slug is memoized (``hub.cache.memoize_public``; a page's type never changes)
        and the row is still looked up among this page's children by slug, so a stale
        memo (a move, a new slug) only falls back to Wagtail's way."""
        if not path_components:
            return super().route(request, path_components)
        from django.contrib.contenttypes.models import ContentType

        from hub.cache import memoize_public

        slug = path_components[0]
        content_type_id = memoize_public(
            "hub-route-child-type", [self.pk, self.path, slug],
            lambda: Page.objects.filter(**self._hub_child_filter(slug))
            .values_list("content_type_id", flat=True).first())
        model = content_type_id and ContentType.objects.get_for_id(content_type_id).model_class()
        if model is None or not issubclass(model, Page):
            return super().route(request, path_components)
        try:
            child = model.objects.get(**self._hub_child_filter(slug))
        except model.DoesNotExist:
            return super().route(request, path_components)
        child._cached_parent_obj = self
        return child.route(request, path_components[1:])

    def _hub_child_filter(self, slug) -> dict:
        """Wagtail's ``get_children()`` lookup (a path range PostgreSQL answers from the
        path index, where ``child_of``'s ``LIKE`` may not) and the slug."""
        return {"depth": self.depth + 1, "slug": slug,
                "path__range": self._get_children_path_interval(self.path)}

    def get_context(self, request, *args, **kwargs):
        context = super().get_context(request, *args, **kwargs)
        context["tiles"] = module_tiles(request)
        return context


def module_tiles(request) -> list[dict]:
    """Tiles from enabled modules, by tile ``order`` (defaulting to the module's)."""
    return collect_sorted("hub_home_tiles", request=request)


class ContentPage(Page):
    """A generic page: headings, paragraphs, images, calls to action and FAQs."""

    body = StreamField(ContentStreamBlock(), blank=True, verbose_name=_("body"))

    content_panels = [*Page.content_panels, FieldPanel("body")]
    search_fields = [*Page.search_fields, index.SearchField("body")]
    api_fields = [APIField("body")]

    class Meta:
        verbose_name = _("content page")
        verbose_name_plural = _("content pages")
