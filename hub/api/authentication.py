"""OAuth2 bearer tokens on ``/api/v1/`` as RFC 6750 has them.

django-oauth-toolkit's ``OAuth2Authentication`` treats a bad, expired or revoked token
as no credentials at all: the request goes on anonymous, a public route answers as if
no token had been sent and a protected one answers like a missing sign-in.  An app
cannot tell "refresh your token" from anything else.  Here a request that *presents* a
bearer token which does not verify is refused at once (``invalid_token``); the
answer's status and ``WWW-Authenticate`` are set by ``hub.api.exceptions``.
"""

from __future__ import annotations

from django.utils.translation import gettext as _
from oauth2_provider.contrib.rest_framework import OAuth2Authentication
from rest_framework import exceptions

REALM = "api"


def presents_bearer(request) -> bool:
    header = request.META.get("HTTP_AUTHORIZATION", "")
    return header.split(" ", 1)[0].lower() == "bearer"


class InvalidBearerToken(exceptions.AuthenticationFailed):
    """A bearer token was sent and did not verify (RFC 6750 ``invalid_token``)."""

    def __init__(self, description: str = ""):
        super().__init__(_("The access token is invalid, expired or revoked."))
        self.description = description


class BearerTokenAuthentication(OAuth2Authentication):
    www_authenticate_realm = REALM

    def authenticate(self, request):
        result = super().authenticate(request)
        if result is None and presents_bearer(request):
            error = getattr(request, "oauth2_error", None) or {}
            raise InvalidBearerToken(str(error.get("error_description", "")))
        # The toolkit does not look at the account: a deactivated resident's tokens would
        # go on working until they expire (and be refreshed).
        if result is not None and not result[0].is_active:
            raise InvalidBearerToken("The account is deactivated.")
        return result


# The schema documents these tokens as drf-spectacular documents the toolkit's own class
# (an OAuth2 security scheme with the scopes); without it `make schema` fails on warnings.
from drf_spectacular.contrib.django_oauth_toolkit import (  # noqa: E402
    DjangoOAuthToolkitScheme,
)


class BearerTokenScheme(DjangoOAuthToolkitScheme):
    """The ``oauth2`` scheme with the provider's one flow for apps (authorization code with
    PKCE, its URLs in ``SPECTACULAR_SETTINGS``) and every scope ``hub.oidc.scopes`` knows,
    their descriptions in the schema's language."""

    target_class = "hub.api.authentication.BearerTokenAuthentication"

    def get_security_requirement(self, auto_schema):
        """The scopes the operation's ``required_scopes`` ask of a token
        (``hub.api.permissions``): a tuple is "any one of", so each choice is one
        alternative requirement.  A view without scopes takes no token: no requirement."""
        from itertools import product

        from .permissions import view_scopes

        required = view_scopes(auto_schema.view, auto_schema.method)
        if not required:
            return None
        choices = [scope if isinstance(scope, tuple) else (scope,) for scope in required]
        return [{self.name: list(dict.fromkeys(pick))} for pick in product(*choices)]

    def get_security_definition(self, auto_schema):
        definition = super().get_security_definition(auto_schema)
        for flow in definition["flows"].values():
            flow["scopes"] = {str(name): str(text) for name, text in flow["scopes"].items()}
        return definition
