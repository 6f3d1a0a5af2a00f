"""Surge-proof public pages: anonymous GETs are served from Django's cache.

In an emergency 43,000 residents open the home and alert pages within minutes; uncached
Wagtail pages serve tens per second on two cores.  Anonymous GET/HEAD responses of public
pages and of the public API are cached (Redis when ``REDIS_URL`` is set, local memory
otherwise) and marked ``Cache-Control: public, max-age=…`` so a reverse proxy or CDN may
keep them too.  A response is never cached when:

- the visitor is signed in, or sends a session cookie;
- the path is private (admin, account, Mon Espace) or the view said ``private``/``no-store``;
- the response sets a cookie (e.g. a CSRF token for a form) or is not a 200;
- its Content-Security-Policy holds a nonce: a stored nonce would be served to every
  visitor for the cache's lifetime, and a nonce an attacker can read in advance
  protects nothing.  Cacheable pages therefore use no inline script: their scripts are
  static files (``script-src 'self'``), and django-csp adds a nonce to a policy only
  when the page used one.

Publishing, unpublishing or deleting a page, saving the city settings, or a module calling
:func:`invalidate_public_cache` (e.g. when an alert is sent) bumps a generation number that
is part of every key, so the next request renders fresh content everywhere at once.  With
``FRONTEND_CACHE_PURGE_URL`` set, Wagtail's frontend cache purges the proxy as well.
"""

from __future__ import annotations

import hashlib

from django.conf import settings
from django.core.cache import cache
from django.http import HttpResponse
from django.utils.cache import patch_cache_control, patch_vary_headers

GENERATION_KEY = "hub:public-cache:generation"
PRIVATE_PREFIXES = ("/admin/", "/django-admin/", "/api/docs/", "/api/schema/", "/media/",
                    "/static/", "/documents/", "/i18n/")
PRIVATE_SEGMENTS = ("/compte/", "/mon-espace/", "/_util/")
CACHEABLE_TYPES = ("text/html", "application/json", "application/atom+xml",
                   "application/rss+xml", "application/xml", "text/xml")


def _generation() -> int:
    return cache.get_or_set(GENERATION_KEY, 1, timeout=None)


generation = _generation
_MISSING = object()


def memoize_public(name: str, parts, compute):
    """``compute()``, kept ``HUB_FRAGMENT_CACHE_SECONDS`` in the cache under ``name`` and
    ``parts`` (language, page id…) and the public-cache generation.

    For what every anonymous page needs and changes rarely: the news tile, the modules'
    banners, the language switch links.  Publishing a page or saving the city settings
    (a new generation) makes them fresh at once; anything else (an alert being sent, a
    view restriction) shows within the TTL, a few seconds.  ``0`` computes every time.
    """
    seconds = getattr(settings, "HUB_FRAGMENT_CACHE_SECONDS", 0)
    if not seconds:
        return compute()
    digest = hashlib.sha256("\x1f".join(str(part) for part in parts).encode()).hexdigest()
    key = f"hub:fragment:{_generation()}:{name}:{digest}"
    value = cache.get(key, _MISSING)
    if value is _MISSING:
        value = compute()
        cache.set(key, value, timeout=seconds)
    return value


def is_anonymous_request(request) -> bool:
    """No session cookie and no credentials: nobody is signed in (without a session
    there is no user), whatever the middleware has run so far."""
    return (settings.SESSION_COOKIE_NAME not in request.COOKIES
            and not request.META.get("HTTP_AUTHORIZATION"))


def invalidate_public_cache() -> None:
    """Make every cached public response stale (cheap: one counter increment)."""
    try:
        cache.incr(GENERATION_KEY)
    except ValueError:
        cache.set(GENERATION_KEY, 2, timeout=None)


LANGUAGE_PREFIXES = {f"/{code}/": code for code, _name in settings.LANGUAGES}


def _is_candidate(request) -> bool:
    """Decided from the raw request alone: the middleware runs before sessions,
    authentication and CSRF, so an anonymous visitor is one without a session cookie
    or credentials (without a session there is no signed-in user)."""
    if request.method not in ("GET", "HEAD"):
        return False
    path = request.path_info
    if path.startswith(PRIVATE_PREFIXES) or any(s in path for s in PRIVATE_SEGMENTS):
        return False
    return "messages" not in request.COOKIES and is_anonymous_request(request)


def _language_part(request) -> str:
    """What LocaleMiddleware (which runs later) would base the language on: the path's
    prefix, otherwise the language cookie and Accept-Language (the response varies on
    it)."""
    path = request.path_info
    for prefix, code in LANGUAGE_PREFIXES.items():
        if path.startswith(prefix):
            return code
    return "?" + "|".join([request.COOKIES.get(settings.LANGUAGE_COOKIE_NAME, ""),
                           request.META.get("HTTP_ACCEPT_LANGUAGE", "")[:100]])


def _key(request) -> str:
    raw = "|".join([request.get_host(), request.get_full_path(), _language_part(request),
                    request.META.get("HTTP_ACCEPT", "")[:100]])
    digest = hashlib.sha256(raw.encode()).hexdigest()
    return f"hub:public-cache:{_generation()}:{request.method}:{digest}"


def _cacheable(request, response) -> bool:
    # A page holding a CSRF token (a form) always sends the CSRF cookie again (Django
    # renews it whenever the token is used), so ``response.cookies`` keeps it out too.
    if response.status_code != 200 or response.cookies or response.streaming:
        return False
    if getattr(request, "_hub_uncacheable", False):
        return False
    control = response.get("Cache-Control", "")
    if any(word in control for word in ("private", "no-store", "no-cache")):
        return False
    if "'nonce-" in response.get("Content-Security-Policy", ""):
        return False  # one nonce per response: never stored, never served twice
    return response.get("Content-Type", "").split(";")[0].strip() in CACHEABLE_TYPES


def _stored(response) -> HttpResponse:
    """What the cache keeps: the rendered bytes, status and headers in a plain
    ``HttpResponse``.  An API response also carries its serialized ``data`` and a page
    its template context; every hit would unpickle them for nothing."""
    if type(response) is HttpResponse:
        return response
    lean = HttpResponse(response.content, status=response.status_code)
    for header, value in response.items():
        lean[header] = value
    return lean


class AnonymousPublicCacheMiddleware:
    """Placed right after WhiteNoise, before django-csp, sessions, locale, CSRF and
    authentication (see settings): a hit costs two cache reads and none of their work.

    A stored response has gone through the inner middleware, so it already carries its
    Content-Security-Policy header (without a nonce: a response with one is not
    stored), the security headers, Vary and Content-Language; SecurityMiddleware
    (outside) still adds its headers to every hit.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        seconds = getattr(settings, "HUB_PUBLIC_CACHE_SECONDS", 0)
        if not seconds or not _is_candidate(request):
            response = self.get_response(request)
            if (settings.SESSION_COOKIE_NAME in request.COOKIES
                    and getattr(request, "user", None) is not None
                    and request.user.is_authenticated):
                patch_cache_control(response, private=True)
            return response
        key = _key(request)
        cached = cache.get(key)
        if cached is not None:
            cached["X-Hub-Cache"] = "hit"
            return cached
        response = self.get_response(request)
        if _cacheable(request, response):
            if hasattr(response, "render") and not response.is_rendered:
                response.render()
            patch_cache_control(response, public=True, max_age=seconds)
            patch_vary_headers(response, ("Cookie", "Accept-Language"))
            cache.set(key, _stored(response), timeout=seconds)
            response["X-Hub-Cache"] = "miss"
        return response
