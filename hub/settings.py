"""One settings module, driven by environment variables.

Development defaults need no variable at all (SQLite under ``var/``, local-memory cache,
DB task backend, emails printed to the console).  Production is ``DEBUG=0`` with a real
``SECRET_KEY``: secure cookies with ``__Secure-``/``__Host-`` names, HSTS, MFA for staff.

Every variable, its default and meaning: README.md, "Configuration" (the hub's) and
"Modules' settings"; tests/test_settings_documented.py keeps that list and the code equal.
"""

from __future__ import annotations

import importlib.util
import os
from pathlib import Path

import dj_database_url
import dj_email_url
from csp.constants import NONCE
from django.utils.translation import pgettext_lazy

from hub.plugins import manager as plugin_manager


def env_bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_list(name: str, default: str = "") -> list[str]:
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(os.environ.get("VAR_DIR", BASE_DIR / "var"))
VAR_DIR.mkdir(parents=True, exist_ok=True)

DEBUG = env_bool("DEBUG", True)
DEV_SECRET_KEY = "dev-only-insecure-key-never-use-in-production"  # noqa: S105
SECRET_KEY = os.environ.get("SECRET_KEY", DEV_SECRET_KEY if DEBUG else "")
if not SECRET_KEY:
    raise RuntimeError("SECRET_KEY must be set when DEBUG=0")
PRODUCTION = not DEBUG

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "127.0.0.1,localhost" if DEBUG else "")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS")
BASE_URL = os.environ.get("BASE_URL", "http://127.0.0.1:8000")
WAGTAILADMIN_BASE_URL = BASE_URL
# The demo partner service under /partenaire-demo/ (hub.demo_partner): development only.
HUB_DEMO_PARTNER = env_bool("HUB_DEMO_PARTNER", DEBUG)
if HUB_DEMO_PARTNER and not DEBUG:
    raise RuntimeError("HUB_DEMO_PARTNER is for development only: it needs DEBUG=1")

# --- Modules -----------------------------------------------------------------------------
HUB_DISABLED_MODULES = plugin_manager.parse_disabled(os.environ.get("HUB_DISABLED_MODULES"))

INSTALLED_APPS = [
    "hub",
    "theme",
    *plugin_manager.module_apps(HUB_DISABLED_MODULES),
    # Wagtail
    "wagtail_localize",
    "wagtail_localize.locales",
    "wagtail.contrib.forms",
    "wagtail.contrib.redirects",
    "wagtail.contrib.settings",
    "wagtail.embeds",
    "wagtail.sites",
    "wagtail.users",
    "wagtail.snippets",
    "wagtail.documents",
    "wagtail.images",
    "wagtail.search",
    "wagtail.admin",
    "wagtail.api.v2",
    "wagtail",
    "modelcluster",
    "taggit",
    # Accounts
    "allauth",
    "allauth.account",
    "allauth.mfa",
    "axes",
    # Single sign-on (OpenID Connect provider)
    "oauth2_provider",
    # API
    "rest_framework",
    "rest_framework.authtoken",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    # Tasks
    "django_tasks",
    "django_tasks_db",
    # Django
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.sitemaps",
    "django.contrib.humanize",
]

MIDDLEWARE = [
    "hub.logs.AccessLogMiddleware",  # one line per request, first so it times everything
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    # Anonymous public pages answer here, before any session, CSRF or CSP work.
    "hub.cache.AnonymousPublicCacheMiddleware",
    "hub.middleware.SiteLookupCacheMiddleware",
    "csp.middleware.CSPMiddleware",
    "hub.middleware.SecurityHeadersMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "hub.middleware.HubLocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "allauth.account.middleware.AccountMiddleware",
    "hub.middleware.StaffMFARequiredMiddleware",
    "wagtail.contrib.redirects.middleware.RedirectMiddleware",
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "hub.urls"
WSGI_APPLICATION = "hub.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.debug",
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "csp.context_processors.nonce",
                "wagtail.contrib.settings.context_processors.settings",
                "hub.context_processors.hub",
            ],
        },
    },
]

