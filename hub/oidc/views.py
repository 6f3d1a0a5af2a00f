"""The consent screen and the resident's list of services they granted access to."""

import functools
import re
from urllib.parse import parse_qs, urlsplit

from django.contrib import messages
from django.contrib.auth.decorators import login_not_required, login_required
from django.db import transaction
from django.http import JsonResponse
from django.shortcuts import redirect, render
from django.utils.decorators import method_decorator
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods
from oauth2_provider import views as oauth_views
from oauth2_provider.models import get_access_token_model, get_refresh_token_model

from hub.plugins.manager import collect

from .scopes import describe

_HOST = re.compile(r"^([0-9a-fA-F:.]+|[A-Za-z0-9.-]+)$")
_NEVER_SCHEMES = {"javascript", "data", "vbscript", "blob", "filesystem", "file"}
_SCHEME = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*$")


def form_action_source(redirect_uri) -> str | None:
    """The CSP source expression matching ``redirect_uri``'s origin: ``scheme://host[:port]``
    for a web address, ``scheme:`` for an app's private-use scheme (RFC 8252, e.g.
    ``ca.valleyfield.espacecitoyen:/callback``); ``None`` when it cannot be expressed
    safely (nothing that could inject another directive goes into the header)."""
    if not redirect_uri or not isinstance(redirect_uri, str):
        return None
    try:
        parts = urlsplit(redirect_uri)
        port = parts.port
    except ValueError:
        return None
    scheme = parts.scheme.lower()
    if not _SCHEME.match(scheme):
        return None
    if scheme in _NEVER_SCHEMES:
        return None
    if scheme not in ("http", "https"):
        return f"{scheme}:"
    host = parts.hostname or ""
    if not _HOST.match(host):
        return None
    if ":" in host:
        host = f"[{host}]"
    return f"{scheme}://{host}" + (f":{port}" if port else "")


def authorization_request_source(next_url) -> str | None:
    """When ``next_url`` is this provider's authorization request for a registered
    client and one of its registered redirect URIs, that URI's CSP source; else None."""
    from django.urls import reverse
    from oauth2_provider.models import get_application_model

    if not next_url or not isinstance(next_url, str):
        return None
    try:
        parts = urlsplit(next_url)
    except ValueError:
        return None
    if parts.scheme or parts.netloc or parts.path != reverse("oauth2_provider:authorize"):
        return None
    params = parse_qs(parts.query)
    client_id = (params.get("client_id") or [""])[0]
    redirect_uri = (params.get("redirect_uri") or [""])[0]
    if not client_id or not redirect_uri:
        return None
    application = get_application_model().objects.filter(client_id=client_id).first()
    if application is None or not application.redirect_uri_allowed(redirect_uri):
        return None
    return form_action_source(redirect_uri)


def with_authorization_form_action(view):
    """Wrap the sign-in view: when its ``next`` is an authorization request, the answer to
    the login form is a chain of redirects ending on the client's ``redirect_uri`` (at
    once for a trusted client or an earlier consent), and the browser checks the sign-in
    page's CSP ``form-action`` against every step of it.  The page then also allows the
    origin of that client's registered ``redirect_uri``, and nothing else."""

    @functools.wraps(view)
    def wrapped(request, *args, **kwargs):
        response = view(request, *args, **kwargs)
        source = authorization_request_source(request.GET.get("next"))
        if source:
            response._csp_update = {"form-action": [source]}
        return response

    return wrapped


class AuthorizationView(oauth_views.AuthorizationView):
    """The toolkit's authorization endpoint with the hub's consent template; trusted
    first-party services (``skip_authorization`` on the client) skip the consent."""

    template_name = "oauth2_provider/authorize.html"

    def render_to_response(self, context, **response_kwargs):
        """The consent form posts to the hub, which answers with a redirect to the
        client's ``redirect_uri``; browsers apply the page's CSP ``form-action`` to that
        redirect too, and ``'self'`` alone blocks it ("Accepter" does nothing).  So the
        consent page allows one more form target: the origin of the ``redirect_uri`` the
        toolkit has just validated against this client's registered URIs."""
        response = super().render_to_response(context, **response_kwargs)
        source = form_action_source(context.get("redirect_uri"))
        if source and context.get("application") is not None and not context.get("error"):
            response._csp_update = {"form-action": [source]}
        return response

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        scopes = (context.get("scopes") or "").split() if isinstance(
            context.get("scopes"), str) else list(context.get("scopes") or [])
        context["scope_descriptions"] = describe(scopes)
        return context


@method_decorator(csrf_exempt, name="dispatch")  # as the toolkit's: overriding dispatch
@method_decorator(login_not_required, name="dispatch")  # drops what it decorated
class UserInfoView(oauth_views.UserInfoView):
    """Userinfo with the bearer token in the ``Authorization`` header (or, RFC 6750 §2.2,
    the form body of a POST); never in the URL.

    RFC 6750 §2.3 (``?access_token=``) is optional and puts the token in every access log,
    proxy log and browser history on the way: such a request is refused with a Bearer
    challenge, whether or not a header came with it, before the token is even looked
    up.  The form body stays allowed (OpenID Connect Core §5.3.1 points to RFC 6750 §2):
    it is not logged, and some server-side libraries still send it."""

    QUERY_STRING_CHALLENGE = (
        'Bearer realm="oidc", error="invalid_request", error_description="Send the access '
        'token in the Authorization header, not in the URL (RFC 6750 section 2.3 is not '
        'supported)"')

    def dispatch(self, request, *args, **kwargs):
        if "access_token" in request.GET:
            response = JsonResponse({"error": "invalid_request", "error_description":
                                     "access_token in the query string is not accepted"},
                                    status=401)
            response["WWW-Authenticate"] = self.QUERY_STRING_CHALLENGE
            response["Cache-Control"] = "no-store"
            return response
        return super().dispatch(request, *args, **kwargs)


def granted_applications(user):
    """Services holding a live token for ``user``, each with the scopes granted and, when
    a module knows the client (``hub_oauth_client_services``), the city service it is."""
    tokens = (get_access_token_model().objects.filter(user=user)
              .select_related("application").order_by("application__name"))
    grants: dict = {}
    for token in tokens:
        if token.application is None:
            continue
        entry = grants.setdefault(token.application.pk, {"application": token.application,
                                                         "scopes": set()})
        entry["scopes"].update(token.scope.split())
    for entry in grants.values():
        entry["scope_descriptions"] = describe(sorted(entry["scopes"]))
    if grants:
        for service in collect("hub_oauth_client_services", application_ids=list(grants)):
            entry = grants.get(service.get("application_id"))
            if entry is not None and "service" not in entry:
                entry["service"] = service
    return list(grants.values())


@transaction.atomic
def revoke_application(user, application_id) -> int:
    """Revoke every token ``user`` gave to the client; returns how many were revoked."""
    access = get_access_token_model().objects.filter(user=user, application_id=application_id)
    refresh = get_refresh_token_model().objects.filter(user=user,
                                                       application_id=application_id)
    count = access.count() + refresh.count()
    for token in refresh:
        token.revoke()
    access.delete()
    return count


@never_cache
@login_required
@require_http_methods(["GET", "POST"])
def authorized_services(request):
    if request.method == "POST":
        application_id = request.POST.get("application", "")
        if not application_id.isdigit() or not revoke_application(request.user,
                                                                   int(application_id)):
            messages.error(request, _("This service has no access to your account."))
        else:
            messages.success(request, _("The service can no longer use your account."))
        return redirect("hub:authorized_services")
    return render(request, "hub/account/authorized_services.html",
                  {"grants": granted_applications(request.user)})
