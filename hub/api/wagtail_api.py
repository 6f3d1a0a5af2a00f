"""Wagtail API v2 (``/api/v2/``): pages (``?locale=en``), images and documents."""

from django.conf import settings
from django.db.models import Q
from django.utils.functional import SimpleLazyObject
from rest_framework.permissions import AllowAny
from wagtail.api.querysets import get_public_pages_queryset
from wagtail.api.v2.pagination import WagtailPagination
from wagtail.api.v2.router import WagtailAPIRouter
from wagtail.api.v2.utils import BadRequestError, page_models_from_string
from wagtail.api.v2.views import BaseAPIViewSet, PagesAPIViewSet
from wagtail.documents.api.v2.views import DocumentsAPIViewSet
from wagtail.images.api.v2.views import ImagesAPIViewSet
from wagtail.models import Page, PageViewRestriction, Site

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
      listing's ``COUNT`` are memoized (``hub.cache.memoize_public``).
    """

    permission_classes = [AllowAny]
    pagination_class = MemoizedCountPagination

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