# --- Data --------------------------------------------------------------------------------
DATABASES = {
    "default": dj_database_url.parse(
        os.environ.get("DATABASE_URL", f"sqlite:///{VAR_DIR / 'espace-citoyen.sqlite3'}"),
        conn_max_age=int(os.environ.get("CONN_MAX_AGE", "60")),
        conn_health_checks=True,
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # Persistent too (CONN_MAX_AGE): opening the file, setting WAL and registering
    # Django's SQL functions cost about a millisecond on every request.
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        {"timeout": 20, "transaction_mode": "IMMEDIATE", "init_command": "PRAGMA journal_mode=WAL;"}
    )
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

REDIS_URL = os.environ.get("REDIS_URL", "")
# Seconds to wait for Redis (connect, then each command) before the cache gives up.
REDIS_TIMEOUT = float(os.environ.get("REDIS_TIMEOUT", "1"))


def redis_cache(url: str, timeout: float = 1.0) -> dict:
    """The Redis cache, failing open: with Redis down or unreachable a read is a miss and
    a write is dropped (``IGNORE_EXCEPTIONS``, logged by ``DJANGO_REDIS_LOG_IGNORED_
    EXCEPTIONS``), so pages, throttles and rate counters degrade instead of failing."""
    return {
        "BACKEND": "django_redis.cache.RedisCache",
        "LOCATION": url,
        "KEY_PREFIX": "ec",
        "OPTIONS": {"IGNORE_EXCEPTIONS": True, "SOCKET_CONNECT_TIMEOUT": timeout,
                    "SOCKET_TIMEOUT": timeout},
    }


DJANGO_REDIS_LOG_IGNORED_EXCEPTIONS = True
if REDIS_URL:
    CACHES = {"default": redis_cache(REDIS_URL, REDIS_TIMEOUT)}
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

# --- Background tasks (django-tasks) -----------------------------------------------------
if REDIS_URL:
    INSTALLED_APPS.append("django_rq")
    RQ_QUEUES = {"default": {"URL": REDIS_URL}}
    TASKS = {"default": {"BACKEND": "django_tasks_rq.RQBackend", "QUEUES": ["default"]}}
else:
    TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend", "QUEUES": ["default"]}}

# --- Accounts ----------------------------------------------------------------------------
AUTH_USER_MODEL = "hub.User"
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
    "allauth.account.auth_backends.AuthenticationBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
     "OPTIONS": {"min_length": 10}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "account_login"
LOGIN_REDIRECT_URL = "hub:mon_espace"
LOGOUT_REDIRECT_URL = "/"

ACCOUNT_ADAPTER = "hub.accounts.adapter.AccountAdapter"
ACCOUNT_USER_MODEL_USERNAME_FIELD = None
ACCOUNT_LOGIN_METHODS = {"email"}
ACCOUNT_SIGNUP_FIELDS = ["email*", "password1*", "password2*"]
ACCOUNT_EMAIL_VERIFICATION = "mandatory"
ACCOUNT_CONFIRM_EMAIL_ON_GET = False
ACCOUNT_LOGIN_ON_EMAIL_CONFIRMATION = False
ACCOUNT_UNIQUE_EMAIL = True
ACCOUNT_PREVENT_ENUMERATION = True
ACCOUNT_SESSION_REMEMBER = None
ACCOUNT_LOGOUT_ON_PASSWORD_CHANGE = False  # the session is rotated, others are revoked
ACCOUNT_EMAIL_SUBJECT_PREFIX = "[Espace citoyen] "
ACCOUNT_RATE_LIMITS = {
    "login_failed": "10/m/ip,5/5m/key",
    "signup": "20/h/ip",
    "reset_password": "20/m/ip,5/m/key",
    "confirm_email": "1/3m/key",
}
MFA_SUPPORTED_TYPES = ["totp", "recovery_codes"]
MFA_TOTP_ISSUER = "Espace citoyen"
# One 30-second step either side (RFC 6238 §5.2): a code typed as the period turns is
# still accepted; allauth refuses a code used twice.
MFA_TOTP_TOLERANCE = 1
HUB_REQUIRE_STAFF_MFA = env_bool("HUB_REQUIRE_STAFF_MFA", PRODUCTION)

# django-axes: lock out after repeated failures, same message whether the account exists.
AXES_FAILURE_LIMIT = int(os.environ.get("AXES_FAILURE_LIMIT", "5"))
AXES_COOLOFF_TIME = 0.25  # hours
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_USERNAME_FORM_FIELD = "login"
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_CALLABLE = "hub.views.account.lockout"
AXES_VERBOSE = False
# allauth's form posts ``login`` and authenticates with ``email=…``: one callable reads
# either, lower-cased, so "A@x.org" and "a@x.org" count against the same lockout.
AXES_USERNAME_CALLABLE = "hub.accounts.adapter.axes_username"

# --- Email -------------------------------------------------------------------------------
EMAIL_URL = os.environ.get("EMAIL_URL", "console://" if DEBUG else "smtp://127.0.0.1:25")
vars().update(dj_email_url.parse(EMAIL_URL))
if globals().get("EMAIL_BACKEND") == "django.core.mail.backends.console.EmailBackend":
    # The same, with a banner: recipient, subject and the verification link, whole.
    EMAIL_BACKEND = "hub.mail.ConsoleEmailBackend"
DEFAULT_FROM_EMAIL = os.environ.get("DEFAULT_FROM_EMAIL", "Espace citoyen <no-reply@localhost>")
SERVER_EMAIL = DEFAULT_FROM_EMAIL

# --- Internationalisation ----------------------------------------------------------------
LANGUAGE_CODE = "fr"
LANGUAGES = [("fr", "Français"), ("en", "English")]
# The content languages as the admin names them, in its own language ("Publier en
# anglais", "Traduction français → anglais"); the public switcher keeps LANGUAGES' names.
WAGTAIL_CONTENT_LANGUAGES = [("fr", pgettext_lazy("content language", "French")),
                             ("en", pgettext_lazy("content language", "English"))]
WAGTAIL_I18N_ENABLED = True
# "Traduire cette page" creates the English page as a draft holding the French text; it
# goes live when the editor publishes it from the translation editor, not before.
WAGTAILLOCALIZE_SYNC_LIVE_STATUS_ON_TRANSLATE = False
WAGTAILADMIN_PERMITTED_LANGUAGES = LANGUAGES
# French titles give ASCII slugs ("réfection" → "refection"), not "r%C3%A9fection".
WAGTAIL_ALLOW_UNICODE_SLUGS = False
# No Gravatar: our CSP blocks it on every admin page; Wagtail shows its local default.
WAGTAIL_GRAVATAR_PROVIDER_URL = None
LOCALE_PATHS = [BASE_DIR / "hub" / "locale"]
TIME_ZONE = "America/Toronto"
USE_I18N = True
USE_TZ = True
LANGUAGE_COOKIE_NAME = "ec_language"
LANGUAGE_COOKIE_SECURE = PRODUCTION
LANGUAGE_COOKIE_SAMESITE = "Lax"

# --- Static and media ----------------------------------------------------------------------
STATIC_URL = "/static/"
STATIC_ROOT = Path(os.environ.get("STATIC_ROOT", VAR_DIR / "static"))
# Leaflet's JS, CSS and images as django-leaflet ships them, served locally (no CDN).  Its
# directory, not its app: the app's admin.py imports GeoDjango, which needs GDAL.
STATICFILES_DIRS = [
    Path(importlib.util.find_spec("leaflet").submodule_search_locations[0]) / "static",
]
MEDIA_URL = "/media/"
MEDIA_ROOT = Path(os.environ.get("MEDIA_ROOT", VAR_DIR / "media"))
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"
        if PRODUCTION
        else "django.contrib.staticfiles.storage.StaticFilesStorage"
    },
}
WHITENOISE_USE_FINDERS = DEBUG
DATA_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024
FILE_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024

