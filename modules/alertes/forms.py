"""Forms of the subscription page."""

from django import forms
from django.utils.translation import gettext_lazy as _

from hub.models import District

from .models import LANGUAGES, Channel, Topic


class PreferencesForm(forms.Form):
    topics = forms.ModelMultipleChoiceField(
        label=_("Topics"), required=False, widget=forms.CheckboxSelectMultiple,
        queryset=Topic.objects.filter(is_emergency=False),
        help_text=_("Emergencies are always sent to every subscriber of the area."))
    language = forms.ChoiceField(label=_("Language of the messages"), choices=LANGUAGES)
    district = forms.ModelChoiceField(label=_("District"), queryset=District.objects.all(),
                                      required=False,
                                      help_text=_("Where you live: alerts for your district "
                                                  "reach you."))
    quiet_start = forms.TimeField(label=_("Quiet hours from"), required=False,
                                  widget=forms.TimeInput(attrs={"type": "time"}))
    quiet_end = forms.TimeField(label=_("Quiet hours until"), required=False,
                                widget=forms.TimeInput(attrs={"type": "time"}),
                                help_text=_("Messages other than emergencies wait until the "
                                            "quiet hours end."))


class AddressForm(forms.Form):
    channel = forms.ChoiceField(label=_("Channel"), choices=[
        (Channel.EMAIL, _("Email")), (Channel.SMS, _("Text message (SMS) — mobile number")),
        (Channel.VOICE, _("Phone call — any phone number"))])
    value = forms.CharField(label=_("Email address or phone number"), max_length=254)


class CodeForm(forms.Form):
    code = forms.CharField(label=_("6-digit code"), max_length=12,
                           widget=forms.TextInput(attrs={"inputmode": "numeric",
                                                         "autocomplete": "one-time-code"}))
