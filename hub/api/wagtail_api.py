"""Wagtail API v2 (``/api/v2/``): pages (``?locale=en``), images and documents."""

from urllib.parse import quote

from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.db.models import Q, QuerySet
from django.http import HttpRequest
from django.urls import NoReverseMatch, reverse
from django.utils import translation
from django.utils.functional import SimpleLazyObject
from django.utils.http import RFC3986_SUBDELIMS
from rest_framework import serializers
from rest_framework.permissions import AllowAny
from wagtail.api.querysets import get_public_pages_queryset
from wagtail.api.v2.pagination import WagtailPagination
from wagtail.api.v2.router import WagtailAPIRouter
from wagtail.api.v2.utils import (
    BadRequestError,
    get_object_detail_url,
    page_models_from_string,
)
from wagtail.api.v2.views import BaseAPIViewSet, PagesAPIViewSet
from wagtail.coreutils import get_supported_content_language_variant
from wagtail.documents.api.v2.views import DocumentsAPIViewSet
from wagtail.images.api.v2.views import ImagesAPIViewSet
from wagtail.models import Page, PageViewRestriction, Site
from wagtail.models.pages import WAGTAIL_APPEND_SLASH

from hub.cache import is_anonymous_request, memoize_public


def _public_tree(site) -> tuple[list[str], list[str]]:
    """(paths of view-restricted pages, paths of the site's root in every language)."""
    restricted = list(PageViewRestriction.objects.values_list("page__path", flat=True))
    roots = [site.root_page.path]
    if getattr(settings, "WAGTAIL_I18N_ENABLED", False):
        roots += list(Page.objects.filter(translation_key=site.root_page.translation_key)
                      .exclude(pk=site.root_page_id).values_list("path", flat=True))
    return restricted, roots


def public_pages(request, model=Page):
    """Wagtail's ``get_public_pages_queryset`` for a visitor without a session or
    credentials (every view restriction applies to them: no password passed, no user),
    with the restricted paths and the site's language roots memoized
    (``hub.cache.memoize_public``; a new or removed restriction, like a publication,
    starts a new generation).  Anyone else, or ``?site=``, takes Wagtail's way."""
    if not is_anonymous_request(request) or request.GET.get("site"):
        return get_public_pages_queryset(request, model=model)
    # On the Django request (not DRF's wrapper), where the site lookup cache finds it.
    site = Site.find_for_request(getattr(request, "_request", request))
    if site is None:
        return model._default_manager.none()
    restricted, roots = memoize_public("api-public-tree", [site.pk],
                                       lambda: _public_tree(site))
    queryset = model._default_manager.all().live()
    for path in restricted:
        queryset = queryset.exclude(path__startswith=path)
    in_site = Q()
    for path in roots:
        in_site |= Q(path__startswith=path)
    return queryset.filter(in_site)


class MemoizedCountPagination(WagtailPagination):
    """Wagtail's offset/limit pagination, whose ``COUNT(*)`` (the whole filtered list,
    for ``meta.total_count``) is memoized for anonymous visitors like the restricted
    paths: per filter set (everything but ``offset``, ``limit`` and ``fields``) and
    generation, so a publication changes it at once."""

    def paginate_queryset(self, queryset, request, view=None):
        if not is_anonymous_request(request):
            return super().paginate_queryset(queryset, request, view)
        filters = sorted((key, value) for key, value in request.GET.lists()
                         if key not in ("offset", "limit", "fields"))
        total = memoize_public("api-count", [request.path, repr(filters)], queryset.count)

        class Counted:
            """The queryset with its count known (slicing is left to the queryset)."""

            def count(self):
                return total

            def __getitem__(self, item):
                return queryset[item]

        return super().paginate_queryset(Counted(), request, view)


# --- the listing's fast path -------------------------------------------------------------

#: Query parameters the fast path accepts (all applied by Wagtail's own filters first).
FAST_LISTING_PARAMETERS = frozenset({"type", "locale", "fields", "order", "limit", "offset"})
#: Serializer fields the fast path writes itself (what Wagtail's fields would write).
FAST_SPECIAL_FIELDS = frozenset({"id", "type", "detail_url", "html_url", "locale"})
#: Plain columns whose DRF field turns the database value into JSON on its own.
FAST_COLUMN_FIELDS = (serializers.CharField, serializers.SlugField, serializers.DateField,
                      serializers.DateTimeField, serializers.IntegerField,
                      serializers.BooleanField)
_fast_layouts: dict = {}
_URL_SAFE = RFC3986_SUBDELIMS + "/~:@"  # what reverse() leaves unquoted