# --- Public page cache (hub.cache) ---------------------------------------------------
HUB_PUBLIC_CACHE_SECONDS = int(os.environ.get("HUB_PUBLIC_CACHE_SECONDS", "0" if DEBUG else "60"))
# Parts every anonymous page needs (city settings, news tile, modules' banners, language
# links, the pages API's restricted paths) kept this long (hub.cache.memoize_public);
# publishing, saving the city settings or a view restriction refreshes them at once.
HUB_FRAGMENT_CACHE_SECONDS = int(os.environ.get("HUB_FRAGMENT_CACHE_SECONDS",
                                                "0" if DEBUG else "10"))
# The pages API's one-query listing (hub.api.wagtail_api); off falls back to Wagtail's.
HUB_API_FAST_LISTING = env_bool("HUB_API_FAST_LISTING", True)
HUB_ADDRESS_SUGGESTIONS_PER_MINUTE = int(os.environ.get("HUB_ADDRESS_SUGGESTIONS_PER_MINUTE",
                                                        "120"))
FRONTEND_CACHE_PURGE_URL = os.environ.get("FRONTEND_CACHE_PURGE_URL", "")
if FRONTEND_CACHE_PURGE_URL:
    # A reverse proxy (Varnish, nginx) purged by Wagtail when pages are published.
    INSTALLED_APPS.append("wagtail.contrib.frontend_cache")
    WAGTAILFRONTENDCACHE = {
        "default": {
            "BACKEND": "wagtail.contrib.frontend_cache.backends.HTTPBackend",
            "LOCATION": FRONTEND_CACHE_PURGE_URL,
        }
    }

