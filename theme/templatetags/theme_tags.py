"""Template helpers of the theme: language switch links and module names."""

from django import template
from django.urls import translate_url
from django.utils.translation import get_language

register = template.Library()


@register.simple_tag(takes_context=True)
def switch_language_url(context, language_code: str) -> str:
    """The current page in another language (Wagtail translation when it exists)."""
    request = context.get("request")
    page = context.get("page")
    if page is not None and hasattr(page, "get_translations"):
        if page.pk is None or getattr(request, "is_preview", False):
            return _translation_url(page, request, language_code)
        from wagtail.models import Site

        from hub.cache import memoize_public

        site = Site.find_for_request(request) if request is not None else None
        return memoize_public(
            "switch-language", [page.pk, language_code, site.pk if site else ""],
            lambda: _translation_url(page, request, language_code))
    if request is None:
        return f"/{language_code}/"
    return translate_url(request.get_full_path(), language_code)


def _translation_url(page, request, language_code: str) -> str:
    for translation in page.get_translations(inclusive=True).live().select_related("locale"):
        if translation.locale.language_code == language_code:
            return translation.get_url(request) or f"/{language_code}/"
    return f"/{language_code}/"


@register.simple_tag
def module_name(meta: dict) -> str:
    return meta["name_en"] if (get_language() or "fr").startswith("en") else meta["name_fr"]


@register.simple_tag
def menu_modules(modules) -> list[dict]:
    """The enabled modules that have a main menu entry (``menu_url``)."""
    return [meta for meta in (modules() if callable(modules) else modules)
            if meta.get("menu_url")]
