"""django-oauth-toolkit's settings for the hub's OpenID Connect provider, built here so
``hub/settings.py`` stays readable; ``hub/settings.py`` calls it while settings load (no
model may be imported here)."""

from __future__ import annotations

from pathlib import Path

from hub.oidc.keys import load_or_create_private_key


def oauth2_provider_settings(var_dir: Path, *, debug: bool) -> dict:
    """``OAUTH2_PROVIDER``: OIDC on, PKCE required, the OAuth 2.0 Security BCP's gates,
    the signing key from ``OIDC_RSA_PRIVATE_KEY`` or ``var/oidc-private-key.pem``."""
    return {
        "OIDC_ENABLED": True,
        "OIDC_RSA_PRIVATE_KEY": load_or_create_private_key(var_dir),
        "OIDC_RP_INITIATED_LOGOUT_ENABLED": True,
        "OIDC_RP_INITIATED_LOGOUT_ALWAYS_PROMPT": False,
        "PKCE_REQUIRED": True,
        # The hub's scopes and every enabled module's (hub_oauth_scopes), read lazily by the
        # backend: the plugin manager cannot be built while settings load.
        "SCOPES_BACKEND_CLASS": "hub.oidc.scopes.HubScopes",
        "SCOPES": {name: name for name in ("openid", "profile", "email", "phone", "address")},
        "DEFAULT_SCOPES": ["openid"],
        # Public clients (mobile apps, single-page apps) authenticate with PKCE and no
        # secret: discovery must say so ("none") or strict clients refuse to start.
        "OIDC_TOKEN_ENDPOINT_AUTH_METHODS_SUPPORTED": [
            "client_secret_basic", "client_secret_post", "none"],
        "OAUTH2_VALIDATOR_CLASS": "hub.oidc.validators.HubOAuth2Validator",
        "ACCESS_TOKEN_EXPIRE_SECONDS": 3600,
        "REFRESH_TOKEN_EXPIRE_SECONDS": 60 * 60 * 24 * 30,
        "ROTATE_REFRESH_TOKEN": True,
        "REFRESH_TOKEN_REUSE_PROTECTION": True,
        # OAuth 2.0 Security BCP (RFC 9700): no implicit or password grant, S256 PKCE only,
        # tokens never in query strings, `iss` in authorization responses, hashed tokens,
        # exact redirect URIs.
        **{f"COMPLIANT_BCP_RFC9700_{gate}": True for gate in (
            "IMPLICIT_GRANT", "PASSWORD_GRANT", "PKCE_METHOD", "ACCESS_TOKEN_TRANSPORT",
            "AUTHZ_RESPONSE_ISS", "TOKEN_STORAGE", "REFRESH_TOKEN", "REDIRECT_URI_MATCHING",
            "PKCE_REQUIRED")},
        "ALLOWED_REDIRECT_URI_SCHEMES": ["https", "http", "ca.valleyfield.espacecitoyen"]
        if debug else ["https", "ca.valleyfield.espacecitoyen"],
    }
