"""Rich text is cleaned when it is stored, whatever the way in (hub pages and modules' news
use the same block).

Draftail only produces safe markup, but news also arrive by other paths (wagtail-localize
translations, imports, scripts, a crafted form post): a ``<script>``, an ``onerror``
handler or a ``javascript:`` link must never reach the public page or the API.  The rules
keep exactly what the editor's features can produce, in Wagtail's database format
(``<a linktype="page" id="…">``, ``<embed embedtype="image" …/>``).
"""

from __future__ import annotations

from wagtail import blocks
from wagtail.whitelist import Whitelister, allow_without_attributes, attribute_rule, check_url

# Elements whose content is code, not text: dropped with what they hold.
DROPPED_WITH_CONTENT = {"script", "style", "iframe", "object", "embed-js", "template",
                        "noscript", "svg", "math", "textarea", "select"}


class StoredRichTextWhitelister(Whitelister):
    element_rules = {
        **dict.fromkeys(("[document]", "p", "br", "h2", "h3", "h4", "b", "strong", "i", "em",
                         "ol", "ul", "li", "hr"), allow_without_attributes),
        "a": attribute_rule({"href": check_url, "linktype": True, "id": True}),
        "embed": attribute_rule({"embedtype": True, "id": True, "format": True,
                                 "alt": True, "url": check_url}),
    }

    def clean_tag_node(self, doc, tag):
        if tag.name in DROPPED_WITH_CONTENT:
            tag.decompose()
            return
        super().clean_tag_node(doc, tag)


_whitelister = StoredRichTextWhitelister()


def clean(html: str) -> str:
    return _whitelister.clean(html or "")


class SafeRichTextBlock(blocks.RichTextBlock):
    """A ``RichTextBlock`` whose stored HTML goes through :func:`clean`."""

    def get_prep_value(self, value):
        return clean(super().get_prep_value(value))

    def to_python(self, value):
        # Also on the way out: a StreamField assigned as raw JSON is stored as given
        # (Wagtail keeps unaccessed raw items untouched), so it is cleaned when read.
        return super().to_python(clean(value) if isinstance(value, str) else value)

    def deconstruct(self):
        # Stored exactly like Wagtail's block: cleaning is behaviour, not schema, so it
        # needs no migration.
        _path, args, kwargs = super().deconstruct()
        return "wagtail.blocks.RichTextBlock", args, kwargs
