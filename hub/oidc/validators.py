"""What the ID token and userinfo say about a resident, scope by scope."""

from __future__ import annotations

from allauth.account.models import EmailAddress
from oauth2_provider.oauth2_validators import OAuth2Validator


class HubOAuth2Validator(OAuth2Validator):
    """Standard OIDC claims from hub.User; each is released only with its scope
    (``oidc_claim_scope`` of the parent class: profile, email, phone, address)."""

    def get_additional_claims(self, request):
        user = request.user
        address = ", ".join(part for part in (user.civic_address, user.postal_code) if part)
        return {
            "name": user.get_full_name() or user.email,
            "given_name": user.first_name,
            "family_name": user.last_name,
            "locale": f"{user.preferred_language}-CA",
            "email": user.email,
            "email_verified": EmailAddress.objects.filter(
                user=user, email__iexact=user.email, verified=True
            ).exists(),
            "phone_number": user.phone,
            "address": {"formatted": address, "postal_code": user.postal_code,
                        "country": "CA"},
        }
