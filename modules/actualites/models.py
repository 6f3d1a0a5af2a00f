"""News: categories (a translatable snippet), the news index and news pages."""

from __future__ import annotations

from django.core.paginator import Paginator
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from modelcluster.contrib.taggit import ClusterTaggableManager
from modelcluster.fields import ParentalKey, ParentalManyToManyField
from taggit.models import TaggedItemBase
from wagtail import blocks
from wagtail.admin.panels import FieldPanel, MultiFieldPanel
from wagtail.api import APIField
from wagtail.documents.blocks import DocumentChooserBlock
from wagtail.fields import StreamField
from wagtail.images.api.fields import ImageRenditionField
from wagtail.images.blocks import ImageBlock
from wagtail.models import Page, TranslatableMixin
from wagtail.search import index

from hub.blocks import RICH_TEXT_FEATURES, CallToActionBlock
from hub.i18n import current_language
from hub.models import FastChildRoutingMixin
from hub.personal_data import (
    ACCESS_STAFF,
    NOT_PURGED,
    PersonalData,
)
from hub.rich_text import SafeRichTextBlock

from .forms import NewsPageForm
from .listing import filter_news

PAGE_SIZE = 10


class NewsCategory(TranslatableMixin, models.Model):
    """A news category (works, environment, leisure…), translated like pages."""

    name = models.CharField(_("name"), max_length=80)
    slug = models.SlugField(_("slug"), max_length=80,
                            help_text=_("Used in the address of the filtered news list."))

    panels = [FieldPanel("name"), FieldPanel("slug")]

    class Meta(TranslatableMixin.Meta):
        verbose_name = _("news category")
        verbose_name_plural = _("news categories")
        ordering = ["name"]
        unique_together = [("translation_key", "locale"), ("slug", "locale")]

    def __str__(self):
        return self.name


class QuoteBlock(blocks.StructBlock):
    quote = blocks.TextBlock(label=_("Quote"))
    attribution = blocks.CharBlock(label=_("Attribution"), required=False, max_length=160)

    class Meta:
        icon = "openquote"
        label = _("Quote")
        template = "actualites/blocks/quote.html"


class VideoLinkBlock(blocks.StructBlock):
    """A link to a video (no embedded player: no third-party script or cookie)."""

    url = blocks.URLBlock(label=_("Video address"))
    title = blocks.CharBlock(label=_("Link text"), max_length=160)

    class Meta:
        icon = "media"
        label = _("Video link")
        template = "actualites/blocks/video_link.html"


class DocumentLinkBlock(blocks.StructBlock):
    document = DocumentChooserBlock(label=_("Document"))
    title = blocks.CharBlock(label=_("Link text"), required=False, max_length=160)

    class Meta:
        icon = "doc-full"
        label = _("Document")
        template = "actualites/blocks/document.html"


class NewsBodyBlock(blocks.StreamBlock):
    paragraph = SafeRichTextBlock(label=_("Paragraph"), features=RICH_TEXT_FEATURES,
                                  icon="pilcrow")
    image = ImageBlock(label=_("Image"), template="hub/blocks/image.html")
    quote = QuoteBlock()
    video = VideoLinkBlock()
    document = DocumentLinkBlock()
    call_to_action = CallToActionBlock()


class NewsIndexPage(FastChildRoutingMixin, Page):
    """The news list of one language: filters by category and tag, paginated."""

    intro = models.TextField(_("introduction"), blank=True)

    content_panels = [*Page.content_panels, FieldPanel("intro")]
    search_fields = [*Page.search_fields, index.SearchField("intro")]
    api_fields = [APIField("intro")]
    subpage_types = ["actualites.NewsPage"]
    max_count_per_parent = 1

    class Meta:
        verbose_name = _("news index")
        verbose_name_plural = _("news indexes")

    def routed_child_model(self, slug: str):
        """Every child is a news page (``subpage_types``): no type to look up, the news
        page is read from its own table in one query (``FastChildRoutingMixin``)."""
        return NewsPage

    def routed_child_queryset(self, model):
        """A news page shows its main image: read with the page, not after it."""
        queryset = super().routed_child_queryset(model)
        return queryset.select_related("main_image") if model is NewsPage else queryset

    def get_context(self, request, *args, **kwargs):
        context = super().get_context(request, *args, **kwargs)
        categories = NewsCategory.objects.filter(locale=self.locale)
        listing = filter_news(
            NewsPage.objects.live().public().child_of(self), categories,
            category=request.GET.get("categorie", ""),
            tag=request.GET.get("etiquette", ""),
        )
        # The cards show each page's image: read with the page, its renditions at once.
        paginator = Paginator(listing.pages.select_related("main_image")
                              .prefetch_related("main_image__renditions"), PAGE_SIZE)
        context.update({
            "news_page": paginator.get_page(request.GET.get("page")),
            "categories": categories,
            "filter_error": listing.error,
            "category": listing.category,
            "tag": listing.tag,
        })
        return context