# --- Wagtail -----------------------------------------------------------------------------
WAGTAIL_SITE_NAME = "Espace citoyen"
WAGTAILSEARCH_BACKENDS = {"default": {"BACKEND": "wagtail.search.backends.database"}}
if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    # Accent-folding French configuration created by migration hub.0005.
    WAGTAILSEARCH_BACKENDS["default"]["SEARCH_CONFIG"] = "hub_french_unaccent"
ELASTICSEARCH_URL = os.environ.get("ELASTICSEARCH_URL", "")
ELASTICSEARCH_INDEX = os.environ.get("ELASTICSEARCH_INDEX", "espace_citoyen")
ELASTICSEARCH_TIMEOUT = float(os.environ.get("ELASTICSEARCH_TIMEOUT", "5"))
if ELASTICSEARCH_URL:
    WAGTAILSEARCH_BACKENDS["default"] = {
        "BACKEND": "wagtail.search.backends.elasticsearch8",
        "URLS": [ELASTICSEARCH_URL],
        "INDEX": ELASTICSEARCH_INDEX,
        "OPTIONS": {},
        "INDEX_SETTINGS": {},
    }
WAGTAILAPI_BASE_URL = BASE_URL
WAGTAILAPI_LIMIT_MAX = 100
WAGTAILDOCS_EXTENSIONS = ["csv", "docx", "key", "odt", "pdf", "pptx", "rtf", "txt", "xlsx", "zip"]
WAGTAIL_PASSWORD_MANAGEMENT_ENABLED = False  # passwords are managed by allauth
# One sign-in for everyone (allauth: verified email, lockout, MFA); Wagtail's own login
# forms redirect there (hub.views.account.admin_login).
WAGTAILADMIN_LOGIN_URL = "/fr/compte/login/"
WAGTAIL_FRONTEND_LOGIN_URL = WAGTAILADMIN_LOGIN_URL

# --- Single sign-on: OpenID Connect provider (hub.oidc) ----------------------------------
from hub.oidc.provider_settings import oauth2_provider_settings  # noqa: E402

# Named so that modules can point a ForeignKey at the swappable OAuth client model.
OAUTH2_PROVIDER_APPLICATION_MODEL = "oauth2_provider.Application"
OAUTH2_PROVIDER_ACCESS_TOKEN_MODEL = "oauth2_provider.AccessToken"  # noqa: S105 (a model name)
OAUTH2_PROVIDER = oauth2_provider_settings(VAR_DIR, debug=DEBUG)

# No check is silenced: drf-spectacular's schema warnings (W001) fail `manage.py check`,
# so every API view stays typed; the schema is validated as OpenAPI 3 by tests/test_api.py.
SILENCED_SYSTEM_CHECKS: list[str] = []

# --- API ---------------------------------------------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        # Pluggable: the OIDC issue adds OAuth2 bearer tokens here.
        "rest_framework.authentication.SessionAuthentication",
        # OAuth2 bearer tokens; a token that does not verify is a 401 invalid_token
        # (RFC 6750), not an anonymous request (hub.api.authentication).
        "hub.api.authentication.BearerTokenAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": [
        "rest_framework.permissions.IsAuthenticated",
        "hub.api.permissions.OAuth2TokenHasViewScopes",
    ],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": ["rest_framework.parsers.JSONParser"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "DEFAULT_VERSIONING_CLASS": None,
    "EXCEPTION_HANDLER": "hub.api.exceptions.exception_handler",
    "DEFAULT_THROTTLE_CLASSES": [
        "rest_framework.throttling.AnonRateThrottle",
        "rest_framework.throttling.UserRateThrottle",
    ],
    "DEFAULT_THROTTLE_RATES": {
        "anon": os.environ.get("API_THROTTLE_ANON", "120/min"),
        "user": os.environ.get("API_THROTTLE_USER", "600/min"),
    },
    "UNAUTHENTICATED_USER": "django.contrib.auth.models.AnonymousUser",
}
if DEBUG:
    REST_FRAMEWORK["DEFAULT_RENDERER_CLASSES"].append("rest_framework.renderers.BrowsableAPIRenderer")