def _fast_layout(view, model):
    """The listing serializer's fields in Wagtail's order, as ``(name, is_meta, field)``,
    when every one of them can be written from ``.values()``; ``None`` otherwise.
    Memoized per model and ``?fields=`` (a serializer class depends on nothing else)."""
    key = (model, view.request.GET.get("fields"))
    if key not in _fast_layouts:
        _fast_layouts[key] = _build_fast_layout(view, model)
    return _fast_layouts[key]


def _build_fast_layout(view, model):
    if (model.get_url_parts is not Page.get_url_parts
            or model.get_full_url is not Page.get_full_url):
        return None  # custom routing: its URLs are the model's to compute
    serializer_class = view.get_serializer_class()
    serializer = serializer_class(context=view.get_serializer_context())
    meta_names = set(serializer_class.meta_fields)
    layout = []
    for field in serializer.fields.values():
        if field.write_only:
            continue
        name = field.field_name
        if name not in FAST_SPECIAL_FIELDS:
            try:
                column = model._meta.get_field(name)
            except Exception:  # a property, a method: not a column
                return None
            if (type(field) not in FAST_COLUMN_FIELDS or field.source != name
                    or not column.concrete or column.is_relation):
                return None
        layout.append((name, name in meta_names, field))
    return layout


class _FastPageURLs:
    """``Page.get_url_parts``/``full_url`` for rows of ``url_path``: the site root
    paths read once, ``reverse`` once per language (the rest of the path is quoted the
    way ``reverse`` quotes it)."""

    def __init__(self, request):
        self.request = request
        self.roots = Site.get_site_root_paths()
        self.i18n = getattr(settings, "WAGTAIL_I18N_ENABLED", False)
        self.active = translation.get_language()
        self.prefixes: dict = {}
        self._current_site = None

    def current_site(self):
        if self._current_site is None:
            self._current_site = Site.find_for_request(self.request) or False
        return self._current_site

    def prefix(self, language_code):
        if language_code not in self.prefixes:
            try:
                if self.i18n:
                    with translation.override(language_code):
                        self.prefixes[language_code] = reverse("wagtail_serve", args=("",))
                else:
                    self.prefixes[language_code] = reverse("wagtail_serve", args=("",))
            except NoReverseMatch:
                self.prefixes[language_code] = None
        return self.prefixes[language_code]

    def full_url(self, url_path):
        possible = [root for root in self.roots if url_path.startswith(root.root_path)]
        if not possible:
            return None
        _site, root_path, root_url, language_code = possible[0]
        if len({root[0] for root in possible}) > 1 and isinstance(self.request, HttpRequest):
            site = self.current_site()
            if site:
                for values in possible:
                    if values[0] == site.pk:
                        _site, root_path, root_url, language_code = values
                        break
        if self.i18n:
            try:
                if get_supported_content_language_variant(self.active) == language_code:
                    language_code = self.active
            except LookupError:
                pass
        prefix = self.prefix(language_code)
        if prefix is None:
            return None
        page_path = prefix + quote(url_path[len(root_path):], safe=_URL_SAFE)
        if not WAGTAIL_APPEND_SLASH and page_path != "/":
            page_path = page_path.rstrip("/")
        return root_url + page_path


def fast_listing_items(view, queryset, layout):
    """The items Wagtail's listing serializer would write for ``queryset`` (the page of
    rows, filtered, ordered and sliced by Wagtail), read with ``.values()``."""
    request = view.request
    columns = {"id", "content_type_id"}
    for name, _meta, _field in layout:
        if name == "html_url":
            columns.add("url_path")
        elif name == "locale":
            columns.add("locale__language_code")
        elif name not in FAST_SPECIAL_FIELDS:
            columns.add(name)
    has_id = any(name == "id" and not is_meta for name, is_meta, _field in layout)
    urls = _FastPageURLs(request)
    detail_prefix = None
    items = []
    for row in queryset.values(*columns):
        item, meta = {}, {}
        if has_id:
            item["id"] = None  # Wagtail's serializer writes the id first
        for name, is_meta, field in layout:
            if name == "id":
                value = row["id"]
            elif name == "type":
                specific = ContentType.objects.get_for_id(row["content_type_id"]).model_class()
                if specific is None:
                    value = None
                else:
                    value = specific._meta.app_label + "." + specific.__name__
                    view.seen_types[value] = specific
            elif name == "detail_url":
                if detail_prefix is None:
                    detail_prefix = _detail_prefix(view, queryset.model)
                    if detail_prefix is False:
                        return None
                value = f"{detail_prefix}{row['id']}/"
            elif name == "html_url":
                value = urls.full_url(row["url_path"])
            elif name == "locale":
                value = row["locale__language_code"]
            else:
                value = row[name]
                if value is not None:
                    value = field.to_representation(value)
            (meta if is_meta else item)[name] = value
        if meta:
            ordered = {"id": item.pop("id")} if has_id else {}
            ordered["meta"] = meta
            ordered.update(item)
            item = ordered
        items.append(item)
    return items


