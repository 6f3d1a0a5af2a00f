"""What the hub remembers of an exchanged authorization code, so a replay can be answered
as RFC 6749 §4.1.2 asks: the code is refused and the tokens issued from it are revoked.

django-oauth-toolkit deletes the grant when its code is exchanged; a second use then looks
exactly like an unknown code. Keeping only the code's SHA-256 (never the code) and the
tokens it produced lets the validator tell a replay from a typo."""

from __future__ import annotations

import hashlib

from django.conf import settings
from django.db import models


def code_checksum(code: str) -> str:
    return hashlib.sha256(code.encode("utf-8")).hexdigest()


class RedeemedAuthorizationCode(models.Model):
    code_checksum = models.CharField(max_length=64, unique=True)
    application = models.ForeignKey(settings.OAUTH2_PROVIDER_APPLICATION_MODEL,
                                    on_delete=models.CASCADE, related_name="+")
    access_token = models.ForeignKey(settings.OAUTH2_PROVIDER_ACCESS_TOKEN_MODEL, null=True,
                                     on_delete=models.SET_NULL, related_name="+")
    # The refresh token family born of this exchange: rotating a refresh token keeps the
    # family, so revoking it also catches every token refreshed since.
    token_family = models.UUIDField(null=True, blank=True)
    redeemed_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        verbose_name = "redeemed authorization code"

    def __str__(self) -> str:
        return f"{self.code_checksum[:12]}… ({self.redeemed_at:%Y-%m-%d %H:%M})"
