"""The alert form of the admin: channels as checkboxes, SMS length checked, sent alerts
locked (write an update or a cancellation instead)."""

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from wagtail.admin.forms import WagtailAdminModelForm

from . import sms
from .channels import channel_choices
from .models import Alert


class AlertForm(WagtailAdminModelForm):
    channels = forms.MultipleChoiceField(
        label=gettext_lazy("Channels"), choices=(), required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=gettext_lazy("An emergency goes out on every channel, whatever boxes are "
                               "ticked: the boxes are then all ticked and locked."))

    class Media:
        js = ["alertes/alert_form.js"]  # locks the boxes when "Emergency" is chosen

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # Every registered channel (``alertes_channels``), the plugins' ones too.
        field = self.fields["channels"]
        field.choices = channel_choices()
        # The emergency override made visible: an emergency is sent on every channel
        # (services.alert_channels), so its boxes are shown all ticked and locked, and
        # what is saved is what will happen.
        severity = (self.data.get(self.add_prefix("severity")) if self.is_bound
                    else self.instance.severity)
        if severity == Alert.Severity.EMERGENCY:
            field.disabled = True
            self.initial["channels"] = [code for code, _label in field.choices]
        field.widget.attrs["data-emergency-override"] = "every-channel"

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("severity") == Alert.Severity.EMERGENCY:
            cleaned["channels"] = [code for code, _label in self.fields["channels"].choices]
        if self.instance.pk and self.instance.status != Alert.Status.DRAFT:
            raise ValidationError(_("A sent or scheduled alert cannot be changed: write an "
                                    "update or a cancellation."))
        for language in ("fr", "en"):
            title = cleaned.get(f"title_{language}") or ""
            if any(char in title for char in "\r\n\x0b\x0c\x85\u2028\u2029"):
                # The title is the email's subject: one line, no header to inject.
                self.add_error(f"title_{language}", _(
                    "A title is one line: remove the line breaks."))
            text = cleaned.get(f"sms_{language}") or ""
            length = sms.measure(text)
            if length.segments > sms.MAX_SEGMENTS:
                self.add_error(f"sms_{language}", _(
                    "%(segments)d segments: the limit is %(max)d.") % {
                    "segments": length.segments, "max": sms.MAX_SEGMENTS})
        return cleaned

    def save(self, commit=True):
        if not self.instance.pk and getattr(self, "for_user", None) is not None:
            self.instance.created_by = self.for_user
        return super().save(commit=commit)


class ResidentForm(forms.Form):
    """A resident without an account, registered by staff with the consent they gave."""

    name = forms.CharField(label=gettext_lazy("Name"), max_length=150)
    phone = forms.CharField(label=gettext_lazy("Phone number"), max_length=40, required=False,
                            help_text=gettext_lazy("A landline is fine for phone calls."))
    email = forms.EmailField(label=gettext_lazy("Email address"), required=False)
    civic_address = forms.CharField(label=gettext_lazy("Civic address"), max_length=255,
                                    required=False)
    language = forms.ChoiceField(label=gettext_lazy("Language"),
                                 choices=[("fr", "Français"), ("en", "English")])
    district = forms.ModelChoiceField(label=gettext_lazy("District"), queryset=None,
                                      required=False)
    topics = forms.ModelMultipleChoiceField(label=gettext_lazy("Topics"), queryset=None,
                                            required=False,
                                            widget=forms.CheckboxSelectMultiple)
    voice = forms.BooleanField(label=gettext_lazy("Phone calls"), required=False,
                               initial=True)
    sms = forms.BooleanField(label=gettext_lazy("Text messages (mobile number only)"),
                             required=False)
    consent = forms.BooleanField(
        label=gettext_lazy("The resident consented to receive the city's alerts"))
    consent_note = forms.CharField(
        label=gettext_lazy("How was consent given?"), max_length=255,
        help_text=gettext_lazy("E.g. by phone on 2026-11-28, paper form at the counter."))

    def __init__(self, *args, **kwargs):
        from hub.models import District

        from .models import Topic

        super().__init__(*args, **kwargs)
        self.fields["district"].queryset = District.objects.order_by("name")
        self.fields["topics"].queryset = Topic.objects.filter(is_emergency=False)

    def clean(self):
        cleaned = super().clean()
        if not cleaned.get("phone") and not cleaned.get("email"):
            raise ValidationError(_("Give a phone number or an email address."))
        if cleaned.get("phone") and not (cleaned.get("voice") or cleaned.get("sms")):
            self.add_error("voice", _("Choose phone calls, text messages or both."))
        return cleaned


class ImportForm(forms.Form):
    """Upload of a CSV of residents; the first pass is always a preview."""

    file = forms.FileField(
        label=gettext_lazy("CSV file"),
        help_text=gettext_lazy("Columns: name, phone, email, address, language, district, "
                               "topics (slugs separated by ;). UTF-8, 2 MB at most."))
    consent = forms.BooleanField(
        label=gettext_lazy("Every resident in the file consented to receive the city's "
                           "alerts"))
    consent_note = forms.CharField(label=gettext_lazy("How was consent given?"),
                                   max_length=255)


class ImportConfirmForm(forms.Form):
    """The second pass: the previewed file's text, sent back to be written."""

    content = forms.CharField(widget=forms.HiddenInput, max_length=3 * 1024 * 1024)
    consent_note = forms.CharField(widget=forms.HiddenInput, max_length=255)
