"""Response templates in the Wagtail admin (a snippet).

Who edits what, decided by the module's role permissions (``roles.py``: administer
requests, handle department requests) rather than by the template model's own:

* administrators: every template, shared ones included;
* department agents: their departments' templates (create, edit, delete); the shared
  ones (no department) reach every department, so only administrators change them —
  agents still use them in the picker.
"""

from __future__ import annotations

from django import forms
from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from wagtail.admin.forms import WagtailAdminModelForm
from wagtail.admin.panels import FieldPanel, ObjectList
from wagtail.permission_policies.base import BasePermissionPolicy
from wagtail.permissions import register_permission_policy
from wagtail.snippets.views.snippets import DeleteView, EditView, SnippetViewSet

from . import roles, services
from .models import ResponseTemplate

ACTIONS = {"add", "change", "delete", "view"}


class ResponseTemplatePermissionPolicy(BasePermissionPolicy):
    def user_has_permission(self, user, action):
        if action not in ACTIONS or not (user and user.is_active):
            return False
        return services.is_administrator(user) or services.is_department_agent(user)

    def users_with_any_permission(self, actions):
        if not set(actions) & ACTIONS:
            return get_user_model().objects.none()
        return roles.users_with_permission(roles.PERM_ADMINISTER,
                                           roles.PERM_HANDLE_DEPARTMENT)

    def user_has_permission_for_instance(self, user, action, instance):
        if not self.user_has_permission(user, action):
            return False
        if services.is_administrator(user):
            return True
        return (instance.department_id is not None
                and user.departments.filter(pk=instance.department_id).exists())

    def instances_user_has_any_permission_for(self, user, actions):
        qs = ResponseTemplate.objects.all()
        if not self.user_has_any_permission(user, actions):
            return qs.none()
        if services.is_administrator(user):
            return qs
        return qs.filter(department__in=user.departments.all())

    def users_with_any_permission_for_instance(self, actions, instance):
        users = self.users_with_any_permission(actions)
        administrators = roles.users_with_permission(roles.PERM_ADMINISTER)
        if instance.department_id is None:
            return administrators
        return users.filter(Q(pk__in=administrators.values("pk"))
                            | Q(departments=instance.department_id)).distinct()


# Registered on import, before the snippet viewset asks for its model's policy.
register_permission_policy(ResponseTemplate, ResponseTemplatePermissionPolicy(ResponseTemplate),
                           exact_class=True)


class ResponseTemplateForm(WagtailAdminModelForm):
    """An agent picks one of their departments (required); an administrator may leave it
    empty for a template every department shares."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        user = self.for_user
        field = self.fields.get("department")
        if field is not None and user is not None and not services.is_administrator(user):
            field.queryset = user.departments.all()
            field.required = True
            field.empty_label = None

    def clean_department(self):
        department = self.cleaned_data.get("department")
        user = self.for_user
        if (user is not None and not services.is_administrator(user)
                and (department is None
                     or not user.departments.filter(pk=department.pk).exists())):
            raise forms.ValidationError(_("Choose one of your departments."))
        return department


class _InstanceCheckedMixin:
    """Wagtail's edit and delete views check the model-level permission only; this
    checks the template itself (another department's, or a shared one for an agent)."""

    instance_action = "change"

    def get_object(self, queryset=None):
        obj = super().get_object(queryset)
        if not self.permission_policy.user_has_permission_for_instance(
                self.request.user, self.instance_action, obj):
            raise PermissionDenied
        return obj


class ResponseTemplateEditView(_InstanceCheckedMixin, EditView):
    instance_action = "change"


class ResponseTemplateDeleteView(_InstanceCheckedMixin, DeleteView):
    instance_action = "delete"


class ResponseTemplateViewSet(SnippetViewSet):
    model = ResponseTemplate
    icon = "comment"
    menu_label = _("Response templates")
    menu_order = 220
    add_to_admin_menu = True
    edit_view_class = ResponseTemplateEditView
    delete_view_class = ResponseTemplateDeleteView
    list_display = ["title", "department", "active", "order"]
    list_filter = ["active", "department"]
    search_fields = ["title", "body_fr", "body_en"]
    edit_handler = ObjectList([
        FieldPanel("title"), FieldPanel("department"), FieldPanel("body_fr"),
        FieldPanel("body_en"), FieldPanel("active"), FieldPanel("order"),
    ], base_form_class=ResponseTemplateForm)

    def get_queryset(self, request):
        return self.permission_policy.instances_user_has_any_permission_for(
            request.user, ["change", "view"]).select_related("department")
