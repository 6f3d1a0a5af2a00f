"""Scopes the provider knows, with what each one shares, in the resident's words."""

from django.utils.translation import gettext_lazy as _

SCOPES = {
    "openid": _("Confirm that you have an Espace citoyen account (an identifier only)"),
    "profile": _("Your name and preferred language"),
    "email": _("Your email address"),
    "phone": _("Your phone number"),
    "address": _("Your civic address and postal code"),
    "requetes:read": _("Read your service requests"),
    "requetes:write": _("Submit and follow service requests for you"),
    "alertes:read": _("Read your communication preferences"),
    "alertes:write": _("Change your communication preferences"),
}
DEFAULT_SCOPES = ["openid"]
