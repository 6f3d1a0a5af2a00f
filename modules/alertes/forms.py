"""Forms of the subscription page."""

from django import forms
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from hub.geo import decimal_point
from hub.models import District

from .channels import channel_choices
from .models import LANGUAGES, Topic


class CoordinateField(forms.FloatField):
    """A typed latitude or longitude: a French decimal comma (45,2556) is accepted;
    Django's FloatField refuses inf, nan and 1e400 (not finite)."""

    def to_python(self, value):
        return super().to_python(decimal_point(value))


class PreferencesForm(forms.Form):
    """Topics, language, where the subscriber lives and quiet hours.  Residents give
    their civic address (autocompleted from the city's address register, a plain text
    field without JavaScript) or a point; the district follows.  Staff also get the
    district list, to override it."""

    topics = forms.ModelMultipleChoiceField(
        label=_("Topics"), required=False, widget=forms.CheckboxSelectMultiple,
        queryset=Topic.objects.filter(is_emergency=False),
        help_text=_("Emergencies are always sent to every subscriber of the area."))
    language = forms.ChoiceField(label=_("Language of the messages"), choices=LANGUAGES)
    civic_address = forms.CharField(
        label=_("Your civic address"), max_length=255, required=False,
        help_text=_("For example: 41 rue Victoria. It places you in your district, so the "
                    "alerts for your district reach you."))
    latitude = CoordinateField(label=_("Or a point on the map: latitude"), required=False,
                               min_value=-90, max_value=90,
                               help_text=_("Only if you give no address, e.g. 45.2556."))
    longitude = CoordinateField(label=_("Longitude"), required=False, min_value=-180,
                                max_value=180, help_text=_("For example -74.1320."))
    district = forms.ModelChoiceField(label=_("District (staff override)"),
                                      queryset=District.objects.all(), required=False,
                                      help_text=_("Leave as is to follow the address."))
    quiet_start = forms.TimeField(label=_("Quiet hours from"), required=False,
                                  widget=forms.TimeInput(attrs={"type": "time"}))
    quiet_end = forms.TimeField(label=_("Quiet hours until"), required=False,
                                widget=forms.TimeInput(attrs={"type": "time"}),
                                help_text=_("Messages other than emergencies wait until the "
                                            "quiet hours end."))

    def __init__(self, *args, staff: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["civic_address"].widget.attrs.update({
            "autocomplete": "street-address", "data-address-autocomplete": "",
            "data-url": reverse("hub:address_suggestions")})
        if not staff:
            del self.fields["district"]

    def clean(self):
        data = super().clean()
        if (data.get("latitude") is None) != (data.get("longitude") is None) and \
                not self.has_error("latitude") and not self.has_error("longitude"):
            self.add_error("longitude", _("Give both the latitude and the longitude, or "
                                          "neither."))
        data["civic_address"] = " ".join((data.get("civic_address") or "").split())
        return data

    @property
    def point(self) -> tuple[float, float] | None:
        """The map point, only when no address is given (the address wins)."""
        data = self.cleaned_data
        if data.get("civic_address") or data.get("latitude") is None:
            return None
        return data["latitude"], data["longitude"]


class AddressForm(forms.Form):
    """An address on any registered channel a resident can type an address for (email,
    SMS, voice, and channels other modules add); each channel checks its own value."""

    channel = forms.ChoiceField(label=_("Channel"), choices=())
    value = forms.CharField(label=_("Address"), max_length=500)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["channel"].choices = channel_choices(addable=True)


class CodeForm(forms.Form):
    code = forms.CharField(label=_("6-digit code"), max_length=12,
                           widget=forms.TextInput(attrs={"inputmode": "numeric",
                                                         "autocomplete": "one-time-code"}))
