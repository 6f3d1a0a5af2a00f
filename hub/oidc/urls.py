"""The provider's endpoints under ``/o/`` (namespace ``oauth2_provider``, which the
toolkit's views reverse).  Client management is in the Wagtail admin, not here; the
device flow and dynamic client registration are not offered.

The RFC 8414 metadata document is served under the issuer (``/o/``): the toolkit derives
the RFC 9207 ``iss`` of every authorization response from that route, so ``iss`` is the
issuer discovery publishes (``https://host/o``), not the bare origin."""

from django.urls import path, re_path
from oauth2_provider import views
from oauth2_provider.views.metadata import OAuthServerMetadataView

from . import views as hub_views

app_name = "oauth2_provider"

urlpatterns = [
    path("authorize/", hub_views.AuthorizationView.as_view(), name="authorize"),
    path("token/", views.TokenView.as_view(), name="token"),
    path("revoke_token/", views.RevokeTokenView.as_view(), name="revoke-token"),
    path("introspect/", views.IntrospectTokenView.as_view(), name="introspect"),
    re_path(r"^\.well-known/openid-configuration/?$", views.ConnectDiscoveryInfoView.as_view(),
            name="oidc-connect-discovery-info"),
    path(".well-known/oauth-authorization-server", OAuthServerMetadataView.as_view(),
         name="oauth-server-metadata"),
    path(".well-known/jwks.json", views.JwksInfoView.as_view(), name="jwks-info"),
    path("userinfo/", hub_views.UserInfoView.as_view(), name="user-info"),
    path("logout/", views.RPInitiatedLogoutView.as_view(), name="rp-initiated-logout"),
]