def _detail_prefix(view, model):
    """``…/api/v2/pages/`` such that a page's detail URL is that plus ``<id>/``, or
    ``False`` (no endpoint for the model, or a URL of another shape)."""
    url = get_object_detail_url(view.request.wagtailapi_router, view.request, model, 0)
    if not url or not url.endswith("/0/"):
        return False
    return url[:-2]


class PublicPagesAPIViewSet(PagesAPIViewSet):
    """Live, public pages only (Wagtail's own filtering); readable without signing in.

    The news listing is what apps poll in an emergency, so its queries are bounded:

    * the queryset (view restrictions, site, its translations: three queries) is built
      once per request, not again for the serializer class, and the serializer context's
      base queryset (only the detail view's ``meta.parent`` reads it) is built on use;
    * ``?type=app.Model`` filters that model's table directly (a join) instead of
      ``pk IN (SELECT … FROM wagtailcore_page …)``, which the pagination's ``COUNT`` and
      the page of rows each evaluated in full;
    * every row's locale (``meta.locale``) is joined, not read once per row;
    * for anonymous visitors the restricted paths, the site's language roots and the
      listing's ``COUNT`` are memoized (``hub.cache.memoize_public``);
    * a listing of one ``type`` with only ``locale``, ``fields``, ``order``, ``limit``
      and ``offset`` whose fields are all plain columns (the default fields, ``date``,
      ``lead``…) is written from ``.values()`` (:func:`fast_listing_items`) instead of
      Wagtail's serializer (a model instance, two ``reverse`` calls and a site lookup
      per row): the same JSON (tests/test_news_api_fast_path.py compares them).  Any
      other parameter (search, ``child_of``, ``format``…) or field takes Wagtail's way.
    """

    permission_classes = [AllowAny]
    pagination_class = MemoizedCountPagination

    def listing_view(self, request):
        if (set(request.GET) - FAST_LISTING_PARAMETERS or not request.GET.get("type")
                or getattr(settings, "HUB_API_FAST_LISTING", True) is False):
            return super().listing_view(request)
        # Wagtail's listing_view, step by step (so errors come in Wagtail's order) …
        queryset = self.get_queryset()
        self.check_query_parameters(queryset)
        queryset = self.filter_queryset(queryset)
        page = self.paginate_queryset(queryset)
        # … with the page of rows written from .values() when its fields allow it.
        layout = _fast_layout(self, queryset.model)
        items = None
        if layout is not None and isinstance(page, QuerySet):
            items = fast_listing_items(self, page, layout)
        if items is None:
            serializer = self.get_serializer(page, many=True)
            items = serializer.data
        return self.get_paginated_response(items)

    def get_base_queryset(self):
        if not hasattr(self, "_hub_base_queryset"):
            try:
                self._hub_base_queryset = public_pages(self.request)
            except ValueError as e:
                raise BadRequestError(str(e)) from e
        return self._hub_base_queryset

    def get_serializer_context(self):
        context = BaseAPIViewSet.get_serializer_context(self)
        context["base_queryset"] = SimpleLazyObject(self.get_base_queryset)
        return context

    def get_queryset(self):
        if not hasattr(self, "_hub_queryset"):
            self._hub_queryset = self._build_queryset()
        return self._hub_queryset

    def _build_queryset(self):
        try:
            models_type = self.request.GET.get("type")
            models = page_models_from_string(models_type) if models_type else []
        except (LookupError, ValueError) as e:
            raise BadRequestError("type doesn't exist") from e
        if len(models) == 1:
            try:
                queryset = public_pages(self.request, model=models[0])
            except ValueError as e:
                raise BadRequestError(str(e)) from e
        else:
            queryset = super().get_queryset()
        return queryset.select_related("locale")


class PublicImagesAPIViewSet(ImagesAPIViewSet):
    permission_classes = [AllowAny]


class PublicDocumentsAPIViewSet(DocumentsAPIViewSet):
    permission_classes = [AllowAny]


api_router = WagtailAPIRouter("wagtailapi")
api_router.register_endpoint("pages", PublicPagesAPIViewSet)
api_router.register_endpoint("images", PublicImagesAPIViewSet)
api_router.register_endpoint("documents", PublicDocumentsAPIViewSet)
