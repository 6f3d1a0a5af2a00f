"""The console email backend of development (``EMAIL_URL=console://``, the default when
``DEBUG`` is on, as in ``make run``).

Django's console backend prints the whole MIME message: headers, then a body in
quoted-printable where a long link is cut with ``=`` and its ``=`` signs become ``=3D``, lost
among the web server's and the worker's lines (and the hundreds of alert emails the
demo's subscribers get).  This one prints a message with a link to open (an email
verification, a password reset, an alert address confirmation) after a banner that stands
out: who it is for, its subject, and each such link whole, ready to paste.  Any other
message (an alert, a notice) is one line, its recipient and subject: its text is in the
resident's Mon Espace and "Messages reçus" (or send to a local SMTP server with
``EMAIL_URL`` to read it whole).
"""

from __future__ import annotations

import re

from django.core.mail.backends.console import EmailBackend as DjangoConsoleBackend

# The links a person is asked to open: allauth's confirm-email and password reset keys,
# the alert subscription's address confirmation (/alertes/abonnement/courriel/<token>/).
ACTION_LINK = re.compile(
    r"https?://[^\s<>\"']*(?:confirm-email|password/reset/key|/abonnement/courriel/)"
    r"[^\s<>\"']*")
RULE = "=" * 78


def action_links(text: str) -> list[str]:
    """The links to open in ``text``, in order, without repeats."""
    return list(dict.fromkeys(ACTION_LINK.findall(text or "")))


def summary(message) -> str:
    return f"COURRIEL à {', '.join(message.to)} : {message.subject}"


def banner(message, links: list[str]) -> str:
    """The lines printed before a message with links to open: a rule, the recipient and
    subject, each link, a rule."""
    lines = [RULE, f"  {summary(message)}"]
    lines += [f"  >>> LIEN À OUVRIR : {link}" for link in links]
    lines.append(RULE)
    return "\n".join(lines) + "\n"


class ConsoleEmailBackend(DjangoConsoleBackend):
    """Django's console backend: a message with a link to open gets :func:`banner` then
    the message; any other, one line."""

    def write_message(self, message):
        links = action_links(message.body)
        if not links:
            self.stream.write(f"{summary(message)}\n")
            return
        self.stream.write(banner(message, links))
        super().write_message(message)
