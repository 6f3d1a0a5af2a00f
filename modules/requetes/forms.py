"""Forms of `requetes`.  They only collect input: the rules are in ``services``, whose
``ValidationError`` messages are put back on the matching fields."""

from __future__ import annotations

from django import forms
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from hub.geo import decimal_point

from .models import Question, ServiceRequest
from .services import MAX_PHOTOS


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class MultipleFileField(forms.FileField):
    def __init__(self, *args, **kwargs):
        kwargs.setdefault("widget", MultipleFileInput(attrs={
            "accept": "image/jpeg,image/png,image/webp,image/heic,image/heif"}))
        super().__init__(*args, **kwargs)

    def clean(self, data, initial=None):
        if not data:
            return []
        files = data if isinstance(data, (list, tuple)) else [data]
        return [super(MultipleFileField, self).clean(item, initial) for item in files]


class LocationForm(forms.Form):
    """Where: a civic address, and/or latitude and longitude (filled by the map, or
    typed).  The form only asks for one of them; ``services.place`` places an address
    alone from the hub's civic address register (so the form works without
    JavaScript) and checks the territory.  With JavaScript, the address field
    autocompletes and moves the map's pin.  Typed coordinates win."""

    address = forms.CharField(
        label=_("Civic address"), max_length=255, required=False,
        help_text=_("For example: 41 rue Victoria. Without the map, the address alone is "
                    "enough."))
    latitude = forms.CharField(label=_("Latitude"), max_length=32, required=False,
                               help_text=_("For example 45.2556. The map fills it in."))
    longitude = forms.CharField(label=_("Longitude"), max_length=32, required=False,
                                help_text=_("For example -74.1320. The map fills it in."))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["address"].widget.attrs.update({
            "autocomplete": "street-address", "data-address-autocomplete": "",
            "data-url": reverse("hub:address_suggestions"),
            "data-lat-field": "id_latitude", "data-lon-field": "id_longitude"})

    def clean(self):
        data = super().clean()
        # A French decimal comma (45,2556) is a point; inf, nan, 1e400 reach the
        # services' number check, which refuses them with a clear message.
        data["latitude"] = decimal_point((data.get("latitude") or "").strip())
        data["longitude"] = decimal_point((data.get("longitude") or "").strip())
        data["address"] = " ".join((data.get("address") or "").split())
        if not (data["latitude"] or data["longitude"] or data["address"]) \
                and not self.has_error("address"):
            self.add_error("latitude", _("Place the pin on the map, type the latitude "
                                         "and longitude, or give the civic address."))
        return data


class ReportForm(LocationForm):
    """The whole report: location, description, the category's questions, photos."""

    description = forms.CharField(label=_("Description"), max_length=4000,
                                  widget=forms.Textarea(attrs={"rows": 5}))
    description_public = forms.BooleanField(
        label=_("The description may be shown on the public map of open requests"),
        required=False)
    photos = MultipleFileField(
        label=_("Photos (optional)"), required=False,
        help_text=_("Up to %(n)d photos, JPEG, PNG, WebP or HEIC, 10 MB each.") % {
            "n": MAX_PHOTOS})
    submission_key = forms.UUIDField(widget=forms.HiddenInput)

    def __init__(self, *args, category, **kwargs):
        super().__init__(*args, **kwargs)
        self.category = category
        self.question_fields = []
        for question in category.questions.all():
            name = f"q_{question.code}"
            self.fields[name] = _question_field(question)
            self.question_fields.append(name)

    def answers(self) -> dict:
        result = {}
        for question in self.category.questions.all():
            name = f"q_{question.code}"
            if question.datatype == Question.Datatype.MULTI:
                result[question.code] = self.data.getlist(self.add_prefix(name)) \
                    if hasattr(self.data, "getlist") else self.data.get(name, [])
            else:
                result[question.code] = self.data.get(self.add_prefix(name), "")
        return result

    def add_service_errors(self, error: ValidationError) -> None:
        add_service_errors(self, error)


