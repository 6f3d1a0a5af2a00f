"""The alert form of the admin: channels as checkboxes, SMS length checked, sent alerts
locked (write an update or a cancellation instead)."""

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from wagtail.admin.forms import WagtailAdminModelForm

from . import sms
from .models import Alert, Channel


class AlertForm(WagtailAdminModelForm):
    channels = forms.MultipleChoiceField(
        label=gettext_lazy("Channels"), choices=Channel.choices, required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=gettext_lazy("Emergencies go out on every channel a resident gave."))

    def clean(self):
        cleaned = super().clean()
        if self.instance.pk and self.instance.status != Alert.Status.DRAFT:
            raise ValidationError(_("A sent or scheduled alert cannot be changed: write an "
                                    "update or a cancellation."))
        for language in ("fr", "en"):
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
        # A change after an approval needs a new approval.
        if self.instance.pk and self.changed_data:
            self.instance.approved_by = None
            self.instance.approved_at = None
        return super().save(commit=commit)
