from django import template
from django.utils.translation import get_language

from ..channels import channel_label as _channel_label
from ..channels import needs_verification as _needs_verification

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


@register.filter
def reached_unconfirmed(code):
    """Whether addresses of this channel are used without a confirmation (voice, push,
    a plugin's webhook…): they show "Ready" rather than "To confirm"."""
    return not _needs_verification(code)
