"""Account forms: profile and deletion confirmation."""

import re

from django import forms
from django.utils.translation import gettext_lazy as _

from hub.models import User

# Canada Post: letter digit letter digit letter digit; D, F, I, O, Q and U are never
# used, nor W or Z as the first letter.
POSTAL_CODE_RE = re.compile(
    r"[ABCEGHJ-NPRSTVXY][0-9][ABCEGHJ-NPRSTV-Z][0-9][ABCEGHJ-NPRSTV-Z][0-9]"
)


class ProfileForm(forms.ModelForm):
    class Meta:
        model = User
        fields = ["first_name", "last_name", "phone", "preferred_language", "civic_address",
                  "postal_code"]
        widgets = {
            "phone": forms.TextInput(attrs={"autocomplete": "tel", "inputmode": "tel"}),
            "first_name": forms.TextInput(attrs={"autocomplete": "given-name"}),
            "last_name": forms.TextInput(attrs={"autocomplete": "family-name"}),
            "civic_address": forms.TextInput(attrs={"autocomplete": "street-address"}),
            "postal_code": forms.TextInput(attrs={"autocomplete": "postal-code"}),
        }

    def clean_postal_code(self):
        value = "".join(self.cleaned_data["postal_code"].upper().replace("-", " ").split())
        if not value:
            return ""
        if not POSTAL_CODE_RE.fullmatch(value):
            raise forms.ValidationError(_("Enter a Canadian postal code, e.g. J6T 2M2."))
        return f"{value[:3]} {value[3:]}"


class DeleteAccountForm(forms.Form):
    password = forms.CharField(
        label=_("Your password"), strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
    )
    confirm = forms.BooleanField(
        label=_("I understand that my account and my personal data will be deleted."),
    )

    def __init__(self, *args, user, **kwargs):
        self.user = user
        super().__init__(*args, **kwargs)

    def clean_password(self):
        password = self.cleaned_data["password"]
        if not self.user.check_password(password):
            raise forms.ValidationError(_("This password is incorrect."))
        return password
