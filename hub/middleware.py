"""Security headers that every response inherits.

Django's SecurityMiddleware sets HSTS (production), nosniff, Referrer-Policy and
Cross-Origin-Opener-Policy; django-csp sets the nonce-based policy of public pages.  This
middleware adds what neither does, and swaps in the relaxed policy on the admin, whose
scripts and styles are not nonced by Wagtail.
"""

from __future__ import annotations

import time
import weakref
from urllib.parse import urlencode

from django.conf import settings
from django.contrib import messages
from django.middleware.locale import LocaleMiddleware
from django.shortcuts import redirect
from django.urls import reverse
from django.utils import translation
from django.utils.cache import patch_vary_headers
from django.utils.translation import gettext as _

ADMIN_PREFIXES = ("/admin/", "/django-admin/")
API_DOCS_PREFIXES = ("/api/docs/", "/api/redoc/")

# Wagtail's admin needs inline styles and scripts and data:/blob: images.
ADMIN_CSP = {
    "default-src": ["'self'"],
    "script-src": ["'self'", "'unsafe-inline'", "'unsafe-eval'"],
    "style-src": ["'self'", "'unsafe-inline'"],
    "img-src": ["'self'", "data:", "blob:"],
    "font-src": ["'self'", "data:"],
    "connect-src": ["'self'"],
    "frame-src": ["'self'"],
    "object-src": ["'none'"],
    "base-uri": ["'self'"],
    "form-action": ["'self'"],
    "frame-ancestors": ["'self'"],  # the page preview is an iframe of the admin
}

# Swagger UI (served from the sidecar) bootstraps with an inline script.
API_DOCS_CSP = {
    "default-src": ["'self'"],
    "script-src": ["'self'", "'unsafe-inline'"],
    "style-src": ["'self'", "'unsafe-inline'"],
    "img-src": ["'self'", "data:"],
    "object-src": ["'none'"],
    "base-uri": ["'none'"],
    "frame-ancestors": ["'none'"],
}


