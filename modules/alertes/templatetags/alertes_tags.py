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


@register.filter
def failure_reason(error):
    """A delivery's stored failure reason as the reader's language says it (never the
    provider's raw "SMS provider not configured" in a French page)."""
    from ..services.status import describe_error

    return describe_error(error or "")


@register.simple_tag
def colon():
    """The colon of a label in the page's language: after a non-breaking space in
    French ("Échec : …"), right after the word in English."""
    return "\u00a0:" if (get_language() or "").startswith("fr") else ":"
