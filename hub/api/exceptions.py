"""Every API error is JSON naming the problem, never an HTML page or a 500."""

from __future__ import annotations

import logging

from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from django.utils.translation import gettext
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

logger = logging.getLogger(__name__)


def exception_handler(exc, context):
    if isinstance(exc, ValidationError):
        detail = exc.message_dict if hasattr(exc, "error_dict") else {"detail": exc.messages}
        exc = exceptions.ValidationError(detail)
    response = drf_exception_handler(exc, context)
    if isinstance(exc, exceptions.AuthenticationFailed) and response is not None:
        _answer_401(response, context)
    if response is None:
        if isinstance(exc, (Http404, PermissionDenied)):
            return None  # already handled by DRF above
        logger.exception("Unhandled API error", exc_info=exc)
        return Response(
            {"detail": gettext("Internal error; it has been logged.")},
            status=status.HTTP_500_INTERNAL_SERVER_ERROR,
        )
    return response


def _answer_401(response, context) -> None:
    """Credentials were sent and refused (a bad or revoked token): 401 with the scheme.

    DRF takes ``WWW-Authenticate`` from the *first* authentication class only; session
    authentication comes first for the web and has none, so DRF would answer 403 and an
    app could not tell "sign in again" from "not allowed". Any configured scheme that
    names itself (token today, OAuth2 bearer later) turns the answer into a 401.
    """
    if response.status_code != status.HTTP_403_FORBIDDEN:
        return
    request = context.get("request")
    for authenticator in getattr(request, "authenticators", None) or ():
        header = authenticator.authenticate_header(request)
        if header:
            response.status_code = status.HTTP_401_UNAUTHORIZED
            response["WWW-Authenticate"] = header
            return
