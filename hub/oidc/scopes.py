"""Scopes the provider knows, with what each one shares, in the resident's words.

The hub owns only the OpenID Connect scopes (``openid profile email phone address``);
each module declares the scopes of its own API with ``hub_oauth_scopes`` (DESIGN rule 8).
django-oauth-toolkit reads them through :class:`HubScopes`
(``OAUTH2_PROVIDER["SCOPES_BACKEND_CLASS"]``), which asks the hook when the toolkit asks
it, not when the settings load: the plugin manager cannot be built at settings time, and
a module switched off at run time (``HUB_DISABLED_MODULES``) takes its scopes with it.
"""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _
from oauth2_provider.scopes import BaseScopes

HUB_SCOPES = {
    "openid": _("Confirm that you have an Espace citoyen account (an identifier only)"),
    "profile": _("Your name and preferred language"),
    "email": _("Your email address"),
    "phone": _("Your phone number"),
    "address": _("Your civic address and postal code"),
}
DEFAULT_SCOPES = ["openid"]


def all_scopes() -> dict:
    """The hub's scopes, then every enabled module's (``hub_oauth_scopes``, in module
    order).  A module cannot redefine a hub scope; the first module naming a scope wins."""
    from hub.plugins.manager import collect

    scopes = dict(HUB_SCOPES)
    for declared in collect("hub_oauth_scopes"):
        for name, description in (declared or {}).items():
            scopes.setdefault(str(name), description)
    return scopes


def describe(scopes) -> list:
    """What each of ``scopes`` shares, in the current language (unknown scopes: their
    name, e.g. a scope of a module switched off since the token was granted)."""
    known = all_scopes()
    return [known.get(scope, scope) for scope in scopes]


class HubScopes(BaseScopes):
    """The toolkit's scopes backend: discovery's ``scopes_supported``, the scopes a
    client may request and the consent screen all come from :func:`all_scopes`."""

    def get_all_scopes(self):
        return all_scopes()

    def get_available_scopes(self, application=None, request=None, *args, **kwargs):
        return list(all_scopes())

    def get_default_scopes(self, application=None, request=None, *args, **kwargs):
        return list(DEFAULT_SCOPES)
