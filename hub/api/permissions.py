"""Scopes restrict what an OAuth2 bearer token may do on ``/api/v1/``.

A view declares ``required_scopes`` (a list, or a dict by HTTP method, ``"*"`` for the
other methods); a request authenticated with an OAuth2 access token must hold all of
them.  An entry that is a tuple is satisfied by any one of its scopes (a public list
that any token of the module may read: ``[("requetes:read", "requetes:write")]``).
A view that declares none cannot be used with an OAuth2 token at all: access is
opt-in, module by module.
Session and app-token requests are not affected (they act as the signed-in user).
"""

from oauth2_provider.models import AbstractAccessToken
from rest_framework.permissions import BasePermission


def view_scopes(view, method: str) -> list[str] | None:
    scopes = getattr(view, "required_scopes", None)
    if isinstance(scopes, dict):
        return scopes.get(method, scopes.get("*"))
    return scopes


class OAuth2TokenHasViewScopes(BasePermission):
    message = "This access token does not have the scope this route requires."

    def has_permission(self, request, view):
        token = request.auth
        if not isinstance(token, AbstractAccessToken):
            return True
        if request.method.upper() not in getattr(view, "allowed_methods", ()):
            return True  # the view answers 405 Method Not Allowed, with a token too
        required = view_scopes(view, request.method)
        if not required or not token.is_valid():
            return False
        held = set(token.scope.split())
        return all(held.intersection(scope) if isinstance(scope, tuple) else scope in held
                   for scope in required)
