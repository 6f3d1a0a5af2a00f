"""The subscriber screens: the list with search, filters and counts; the registration of
one resident without an account; the CSV import of many.

Registering and importing record the consent the residents gave (by phone, at the
counter): only those ``services.can_register`` allows may do it.
"""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import path
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from hub.text import CsvError, decode_csv_bytes

from .. import services
from ..admin_forms import ImportConfirmForm, ImportForm, ResidentForm
from ..channels import channel_choices
from ..models import ConsentRecord, Topic
from .base import AlertesPartViewSet, StaffScreen


class SubscribersView(StaffScreen):
    """Subscribers with search and filters, and the counts per topic, zone and channel."""

    permission = "alertes.view_subscriber"

    def get(self, request):
        from hub.models import District

        query = request.GET.get("q", "")[:100]
        filters = {key: request.GET.get(key, "")[:60]
                   for key in ("topic", "district", "channel")}
        rows = services.search_subscribers(query, **filters)
        page = Paginator(rows, 50).get_page(request.GET.get("p"))
        return TemplateResponse(request, "alertes/admin/subscribers.html", {
            "page": page, "query": query, "filters": filters,
            "counts": services.subscriber_counts(), "topics": Topic.objects.all(),
            "districts": District.objects.order_by("name"),
            "channels": channel_choices(),
            "can_register": services.can_register(request.user),
        })


class RegistrarScreen(StaffScreen):
    """A screen for those who may register residents (``services.can_register``)."""

    def has_permission(self, user) -> bool:
        return services.can_register(user)


class RegisterResidentView(RegistrarScreen):
    """One resident without an account (e.g. a senior with a landline), with the
    consent they gave (by phone, at the counter) recorded."""

    def get(self, request):
        return self.render(request, ResidentForm())

    def post(self, request):
        form = ResidentForm(request.POST)
        if not form.is_valid():
            return self.render(request, form)
        data = form.cleaned_data
        try:
            services.register_resident(
                name=data["name"], phone=data["phone"], email=data["email"],
                civic_address=data["civic_address"], language=data["language"],
                district=data["district"], topics=data["topics"], voice=data["voice"],
                sms=data["sms"], actor=request.user, method=ConsentRecord.Method.STAFF,
                consent_note=data["consent_note"])
        except ValidationError as exc:
            form.add_error(None, exc)
            return self.render(request, form)
        messages.success(request, _("%(name)s is registered.") % {"name": data["name"]})
        return redirect("alertes_admin:subscribers")

    def render(self, request, form):
        return TemplateResponse(request, "alertes/admin/register.html", {"form": form})


class ImportResidentsView(RegistrarScreen):
    """CSV import in two steps: the upload is always a dry run (what would be created,
    the errors line by line, nothing written); "Import" writes the previewed file."""

    template_name = "alertes/admin/import.html"

    def context(self):
        return {"form": ImportForm(), "max_mb": services.IMPORT_MAX_BYTES // (1024 * 1024)}

    def get(self, request):
        return TemplateResponse(request, self.template_name, self.context())

    def post(self, request):
        if "content" in request.POST:
            return self.confirm(request)
        return self.preview(request)

    def confirm(self, request):
        """"Import": the previewed file, sent back in the form, is written."""
        context = self.context()
        confirm = ImportConfirmForm(request.POST)
        if not confirm.is_valid():
            messages.error(request, _("The preview expired: upload the file again."))
            return TemplateResponse(request, self.template_name, context)
        try:
            rows = services.parse_residents_csv(
                confirm.cleaned_data["content"].encode("utf-8"))
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))
            return TemplateResponse(request, self.template_name, context)
        result = services.import_residents(
            rows, request.user, dry_run=False,
            consent_note=confirm.cleaned_data["consent_note"])
        messages.success(request, _("%(created)d residents registered, %(errors)d lines "
                                    "with errors.") % {"created": result["created"],
                                                        "errors": len(result["errors"])})
        context.update(result=result)
        return TemplateResponse(request, self.template_name, context)

    def preview(self, request):
        """The upload: a dry run showing what would be created and each line's error."""
        context = self.context()
        form = ImportForm(request.POST, request.FILES)
        context["form"] = form
        if form.is_valid():
            upload = form.cleaned_data["file"]
            try:
                if upload.size > services.IMPORT_MAX_BYTES:
                    raise ValidationError(_("The file is larger than %(size)d MB.") % {
                        "size": context["max_mb"]})
                data = upload.read()
                rows = services.parse_residents_csv(data)
                content = decode_csv_bytes(data)  # sent back for "Import"
            except ValidationError as exc:
                form.add_error("file", exc)
            except CsvError as exc:
                form.add_error("file", str(exc))
            else:
                result = services.import_residents(
                    rows, request.user, dry_run=True,
                    consent_note=form.cleaned_data["consent_note"])
                context.update(preview=result, confirm=ImportConfirmForm(initial={
                    "content": content, "consent_note": form.cleaned_data["consent_note"]}))
        return TemplateResponse(request, self.template_name, context)


class SubscriberViewSet(AlertesPartViewSet):
    """The "Alert subscribers" menu item and the screens behind it."""

    menu_label = gettext_lazy("Alert subscribers")
    menu_icon = "group"
    menu_order = 252
    menu_permission = "alertes.view_subscriber"

    def get_urlpatterns(self):
        return [
            path("abonnes/", SubscribersView.as_view(), name="subscribers"),
            path("abonnes/inscrire/", RegisterResidentView.as_view(), name="register"),
            path("abonnes/importer/", ImportResidentsView.as_view(), name="import"),
        ]
