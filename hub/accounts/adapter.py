"""allauth adapter: language of account emails, safe redirects, staff MFA."""

from allauth.account.adapter import DefaultAccountAdapter
from django.utils.http import url_has_allowed_host_and_scheme

from hub.i18n import current_language


class CitySite:
    """The site as the account emails name it: the city's name from ``SiteSettings``,
    the host the visitor used as its domain."""

    def __init__(self, site):
        from hub.models import SiteSettings

        self.name = SiteSettings.current().city_name
        self.domain = getattr(site, "domain", "")

    def __str__(self):
        return self.name


class AccountAdapter(DefaultAccountAdapter):
    def is_safe_url(self, url):
        """Only same-host redirects after sign-in: no open redirect through ``?next=``."""
        request = self.request
        return bool(url) and url_has_allowed_host_and_scheme(
            url,
            allowed_hosts={request.get_host()} if request else set(),
            require_https=request.is_secure() if request else False,
        )

    def pre_authenticate(self, request, **credentials):
        """django-axes decides first: a locked-out login gets axes' lockout page (429,
        the same for every address) even when allauth's own, looser ``login_failed``
        rate limit — kept for attacks spread over many addresses — would answer with a
        form error instead."""
        from axes.handlers.proxy import AxesProxyHandler

        if request is not None and not AxesProxyHandler.is_allowed(request, credentials):
            request.axes_locked_out = True  # AxesMiddleware swaps in the lockout page
            raise self.validation_error("too_many_login_attempts")
        super().pre_authenticate(request, **credentials)

    def save_user(self, request, user, form, commit=True):
        """New accounts start in the language the visitor signed up in."""
        user = super().save_user(request, user, form, commit=False)
        user.preferred_language = current_language()
        if commit:
            user.save()
        return user

    def send_mail(self, template_prefix, email, context):
        """Render the email as allauth does, then send it from a task (``hub.accounts.
        mail``): a mail server down never makes sign-up or a password reset fail."""
        from allauth.core import context as allauth_context
        from django.contrib.sites.shortcuts import get_current_site

        from hub.accounts import mail

        request = allauth_context.request
        ctx = {"request": request, "email": email,
               "current_site": get_current_site(request)}
        ctx.update(context)
        # The emails name the city (SiteSettings), not the host ("c'est 127.0.0.1:8000").
        ctx["current_site"] = CitySite(ctx.get("current_site") or get_current_site(request))
        mail.queue(self.render_mail(template_prefix, email, ctx), request)

    def get_logout_redirect_url(self, request):
        """Back to the home page in the language the visitor was using."""
        return f"/{current_language()}/"


def axes_username(request, credentials=None) -> str | None:
    """The identifier django-axes counts failures against (``AXES_USERNAME_CALLABLE``).

    allauth's login form posts ``login`` but calls ``authenticate(email=…)``; Django's
    admin and DRF use ``username``.  Lower-cased so the case of an address does not
    reset the count.
    """
    value = None
    for key in ("login", "email", "username"):
        if credentials and credentials.get(key):
            value = credentials[key]
            break
    if value is None and request is not None:
        data = getattr(request, "data", None) or getattr(request, "POST", {})
        for key in ("login", "email", "username"):
            if data.get(key):
                value = data[key]
                break
    return value.strip().lower() if isinstance(value, str) else value
