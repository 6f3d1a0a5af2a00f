"""Root URLconf.  Module URLs and API routes come from hooks; nothing here names a module.

Rebuilt (``importlib.reload``) when ``HUB_DISABLED_MODULES`` changes, see hub.signals.
"""

from allauth.account import views as allauth_views
from django.conf import settings
from django.conf.urls.i18n import i18n_patterns
from django.urls import include, path, re_path
from django.views.i18n import set_language
from drf_spectacular.views import SpectacularAPIView
from oauth2_provider.views import ConnectDiscoveryInfoView
from wagtail import urls as wagtail_urls
from wagtail.admin import urls as wagtailadmin_urls
from wagtail.documents import urls as wagtaildocs_urls

from hub.api import views as api_views
from hub.api.router import build_api_urls
from hub.api.wagtail_api import api_router as wagtail_api_router
from hub.oidc import views as oidc_views
from hub.plugins.manager import collect
from hub.views import account as account_views
from hub.views import addresses as address_views
from hub.views import errors
from hub.views import health as health_views
from hub.views import pages as page_views
from hub.views import search as search_views
from hub.views.dashboard import MonEspaceView

handler400 = errors.bad_request
handler403 = errors.permission_denied
handler404 = errors.page_not_found
handler500 = errors.server_error

hub_patterns = (
    [
        path("mon-espace/", MonEspaceView.as_view(), name="mon_espace"),
        path("recherche/", search_views.search_page, name="search"),
        path("adresses/suggestions/", address_views.suggestions, name="address_suggestions"),
        path("compte/profil/", account_views.profile, name="profile"),
        path("compte/confidentialite/", account_views.privacy, name="privacy"),
        path("compte/confidentialite/export.json", account_views.export_data,
             name="export_data"),
        path("compte/supprimer/", account_views.delete_account, name="delete_account"),
        path("compte/services-autorises/", oidc_views.authorized_services,
             name="authorized_services"),
    ],
    "hub",
)

urlpatterns = [
    path("health/", health_views.probe, name="health"),
    path("health/detail/", health_views.detail, name="health_detail"),
    path("o/", include("hub.oidc.urls")),
    path(".well-known/openid-configuration", ConnectDiscoveryInfoView.as_view(),
         name="oidc_discovery"),
    path("admin/login/", account_views.admin_login, name="admin_login"),
    path("admin/", include(wagtailadmin_urls)),
    path("documents/", include(wagtaildocs_urls)),
    path("api/v1/", include(build_api_urls())),
    path("api/v2/", wagtail_api_router.urls),
    path("api/schema/", SpectacularAPIView.as_view(), name="api_schema"),
    path("api/docs/", api_views.ApiDocsView.as_view(url_name="api_schema"), name="api_docs"),
    # Where the docs' "Authorize" button comes back after signing in (Swagger UI's default
    # oauth2RedirectUrl, next to the page): Swagger UI's redirect page, local script.
    path("api/docs/oauth2-redirect.html", api_views.swagger_oauth2_redirect,
         name="api_docs_oauth2_redirect"),
    path("i18n/setlang/", set_language, name="set_language"),
    # The demo partner service (development only: 404 unless HUB_DEMO_PARTNER)
    path("partenaire-demo/", include("hub.demo_partner")),
    *collect("hub_root_urlpatterns"),
    re_path(r"^(?:api|open311)/", api_views.not_found, name="api_not_found"),
]

urlpatterns += i18n_patterns(
    path("", include(hub_patterns)),
    # allauth's sign-in, whose CSP form-action lets an OIDC sign-in reach its client
    path("compte/login/", oidc_views.with_authorization_form_action(
        allauth_views.login)),
    path("compte/", include("allauth.urls")),
    *collect("hub_urlpatterns"),
    path("", include([
        *[pattern for pattern in wagtail_urls.urlpatterns
          if getattr(pattern, "name", None) != "wagtail_serve"],
        # Wagtail's serve, its localized root read in one query (hub.views.pages)
        re_path(wagtail_urls.serve_pattern, page_views.serve, name="wagtail_serve"),
    ])),
    prefix_default_language=True,
)

if settings.DEBUG:
    from django.conf.urls.static import static

    urlpatterns += static(settings.MEDIA_URL, document_root=settings.MEDIA_ROOT)

