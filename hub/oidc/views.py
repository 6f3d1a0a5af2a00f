"""The consent screen and the resident's list of services they granted access to."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db import transaction
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods
from oauth2_provider import views as oauth_views
from oauth2_provider.models import get_access_token_model, get_refresh_token_model

from hub.plugins.manager import collect

from .scopes import describe


class AuthorizationView(oauth_views.AuthorizationView):
    """The toolkit's authorization endpoint with the hub's consent template; trusted
    first-party services (``skip_authorization`` on the client) skip the consent."""

    template_name = "oauth2_provider/authorize.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        scopes = (context.get("scopes") or "").split() if isinstance(
            context.get("scopes"), str) else list(context.get("scopes") or [])
        context["scope_descriptions"] = describe(scopes)
        return context


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