class SecurityHeadersMiddleware:
    """Listed after django-csp's middleware so its response hook runs first."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        path = request.path_info
        if path.startswith(ADMIN_PREFIXES):
            response._csp_config = ADMIN_CSP
        elif path.startswith(API_DOCS_PREFIXES):
            response._csp_config = API_DOCS_CSP
        # django-csp puts a nonce in the header only when the page used one (an inline
        # script, a script tag naming it); other pages get ``script-src 'self'``.  A page
        # with a nonce is never stored by the public cache (hub.cache), so no nonce is
        # ever served twice.
        response.headers.setdefault(
            "Permissions-Policy", "camera=(), microphone=(), payment=(), geolocation=(self)"
        )
        response.headers.setdefault("Cross-Origin-Resource-Policy", "same-origin")
        return response


class SiteLookupCacheMiddleware:
    """Wagtail finds the request's site with a query on every request (routing, settings,
    URLs, the API's site filter).  Sites change almost never: their fields are kept per
    process for ``SITE_CACHE_SECONDS`` (and dropped at once, in this process, when a site
    is saved or deleted) and a fresh ``Site`` instance is handed to Wagtail through the
    attribute ``Site.find_for_request`` reads, so nothing related (the root page) is
    ever served from memory."""

    SITE_CACHE_SECONDS = 60
    FIELDS = ("id", "hostname", "port", "site_name", "root_page_id", "is_default_site")

    def __init__(self, get_response):
        from django.db.models.signals import post_delete, post_save
        from wagtail.models import Site

        self.get_response = get_response
        self._sites: dict[tuple[str, int], tuple[float, tuple | None]] = {}
        self._site_model = Site
        post_save.connect(self._forget, sender=Site, weak=False,
                          dispatch_uid="hub-site-lookup-cache-save")
        post_delete.connect(self._forget, sender=Site, weak=False,
                            dispatch_uid="hub-site-lookup-cache-delete")
        SiteLookupCacheMiddleware._instances.add(self)

    _instances: weakref.WeakSet = weakref.WeakSet()

    @classmethod
    def _forget(cls, **kwargs):
        for instance in cls._instances:
            instance._sites.clear()

    def __call__(self, request):
        from django.http.request import split_domain_port

        key = (split_domain_port(request._get_raw_host())[0], request.get_port())
        now = time.monotonic()
        found = self._sites.get(key)
        if found is not None and found[0] >= now:
            values = found[1]
            request._wagtail_site = None if values is None else self._site_model(
                **dict(zip(self.FIELDS, values, strict=True)))
            return self.get_response(request)
        # Not known yet: Wagtail looks the site up if this request needs it (a request
        # that never does, like the API schema, makes no query) and it is kept then.
        response = self.get_response(request)
        if "_wagtail_site" in request.__dict__:
            site = request._wagtail_site
            values = None if site is None else tuple(getattr(site, f) for f in self.FIELDS)
            self._sites[key] = (now + self.SITE_CACHE_SECONDS, values)
        return response


class HubLocaleMiddleware(LocaleMiddleware):
    """Django's LocaleMiddleware, except that paths outside the language prefixes (the
    APIs, the admin, media) are never redirected to ``/fr/…``: an unknown API route is
    a JSON 404, not a redirect to an HTML page."""

    UNPREFIXED = ("/api/", "/open311/", "/admin/", "/documents/", "/media/", "/static/",
                  "/o/", "/.well-known/")

    def process_response(self, request, response):
        # A path that resolved to a view (e.g. a module's root pattern answering 404 for
        # an unknown id) is never redirected to a language-prefixed twin.
        if request.path_info.startswith(self.UNPREFIXED) or getattr(
            request, "resolver_match", None
        ) is not None:
            if not request.path_info.startswith(("/fr/", "/en/")):
                patch_vary_headers(response, ("Accept-Language",))  # language negotiated
            response.headers.setdefault("Content-Language", translation.get_language())
            return response
        return super().process_response(request, response)


class StaffMFARequiredMiddleware:
    """With ``HUB_REQUIRE_STAFF_MFA`` (on in production), the admin is for staff whose
    session passed a second factor.

    * A staff member without a TOTP authenticator is sent to allauth's TOTP activation
      page first, with a message.
    * A staff member who has one but whose session was opened with a password only
      (Wagtail's own ``/admin/login/``, the page-privacy login ``/fr/_util/login/``, or
      any other path that bypasses allauth's 2FA stage) is asked for a code through
      allauth's MFA reauthentication, then comes back.

    Listed after allauth's ``AccountMiddleware`` (and Django's authentication and
    messages middleware).  Only the admin is guarded: the staff member can still reach
    their account pages, where the activation happens.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if (
            getattr(settings, "HUB_REQUIRE_STAFF_MFA", False)
            and request.path_info.startswith(ADMIN_PREFIXES)
            and getattr(request, "user", None) is not None
            and request.user.is_authenticated
            and request.user.is_staff
        ):
            if not has_totp(request.user):
                messages.warning(
                    request,
                    _("Staff accounts need two-factor authentication: activate an "
                      "authenticator app to reach the administration."),
                )
                return redirect(reverse("mfa_activate_totp"))
            if not session_passed_mfa(request):
                query = urlencode({"next": request.get_full_path()})
                return redirect(f"{reverse('mfa_reauthenticate')}?{query}")
        return self.get_response(request)


def has_totp(user) -> bool:
    from allauth.mfa.models import Authenticator

    return Authenticator.objects.filter(user=user, type=Authenticator.Type.TOTP).exists()


def session_passed_mfa(request) -> bool:
    """Whether allauth recorded a second factor for this session's user."""
    from allauth.account.authentication import get_authentication_records

    return any(record.get("method") == "mfa"
               for record in get_authentication_records(request, request.user))
