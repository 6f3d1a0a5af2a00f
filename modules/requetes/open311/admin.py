"""Admin screens where administrators issue and revoke Open311 API keys.

A key is shown once, on the page that answers its creation, and never again: only its
SHA-256 is stored (``services.issue_api_key``).  The page answering the creation is not
cached, and the key is not put in the session or a message, so it does not outlive
that answer."""

from __future__ import annotations

from django import forms
from django.core.exceptions import PermissionDenied, ValidationError
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import path, reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.cache import never_cache
from wagtail.admin import messages
from wagtail.admin.auth import permission_denied
from wagtail.admin.menu import MenuItem
from wagtail.admin.viewsets.base import ViewSet

from .. import services
from ..models import Open311ApiKey


class ApiKeyForm(forms.Form):
    name = forms.CharField(label=gettext_lazy("Client"), max_length=120,
                           help_text=gettext_lazy("The application or partner that will "
                                                  "use the key."))
    contact_email = forms.EmailField(label=gettext_lazy("Contact email"), required=False)
    can_post_updates = forms.BooleanField(
        label=gettext_lazy("May post request updates"), required=False,
        help_text=gettext_lazy("Only for a back-office system that sends status updates "
                               "(servicerequestupdates); it acts with your rights."))


def _administrators_only(view):
    def wrapped(request, *args, **kwargs):
        if not services.is_administrator(request.user):
            return permission_denied(request)
        return view(request, *args, **kwargs)
    wrapped.__name__ = view.__name__
    wrapped.__doc__ = view.__doc__
    return wrapped


@_administrators_only
def index(request):
    keys = Open311ApiKey.objects.select_related("created_by").order_by("-active", "name")
    return render(request, "requetes/open311/keys.html", {
        "page_title": _("Open311 API keys"), "header_icon": "key", "keys": keys})


@never_cache
@_administrators_only
def create(request):
    form = ApiKeyForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            key, raw = services.issue_api_key(actor=request.user, **form.cleaned_data)
        except ValidationError as error:
            for field, errors in error.message_dict.items():
                for message in errors:
                    form.add_error(field if field in form.fields else None, message)
        except PermissionDenied:
            return permission_denied(request)
        else:
            return render(request, "requetes/open311/key_created.html", {
                "page_title": _("Key issued for %(name)s") % {"name": key.name},
                "header_icon": "key", "key": key, "raw_key": raw})
    return render(request, "requetes/open311/key_form.html", {
        "page_title": _("Issue an Open311 API key"), "header_icon": "key", "form": form})


@_administrators_only
def deactivate(request, pk):
    if request.method != "POST":
        return render(request, "requetes/open311/method_not_allowed.html", {
            "page_title": _("Open311 API keys"), "header_icon": "key"}, status=405)
    key = get_object_or_404(Open311ApiKey, pk=pk)
    services.deactivate_api_key(key, actor=request.user)
    messages.success(request, _("The key of %(name)s is revoked: its client can no longer "
                                "submit.") % {"name": key.name})
    return redirect("requetes_open311_keys:index")


class _AdministratorMenuItem(MenuItem):
    def is_shown(self, request):
        return services.is_administrator(request.user)


class ApiKeyViewSet(ViewSet):
    name = "requetes_open311_keys"
    url_prefix = "open311-cles"
    icon = "key"
    menu_label = gettext_lazy("Open311 API keys")
    menu_order = 820
    add_to_settings_menu = True

    @property
    def menu_url(self):
        return reverse("requetes_open311_keys:index")

    def get_menu_item(self, order=None):
        return _AdministratorMenuItem(self.menu_label, self.menu_url, name=self.menu_name,
                                      icon_name=self.menu_icon,
                                      order=order if order is not None else self.menu_order)

    def get_urlpatterns(self):
        return [
            path("", index, name="index"),
            path("nouvelle/", create, name="create"),
            path("<int:pk>/revoquer/", deactivate, name="deactivate"),
        ]