class NewsPageTag(TaggedItemBase):
    content_object = ParentalKey("actualites.NewsPage", on_delete=models.CASCADE,
                                 related_name="tagged_items")


class NewsPage(Page):
    """One news item."""

    date = models.DateField(_("date"), default=timezone.localdate)
    lead = models.TextField(_("lead"), max_length=400,
                            help_text=_("One or two sentences shown in lists and feeds."))
    main_image = models.ForeignKey(
        "wagtailimages.Image", verbose_name=_("main image"), null=True, blank=True,
        on_delete=models.SET_NULL, related_name="+")
    main_image_alt = models.CharField(
        _("main image alternative text"), max_length=250, blank=True,
        help_text=_("Describe the image for people who cannot see it."))
    body = StreamField(NewsBodyBlock(), blank=True, verbose_name=_("body"))
    categories = ParentalManyToManyField(NewsCategory, blank=True,
                                         verbose_name=_("categories"))
    tags = ClusterTaggableManager(through=NewsPageTag, blank=True, verbose_name=_("tags"))

    base_form_class = NewsPageForm
    content_panels = [
        *Page.content_panels,
        FieldPanel("date"),
        FieldPanel("lead"),
        MultiFieldPanel([FieldPanel("main_image"), FieldPanel("main_image_alt")],
                        heading=_("Main image")),
        FieldPanel("body"),
        FieldPanel("categories"),
        FieldPanel("tags"),
    ]
    search_fields = [
        *Page.search_fields,
        index.SearchField("lead"),
        index.SearchField("body"),
        index.FilterField("date"),
    ]
    api_fields = [
        APIField("date"),
        APIField("lead"),
        APIField("main_image"),
        APIField("main_image_thumbnail",
                 serializer=ImageRenditionField("fill-800x450", source="main_image")),
        APIField("main_image_alt"),
        APIField("body"),
        APIField("category_names"),
        APIField("tag_names"),
    ]
    parent_page_types = ["actualites.NewsIndexPage"]
    subpage_types: list[str] = []

    personal_data = PersonalData(
        purpose=_("Published news"), retention=NOT_PURGED, access=ACCESS_STAFF,
        exempt={"main_image_alt": _("describes a published image")})

    class Meta:
        verbose_name = _("news page")
        verbose_name_plural = _("news pages")
        # Every list (home tile, index, feeds, API ?order=-date) reads newest first.
        indexes = [models.Index(fields=["-date"], name="actualites_news_date_idx")]

    def clean(self):
        from django.core.exceptions import ValidationError

        super().clean()
        if self.main_image_id and not self.main_image_alt.strip():
            raise ValidationError({"main_image_alt": _(
                "Describe the main image for people who cannot see it.")})

    def get_context(self, request, *args, **kwargs):
        """Tags, categories and the news list read once (the head's ``article:tag``, the
        footer's filter links and "All news" share them); the Open Graph locale from the
        language the page is served in."""
        context = super().get_context(request, *args, **kwargs)
        if getattr(request, "is_preview", False) or self.pk is None:
            tags, categories = self._tags_and_categories()
        else:
            # Saved with the page: a publication starts a new generation.
            from hub.cache import memoize_public

            tags, categories = memoize_public(
                "actualites-news-terms", [self.pk, self.live_revision_id],
                self._tags_and_categories)
        context["news_tags"] = tags
        context["news_categories"] = categories
        context["news_index"] = self.get_parent()
        context["og_locale"] = "en_CA" if current_language() == "en" else "fr_CA"
        return context

    def get_view_restrictions(self):
        """Wagtail's restrictions of this page and its ancestors (two queries), whose
        ids are memoized (``hub.cache.memoize_public``, keyed by the page and its path:
        saving or deleting a restriction, or a publication, starts a new generation;
        a move changes the path): with none, an empty queryset that asks nothing of
        the database.  With some, Wagtail's queryset as before (each checked on every
        request)."""
        from wagtail.models import PageViewRestriction

        from hub.cache import memoize_public

        ids = memoize_public("actualites-view-restrictions", [self.pk, self.path],
                             lambda: list(super(NewsPage, self).get_view_restrictions()
                                          .values_list("pk", flat=True)))
        if not ids:
            return PageViewRestriction.objects.none()
        return super().get_view_restrictions()

    def _tags_and_categories(self) -> tuple[list[dict], list[dict]]:
        return ([{"name": tag.name, "slug": tag.slug} for tag in self.tags.all()],
                [{"name": item.name, "slug": item.slug} for item in self.categories.all()])

    @property
    def category_names(self) -> list[str]:
        return [category.name for category in self.categories.all()]

    @property
    def tag_names(self) -> list[str]:
        return [tag.name for tag in self.tags.all()]
