"""allauth adapter: language of account emails, safe redirects, staff MFA."""

from allauth.account.adapter import DefaultAccountAdapter
from django.utils import translation
from django.utils.http import url_has_allowed_host_and_scheme


class AccountAdapter(DefaultAccountAdapter):
    def is_safe_url(self, url):
        """Only same-host redirects after sign-in: no open redirect through ``?next=``."""
        request = self.request
        return bool(url) and url_has_allowed_host_and_scheme(
            url,
            allowed_hosts={request.get_host()} if request else set(),
            require_https=request.is_secure() if request else False,
        )

    def save_user(self, request, user, form, commit=True):
        """New accounts start in the language the visitor signed up in."""
        user = super().save_user(request, user, form, commit=False)
        language = (translation.get_language() or "fr")[:2]
        user.preferred_language = "en" if language == "en" else "fr"
        if commit:
            user.save()
        return user
