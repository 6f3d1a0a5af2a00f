from django import template
from django.utils.translation import get_language

from ..models import Channel

register = template.Library()


@register.simple_tag
def alert_text(obj, field):
    """``obj.<field>(language)`` in the page's language, falling back to French."""
    return getattr(obj, field)(get_language())


@register.simple_tag
def channel_label(code):
    try:
        return Channel(code).label
    except ValueError:
        return code
