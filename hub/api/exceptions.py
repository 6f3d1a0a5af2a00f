"""Every API error is JSON naming the problem, never an HTML page or a 500."""

from __future__ import annotations

import logging

from django.core.exceptions import (
    PermissionDenied,
    ValidationError,
)
from django.http import Http404
from django.utils.translation import gettext
from oauth2_provider.models import AbstractAccessToken
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from hub.api.authentication import REALM, InvalidBearerToken
from hub.api.permissions import view_scopes
from hub.request_limits import body_refusal

logger = logging.getLogger(__name__)


def exception_handler(exc, context):
    refusal = body_refusal(exc)
    if refusal is not None:
        return Response({"detail": refusal[1]}, status=refusal[0])
    if isinstance(exc, ValidationError):
        detail = exc.message_dict if hasattr(exc, "error_dict") else {"detail": exc.messages}
        exc = exceptions.ValidationError(detail)
    response = drf_exception_handler(exc, context)
    if isinstance(exc, (exceptions.AuthenticationFailed, exceptions.NotAuthenticated)) \
            and response is not None:
        _answer_401(response, context, exc)
    elif isinstance(exc, exceptions.PermissionDenied) and response is not None:
        _answer_insufficient_scope(response, context)
    if response is None:
        if isinstance(exc, (Http404, PermissionDenied)):
            return None  # already handled by DRF above
        logger.exception("Unhandled API error", exc_info=exc)
        return Response(
            {"detail": gettext("Internal error; it has been logged.")},
            status=status.HTTP_500_INTERNAL_SERVER_ERROR,
        )
    return response


def _quoted(value: str) -> str:
    return '"' + str(value).replace("\\", "\\\\").replace('"', '\\"') + '"'


def _challenge(**params: str) -> str:
    """``Bearer realm="api", error="…"`` (RFC 6750 §3)."""
    parts = [f"{name}={_quoted(value)}" for name, value in
             {"realm": REALM, **params}.items() if value]
    return "Bearer " + ", ".join(parts)


def _answer_401(response, context, exc) -> None:
    """Refused or missing credentials: 401 with a challenge (RFC 6750 §3).

    DRF takes ``WWW-Authenticate`` from the *first* authentication class only; session
    authentication comes first for the web and has none, so DRF answers 403 and an app
    cannot tell "sign in again" or "refresh your token" from "not allowed":

    - a bearer token that does not verify (bad, expired, revoked): ``invalid_token``;
    - no credentials at all: a plain ``Bearer`` challenge;
    - another scheme refused (an app token): that scheme's own challenge.

    A session's CSRF failure is a ``PermissionDenied``, not handled here: it stays 403.
    """
    request = context.get("request")
    if isinstance(exc, InvalidBearerToken):
        header = _challenge(error="invalid_token", error_description=exc.description)
    elif isinstance(exc, exceptions.NotAuthenticated):
        header = _challenge()
    else:
        header = ""
        for authenticator in getattr(request, "authenticators", None) or ():
            header = authenticator.authenticate_header(request)
            if header:
                break
    if header:
        response.status_code = status.HTTP_401_UNAUTHORIZED
        response["WWW-Authenticate"] = header


def _answer_insufficient_scope(response, context) -> None:
    """A valid bearer token without the route's scope: 403 that says which scope
    (RFC 6750 ``insufficient_scope``)."""
    request, view = context.get("request"), context.get("view")
    if request is None or not isinstance(getattr(request, "auth", None), AbstractAccessToken):
        return
    required = view_scopes(view, request.method) or []
    names = []
    for scope in required:
        names.extend(scope if isinstance(scope, tuple) else (scope,))
    response["WWW-Authenticate"] = _challenge(error="insufficient_scope",
                                              scope=" ".join(names))
