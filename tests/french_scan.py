"""What a French reader sees on a rendered page, and what in it is not Québec French:
English words of our interface left untranslated, and the typography (a non-breaking
space before « : ; ! ? » and inside « guillemets », no straight quotes around French).

Used by tests/test_french_leftovers.py; kept apart so a failure lists every leftover."""

from __future__ import annotations

import re
from html.parser import HTMLParser

# Our interface's common English, as it would leak untranslated (case-sensitive words,
# whole words).  Proper names (English, the language switcher) are not listed.
ENGLISH = [
    "Submit", "Save", "Save draft", "More actions", "e-mail", "E-mail", "Email", "email address",
    "Zoom in", "Zoom out", "Sign in", "Sign out", "Sign up", "Password", "Cancel", "Delete",
    "Search", "Next", "Previous", "Back", "Send", "Edit", "Status", "Category",
    "Address", "Choose", "Dashboard", "Requests",
    "My requests", "Alerts", "News", "Subscribe", "Unsubscribe", "Read more",
    "Forgot your password", "Remember me", "Loading", "Close", "Open", "Failed", "failed",
    "Sent", "sent", "Pending", "Channel", "Reason", "Not configured", "provider",
    "Select", "Skip to", "Home", "Required", "required", "Optional", "Clear",
    "Filter", "Apply", "Reset", "Download", "Upload", "Remove", "Add", "Show", "Hide",
    "Published", "Draft", "Live", "Editors", "Moderators", "Administrators",
]
_ENGLISH_RE = re.compile(r"(?<![\w-])(" + "|".join(
    re.escape(w) for w in sorted(ENGLISH, key=len, reverse=True)) + r")(?![\w-])")

# A regular space, or none, before : ; ! ? followed by a space or the end (not 14:30, not
# https://, not ?q=); « or » without its non-breaking space; a French phrase in "quotes".
_NBSP = "\u00a0\u202f"
_BAD_SPACE = re.compile(r"(?:(?<=[^\s\u00a0\u202f])| )[:;!?](?=\s|$)")
_GUILLEMETS = re.compile(r"«(?![\u00a0\u202f])|(?<![\u00a0\u202f])»")
_STRAIGHT = re.compile(r"\"[A-Za-zÀ-ÿ][^\"]{0,80}\"")

_SKIP = {"script", "style", "template", "noscript", "svg", "code", "pre", "kbd", "samp",
         "textarea"}

# Texts a library writes in its templates without gettext, beyond a catalog's reach
# (Wagtail's visually hidden search button, wagtailadmin/home.html and shared/header.html).
LIBRARY_HARD_CODED = {"Search"}
_VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta",
         "param", "source", "track", "wbr"}
_READ_ATTRS = ("title", "aria-label", "placeholder", "alt", "aria-description")


class _Text(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.stack: list[tuple[str, bool, bool]] = []  # tag, skipped, english
        self.chunks: list[str] = []

    def _flags(self):
        return (any(s for _t, s, _e in self.stack), any(e for _t, _s, e in self.stack))

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        skipped, english = self._flags()
        english = english or (attrs.get("lang") or "").startswith("en") \
            or (attrs.get("hreflang") or "").startswith("en")
        skipped = skipped or tag in _SKIP or ("hidden" in attrs and tag != "input") \
            or attrs.get("aria-hidden") == "true" or "data-untranslated" in attrs
        if not (skipped or english):
            for name in _READ_ATTRS:
                if attrs.get(name):
                    self.chunks.append(attrs[name])
            if tag == "input" and attrs.get("type") in ("submit", "button") and attrs.get("value"):
                self.chunks.append(attrs["value"])
        if tag not in _VOID:
            self.stack.append((tag, skipped, english))

    def handle_startendtag(self, tag, attrs):
        self.handle_starttag(tag, attrs)
        if tag not in _VOID and self.stack and self.stack[-1][0] == tag:
            self.stack.pop()

    def handle_endtag(self, tag):
        for i in range(len(self.stack) - 1, -1, -1):
            if self.stack[i][0] == tag:
                del self.stack[i:]
                break

    def handle_data(self, data):
        skipped, english = self._flags()
        if not (skipped or english) and data.strip():
            self.chunks.append(data)


def visible_text(html: str) -> list[str]:
    """The texts a reader sees or hears: text nodes and the attributes read aloud, not
    scripts, styles, hidden parts or what is marked English (``lang="en"``)."""
    parser = _Text()
    parser.feed(html)
    parser.close()
    return parser.chunks


def problems(html: str, *, allow: tuple[str, ...] = ()) -> list[str]:
    """Each English leftover and typographic slip, with its text."""
    found = []
    for chunk in visible_text(html):
        # Newlines and runs of spaces read as one space (str.split() would take the
        # non-breaking spaces too).
        text = re.sub(r"[ \t\r\n\f\v]+", " ", chunk).strip()
        text = re.sub(r"(?<=[^\s])[\u00a0\u202f]+", "\u00a0", text)
        if text in LIBRARY_HARD_CODED or any(a in text for a in allow):
            continue
        for match in _ENGLISH_RE.finditer(text):
            found.append(f"English {match.group(0)!r} in {text[:120]!r}")
        if re.search(r"https?://|www\.|@\w", text):
            continue  # URLs and addresses spelt out keep their colons
        for match in _BAD_SPACE.finditer(text):
            found.append(f"no non-breaking space before {match.group(0).strip()!r} in "
                         f"{text[:120]!r}")
        for _match in _GUILLEMETS.finditer(text):
            found.append(f"guillemet without a non-breaking space in {text[:120]!r}")
        for match in _STRAIGHT.finditer(text):
            found.append(f"straight quotes {match.group(0)!r} in {text[:120]!r}")
    return found