from hub.api.docs import AUTHORIZATION_URL as API_AUTHORIZATION_URL  # noqa: E402
from hub.api.docs import DESCRIPTION as API_DESCRIPTION  # noqa: E402
from hub.api.docs import TOKEN_URL as API_TOKEN_URL  # noqa: E402

SPECTACULAR_SETTINGS = {
    "TITLE": "Espace citoyen API",
    # How an app signs in, step by step, in the request's language (French first).
    "DESCRIPTION": API_DESCRIPTION,
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "SCHEMA_PATH_PREFIX": r"/api/v1",
    "COMPONENT_SPLIT_REQUEST": True,
    "PREPROCESSING_HOOKS": ["hub.api.views.schema_endpoints"],
    # The `oauth2` security scheme (hub.api.authentication.BearerTokenScheme): the one flow
    # the provider offers an app, so the docs' "Authorize" button signs in with it.
    "OAUTH2_FLOWS": ["authorizationCode"],
    "OAUTH2_AUTHORIZATION_URL": API_AUTHORIZATION_URL,
    "OAUTH2_TOKEN_URL": API_TOKEN_URL,
    "OAUTH2_REFRESH_URL": API_TOKEN_URL,
    # Swagger UI's ui.initOAuth(): PKCE (required by the provider), no client secret.
    "SWAGGER_UI_OAUTH2_CONFIG": {"usePkceWithAuthorizationCodeGrant": True,
                                 "appName": "Espace citoyen API"},
}
if HUB_DEMO_PARTNER:
    # The demo's public client for the docs (hub.demo_partner.ensure_docs_client), filled
    # in the "Authorize" dialog so a developer signs in on make run without registering one.
    SPECTACULAR_SETTINGS["SWAGGER_UI_OAUTH2_CONFIG"]["clientId"] = "documentation-api-demo"

# --- Security ----------------------------------------------------------------------------
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "strict-origin-when-cross-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_HTTPONLY = False  # Wagtail's admin reads the token from the cookie
SESSION_COOKIE_AGE = 60 * 60 * 24 * 14
# Django's database sessions, the read prepared once per process (hub.sessions).
SESSION_ENGINE = "hub.sessions"
if PRODUCTION:
    SECURE_HSTS_SECONDS = 31_536_000
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True
    SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", True)
    # The load balancer probes the instance itself, over plain HTTP (hub.health).
    SECURE_REDIRECT_EXEMPT = [r"^health/$"]
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SESSION_COOKIE_NAME = "__Host-sessionid"
    CSRF_COOKIE_NAME = "__Host-csrftoken"
    LANGUAGE_COOKIE_NAME = "__Secure-ec_language"

# Content Security Policy (django-csp 4): nonce-based on public pages.  The admin gets
# the relaxed policy in hub.middleware.ADMIN_CSP (Wagtail's admin uses inline styles and
# scripts it does not nonce).
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'", NONCE],  # a fresh nonce per response
        "style-src": ["'self'", NONCE],
        "img-src": ["'self'", "data:", "blob:"],
        "font-src": ["'self'"],
        "connect-src": ["'self'"],
        "object-src": ["'none'"],
        "base-uri": ["'none'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
    }
}

# --- Logging -----------------------------------------------------------------------------
# hub.access: one line per request; hub.tasks: one per task; hub.security: JSON lines
# (sign-in, lockout, permission denied, staff reads of personal data).  No handler lets a
# secret or a forged line through (hub.logs.RedactingFilter).
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"redact": {"()": "hub.logs.RedactingFilter"}},
    "formatters": {"json": {"()": "hub.logs.JsonLinesFormatter"}},
    "handlers": {
        "console": {"class": "logging.StreamHandler", "filters": ["redact"]},
        "security": {"class": "logging.StreamHandler", "filters": ["redact"],
                     "formatter": "json"},
    },
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "INFO")},
    "loggers": {
        "django.request": {"level": "ERROR"},
        "hub.security": {"handlers": ["security"], "level": "INFO", "propagate": False},
    },
}

# --- Modules' own settings from the environment -------------------------------------------
# A module reads settings named after its slug (ALERTES_TWILIO_ACCOUNT_SID,
# REQUETES_TERRITORY, …; each module's docstring lists them).  Every environment variable
# `<SLUG>_<NAME>` of an installed module becomes that setting, so a deployment configures
# modules the same way as the hub, without the hub knowing their settings.  A value that
# is valid JSON (numbers, true/false, lists, objects) is decoded; anything else is text.
globals().update(plugin_manager.settings_from_environment(os.environ))