def _question_field(question: Question) -> forms.Field:
    common = {"label": question.label, "required": question.required,
              "help_text": question.help_text}
    if question.datatype == Question.Datatype.SINGLE:
        return forms.ChoiceField(choices=[("", "—"), *question.choice_list()], **common)
    if question.datatype == Question.Datatype.MULTI:
        return forms.MultipleChoiceField(choices=question.choice_list(),
                                         widget=forms.CheckboxSelectMultiple, **common)
    if question.datatype == Question.Datatype.TEXT:
        return forms.CharField(widget=forms.Textarea(attrs={"rows": 3}), max_length=4000,
                               **common)
    if question.datatype == Question.Datatype.NUMBER:
        # A text input: services parses and reports a clear error for non-numbers.
        return forms.CharField(max_length=32, widget=forms.TextInput(
            attrs={"inputmode": "decimal"}), **common)
    if question.datatype == Question.Datatype.DATETIME:
        return forms.CharField(max_length=32, widget=forms.TextInput(
            attrs={"type": "date"}), **common)
    return forms.CharField(max_length=255, **common)


def add_service_errors(form: forms.Form, error: ValidationError) -> None:
    """Put a ``services`` ValidationError on the form's fields (``answers.code`` goes to
    ``q_code``); what matches no field becomes a form error."""
    for key, messages in error.message_dict.items():
        name = f"q_{key.split('.', 1)[1]}" if key.startswith("answers.") else key
        for message in messages:
            form.add_error(name if name in form.fields else None, message)


class CommentForm(forms.Form):
    message = forms.CharField(label=_("Your comment"), max_length=4000,
                              widget=forms.Textarea(attrs={"rows": 3}))
    photos = MultipleFileField(label=_("Photos (optional)"), required=False)


class ReopenForm(forms.Form):
    message = forms.CharField(label=_("What is still wrong?"), max_length=4000,
                              widget=forms.Textarea(attrs={"rows": 3}))


