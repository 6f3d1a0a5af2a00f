"""The news page's admin form."""

from __future__ import annotations

from wagtail.admin.forms import WagtailAdminPageForm


class NewsPageForm(WagtailAdminPageForm):
    """Offers the categories of the page's own language: a French news page lists the
    French categories ("Travaux"), not each one twice with its English translation."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        field = self.fields.get("categories")
        locale = getattr(self.instance, "locale_id", None) and self.instance.locale
        if locale is None and getattr(self, "parent_page", None) is not None:
            locale = self.parent_page.locale
        if field is not None and locale is not None:
            field.queryset = field.queryset.filter(locale=locale)
