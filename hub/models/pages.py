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


class FastChildRoutingMixin:
    """Route to a child page with one query instead of two.

    Wagtail's ``Page.route`` reads the child as a plain ``Page`` and then again as its
    specific type.  Pages that residents open in bursts (the home page, the news index)
    mix this in before ``Page``: the child is read from its own table directly and keeps
    this page as its cached parent, so ``get_parent()`` needs no query either.

    The child's type comes from :meth:`routed_child_model`: by default the content type
    per slug, memoized (``hub.cache.memoize_public``; a page's type never changes); a
    page whose children are all of one type returns that model.  The row is still
    looked up among this page's children by slug, so a stale memo (a move, a new slug)
    or a child of another type only falls back to Wagtail's way."""

    def route(self, request, path_components):
        if not path_components:
            return super().route(request, path_components)
        slug = path_components[0]
        model = self.routed_child_model(slug)
        if model is None or not issubclass(model, Page):
            return super().route(request, path_components)
        try:
            child = self.routed_child_queryset(model).get(**self.child_route_filter(slug))
        except model.DoesNotExist:
            return super().route(request, path_components)
        child._cached_parent_obj = self
        return child.route(request, path_components[1:])

    def routed_child_model(self, slug: str) -> type[Page] | None:
        """The model of the child at ``slug`` (``None``: let Wagtail route)."""
        from django.contrib.contenttypes.models import ContentType

        from hub.cache import memoize_public

        content_type_id = memoize_public(
            "hub-route-child-type", [self.pk, self.path, slug],
            lambda: Page.objects.filter(**self.child_route_filter(slug))
            .values_list("content_type_id", flat=True).first())
        return content_type_id and ContentType.objects.get_for_id(content_type_id).model_class()

    def routed_child_queryset(self, model: type[Page]):
        """Where the child is read from: its model's rows, with what its page always
        shows joined in (``select_related``) by a page that knows its children."""
        return model.objects.all()

    def child_route_filter(self, slug: str) -> dict:
        """Wagtail's ``get_children()`` lookup (a path range PostgreSQL answers from the
        path index, where ``child_of``'s ``LIKE`` may not) and the slug."""
        return {"depth": self.depth + 1, "slug": slug,
                "path__range": self._get_children_path_interval(self.path)}


class HomePage(FastChildRoutingMixin, Page):
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
        context["sections"] = home_sections(request)
        return context


def home_sections(request) -> list[dict]:
    """The sections modules contribute to the home page (alerts in force, latest
    news…).  Like the banners, anonymous visitors share them: kept a few seconds per
    language (``HUB_FRAGMENT_CACHE_SECONDS``) rather than querying every module for
    each visit of the busiest page; a signed-in visitor gets the hook called for them."""
    from django.utils.translation import get_language

    from hub.cache import is_anonymous_request, memoize_public

    if not is_anonymous_request(request):
        return collect_sorted("hub_home_sections", request=request)
    return memoize_public("home-sections", [get_language() or ""],
                          lambda: collect_sorted("hub_home_sections", request=request))


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
