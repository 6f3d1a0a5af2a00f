"""Profile, privacy (export) and account deletion pages."""

import json
import logging

from django.contrib import messages
from django.contrib.auth import logout
from django.contrib.auth.decorators import login_required
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods

from hub.accounts import services
from hub.accounts.forms import DeleteAccountForm, ProfileForm

logger = logging.getLogger(__name__)


@never_cache
@login_required
@require_http_methods(["GET", "POST"])
def profile(request):
    form = ProfileForm(request.POST if request.method == "POST" else None,
                       instance=request.user)
    if request.method == "POST" and form.is_valid():
        user = form.save()
        messages.success(request, _("Your profile has been saved."))
        with translation.override(user.preferred_language):
            return redirect("hub:profile")
    return render(request, "hub/account/profile.html", {"form": form},
                  status=400 if form.errors else 200)


@never_cache
@login_required
@require_GET
def privacy(request):
    return render(request, "hub/account/privacy.html")


@never_cache
@login_required
@require_GET
def export_data(request):
    data = services.export_user_data(request.user)
    response = HttpResponse(
        json.dumps(data, ensure_ascii=False, indent=2, default=str),
        content_type="application/json; charset=utf-8",
    )
    stamp = timezone.now().strftime("%Y%m%d")
    response["Content-Disposition"] = f'attachment; filename="espace-citoyen-{stamp}.json"'
    return response


@never_cache
@login_required
@require_http_methods(["GET", "POST"])
def delete_account(request):
    form = DeleteAccountForm(request.POST if request.method == "POST" else None,
                             user=request.user)
    if request.method == "POST" and form.is_valid():
        user = request.user
        try:
            services.delete_account(user)
        except Exception:
            # A module could not erase its data: the transaction rolled everything back,
            # the account is intact and the citizen stays signed in and is told so.
            logger.exception("Deletion of account %s failed; nothing was deleted", user.pk)
            form.add_error(None, _(
                "Your account has not been deleted: one of our services could not erase "
                "your data. Nothing was changed. Please try again later or call the city."
            ))
            return render(request, "hub/account/delete.html", {"form": form})
        logout(request)
        messages.success(request, _("Your account and your personal data have been deleted."))
        return redirect("/")
    return render(request, "hub/account/delete.html", {"form": form},
                  status=400 if form.errors else 200)


def lockout(request, credentials=None, *args, **kwargs):
    """django-axes lockout answer: the same message whether the account exists or not."""
    return render(request, "hub/account/lockout.html", status=429)


def admin_login(request):
    """Wagtail's password-only login form is replaced by the one sign-in (allauth), so
    email verification, lockout and MFA apply to staff too."""
    from django.conf import settings
    from django.utils.http import url_has_allowed_host_and_scheme, urlencode

    next_url = request.GET.get("next", "/admin/")
    if not url_has_allowed_host_and_scheme(next_url, allowed_hosts={request.get_host()}):
        next_url = "/admin/"
    if request.user.is_authenticated:
        return redirect(next_url)
    return redirect(f"{settings.WAGTAILADMIN_LOGIN_URL}?{urlencode({'next': next_url})}")
