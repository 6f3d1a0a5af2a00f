"""What the ID token and userinfo say about a resident, scope by scope."""

from __future__ import annotations

import hashlib

from allauth.account.models import EmailAddress
from django.db import models
from oauth2_provider.models import AccessToken, RefreshToken
from oauth2_provider.oauth2_validators import OAuth2Validator

from hub.models.oauth import RedeemedAuthorizationCode, code_checksum
from hub.prepared import PreparedQuery, Slot

# What the ID token carries besides the resident's claims: the toolkit adds iss, exp,
# auth_time and jti; oauthlib adds aud, iat, nonce (when the request had one) and at_hash.
# Listed in discovery's ``claims_supported`` (tests check a real ID token against it).
ID_TOKEN_PROTOCOL_CLAIMS = ("iss", "aud", "exp", "iat", "auth_time", "jti", "nonce", "at_hash")


def _address(request) -> dict:
    user = request.user
    formatted = ", ".join(part for part in (user.civic_address, user.postal_code) if part)
    return {"formatted": formatted, "postal_code": user.postal_code, "country": "CA"}


def _email_verified(request) -> bool:
    user = request.user
    return EmailAddress.objects.filter(user=user, email__iexact=user.email,
                                       verified=True).exists()


class HubOAuth2Validator(OAuth2Validator):
    """Standard OIDC claims from hub.User; each is released only with its scope
    (``oidc_claim_scope`` of the parent class: profile, email, phone, address).

    ``get_additional_claims`` takes no request and maps each claim to a function of the
    request: that is the toolkit's request-agnostic form, from which discovery's
    ``claims_supported`` is derived (the claim names), so the list cannot drift from what
    userinfo and the ID token return."""

    def get_additional_claims(self):
        return {
            "name": lambda request: request.user.get_full_name() or request.user.email,
            "given_name": lambda request: request.user.first_name,
            "family_name": lambda request: request.user.last_name,
            "locale": lambda request: f"{request.user.preferred_language}-CA",
            "email": lambda request: request.user.email,
            "email_verified": _email_verified,
            "phone_number": lambda request: request.user.phone,
            "address": _address,
        }

    # Every request of an app reads its token first: the toolkit's query (the token with
    # its application and user, by checksum), compiled once (hub.prepared).
    _access_token = PreparedQuery(lambda: AccessToken.objects.select_related(
        "application", "user").filter(
        token_checksum=Slot("checksum", models.CharField())).order_by("pk")[:1])

    def _load_access_token(self, token):
        checksum = hashlib.sha256(token.encode("utf-8")).hexdigest()
        return self._access_token.first(checksum=checksum)

    def get_discovery_claims(self, request):
        claims = dict.fromkeys(super().get_discovery_claims(request))
        claims.update(dict.fromkeys(ID_TOKEN_PROTOCOL_CLAIMS))
        return list(claims)

    # --- RFC 6749 §4.1.2: a replayed code revokes what its first exchange issued -------

    def validate_code(self, client_id, code, client, request, *args, **kwargs):
        if super().validate_code(client_id, code, client, request, *args, **kwargs):
            return True
        redeemed = RedeemedAuthorizationCode.objects.filter(
            code_checksum=code_checksum(code), application=client).first()
        if redeemed is not None:
            if redeemed.token_family:
                RefreshToken.revoke_family(redeemed.token_family)
            if redeemed.access_token_id:
                AccessToken.objects.filter(pk=redeemed.access_token_id).delete()
        return False

    def _save_bearer_token(self, token, request, *args, **kwargs):
        result = super()._save_bearer_token(token, request, *args, **kwargs)
        if request.grant_type == "authorization_code" and getattr(request, "code", None):
            access = AccessToken.objects.filter(
                token_checksum=code_checksum(token["access_token"])).first()
            family = (RefreshToken.objects.filter(access_token=access)
                      .values_list("token_family", flat=True).first() if access else None)
            RedeemedAuthorizationCode.objects.update_or_create(
                code_checksum=code_checksum(request.code),
                defaults={"application": request.client, "access_token": access,
                          "token_family": family})
        return result