class IntakeForm(ReportForm):
    """Phone/counter intake by an agent: the resident's account or the caller's contact."""

    channel = forms.ChoiceField(label=_("Channel"), choices=[
        (ServiceRequest.Channel.PHONE, _("Phone")),
        (ServiceRequest.Channel.COUNTER, _("Counter")),
        (ServiceRequest.Channel.EMAIL, _("Email"))])
    resident = forms.CharField(
        label=_("Resident's account (email or phone)"), required=False, max_length=254,
        help_text=_("Leave empty if the caller has no account, and fill in their contact "
                    "details below."))
    caller_name = forms.CharField(label=_("Caller's name"), required=False, max_length=120)
    caller_phone = forms.CharField(label=_("Caller's phone"), required=False, max_length=32)
    caller_email = forms.EmailField(label=_("Caller's email"), required=False)
    contact_channel = forms.ChoiceField(label=_("Preferred contact channel"),
                                        choices=ServiceRequest.ContactChannel.choices)
    priority = forms.ChoiceField(label=_("Priority"), choices=ServiceRequest.Priority.choices,
                                 initial=ServiceRequest.Priority.NORMAL)

    field_order = ["channel", "resident", "caller_name", "caller_phone", "caller_email",
                   "contact_channel", "latitude", "longitude", "address", "description",
                   "priority"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["channel"].widget.attrs["autofocus"] = True
        del self.fields["description_public"]
        self.order_fields(self.field_order)


class _TemplatePickerMixin:
    """A response-template select: without JavaScript, the chosen template's text is the
    message when the message is left empty (a small script fills the textarea)."""

    message_field = "public_message"

    def _add_template_field(self, request_obj):
        from .services import response_templates_for

        self.request_obj = request_obj
        department = request_obj.department
        self.fields["response_template"] = forms.ModelChoiceField(
            label=_("Response template"), required=False,
            queryset=response_templates_for(department), empty_label="—",
            help_text=_("Its text is used when the message is left empty."))

    def _apply_template(self, cleaned):
        template = cleaned.get("response_template")
        if template is not None and not (cleaned.get(self.message_field) or "").strip():
            from .services import response_template_text

            cleaned[self.message_field] = response_template_text(template, self.request_obj)
        return cleaned


class TransitionForm(_TemplatePickerMixin, forms.Form):
    to_status = forms.ChoiceField(label=_("New status"), choices=ServiceRequest.Status.choices)
    assignee = forms.ModelChoiceField(label=_("Assign to"), queryset=None, required=False)
    closure_reason = forms.ChoiceField(
        label=_("Closure reason"), required=False,
        choices=[("", "—"), *ServiceRequest.ClosureReason.choices])
    closure_note = forms.CharField(
        label=_("Whose responsibility, or why it will not be fixed"), required=False,
        max_length=2000)
    duplicate_of = forms.CharField(label=_("Duplicate of (reference)"), required=False,
                                   max_length=16)
    public_message = forms.CharField(label=_("Public message to the citizen"),
                                     required=False, max_length=4000,
                                     widget=forms.Textarea(attrs={"rows": 3}))
    internal_note = forms.CharField(label=_("Internal note (staff only)"), required=False,
                                    max_length=4000, widget=forms.Textarea(attrs={"rows": 2}))

    def __init__(self, *args, request_obj, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["assignee"].queryset = request_obj.department.agents.all()
        self._add_template_field(request_obj)
        self.order_fields([*[n for n in self.fields if n not in (
            "response_template", "public_message", "internal_note")],
            "response_template", "public_message", "internal_note"])

    def clean(self):
        return self._apply_template(super().clean())


SATISFACTION_CHOICES = [
    ("1", _("1 — Not at all satisfied")),
    ("2", _("2 — Not very satisfied")),
    ("3", _("3 — Fairly satisfied")),
    ("4", _("4 — Satisfied")),
    ("5", _("5 — Very satisfied")),
]


class SatisfactionForm(forms.Form):
    """The one question after closure; ``services.record_satisfaction`` decides."""

    satisfaction = forms.ChoiceField(
        label=_("How satisfied are you with how your request was handled?"),
        choices=SATISFACTION_CHOICES, widget=forms.RadioSelect)
    satisfaction_comment = forms.CharField(
        label=_("Comment (optional)"), required=False, max_length=1000,
        widget=forms.Textarea(attrs={"rows": 3}))


class ReplyForm(_TemplatePickerMixin, forms.Form):
    public_message = forms.CharField(label=_("Message to the citizen"), required=False,
                                     max_length=4000, widget=forms.Textarea(attrs={"rows": 3}))

    def __init__(self, *args, request_obj, **kwargs):
        super().__init__(*args, **kwargs)
        self._add_template_field(request_obj)
        self.order_fields(["response_template", "public_message"])

    def clean(self):
        cleaned = self._apply_template(super().clean())
        if not (cleaned.get("public_message") or "").strip():
            self.add_error("public_message", _("Write the message or choose a template."))
        return cleaned


class BulkActionForm(forms.Form):
    """The queue's bulk actions: assign the ticked requests to an agent, or move them to
    a status.  Each request still goes through ``services.transition``."""

    ACTIONS = [("assign", _("Assign to")), ("transition", _("Change the status to"))]
    BULK_STATUSES = [(s.value, s.label) for s in (
        ServiceRequest.Status.ACKNOWLEDGED, ServiceRequest.Status.IN_PROGRESS,
        ServiceRequest.Status.CLOSED)]

    ids = forms.TypedMultipleChoiceField(coerce=int, choices=(), required=True,
                                         error_messages={"required": _(
                                             "Tick at least one request.")})
    bulk_action = forms.ChoiceField(label=_("Action"), choices=ACTIONS)
    assignee = forms.ModelChoiceField(label=_("Agent"), queryset=None, required=False)
    to_status = forms.ChoiceField(label=_("Status"), choices=[("", "—"), *BULK_STATUSES],
                                  required=False)
    closure_reason = forms.ChoiceField(
        label=_("Closure reason"), required=False,
        choices=[("", "—"), *[c for c in ServiceRequest.ClosureReason.choices
                              if c[0] != ServiceRequest.ClosureReason.DUPLICATE]])
    closure_note = forms.CharField(label=_("Closure details"), required=False,
                                   max_length=2000)
    public_message = forms.CharField(label=_("Public message"), required=False,
                                     max_length=4000)

    def __init__(self, *args, assignees, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["assignee"].queryset = assignees
        raw = self.data.getlist("ids") if hasattr(self.data, "getlist") else []
        self.fields["ids"].choices = [(value, value) for value in raw if value.isdigit()]

    def clean(self):
        cleaned = super().clean()
        action = cleaned.get("bulk_action")
        if action == "assign" and not cleaned.get("assignee"):
            self.add_error("assignee", _("Choose the agent to assign."))
        if action == "transition" and not cleaned.get("to_status"):
            self.add_error("to_status", _("Choose the new status."))
        return cleaned
