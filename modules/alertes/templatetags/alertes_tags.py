from django import template
from django.utils.translation import get_language

from ..channels import channel_label as _channel_label

register = template.Library()


@register.simple_tag
def alert_text(obj, field):
    """``obj.<field>(language)`` in the page's language, falling back to French."""
    return getattr(obj, field)(get_language())


@register.simple_tag
def channel_label(code):
    """The registered channel's label (``alertes_channels``), or the bare code of a
    channel no longer installed."""
    return _channel_label(code)
