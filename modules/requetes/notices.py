"""The texts `requetes` sends to the people of a request (its requester and its "me too"
followers) on each public step, through ``hub_notify``.

``services`` decides when a step is public and who is told; this file only writes the
notice, in the recipient's language (``translation.override``): the transport
(`alertes`, or the hub's plain email) sends the texts as they are.  A notice names the
step, the request's reference, category and department, and the city's public words
(public message, closure reason and details); never an agent's name, an internal note or
another resident's identity.
"""

from __future__ import annotations

from django.conf import settings
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext as _
from django.utils.translation import pgettext

from hub.i18n import pick
from hub.notify import Notice, NoticeTopic, Recipient

TOPIC = "requests"

ACKNOWLEDGED = "acknowledged"
ASSIGNED = "assigned"
IN_PROGRESS = "in_progress"
MESSAGE = "message"  # a public message from the city, without a change of step
CLOSED = "closed"
MERGED = "merged"
REOPENED = "reopened"
# The text message / push text: the step's sentence and the city's words, at most two
# SMS segments of UCS-2 (French accents) with the link the transport adds.
SHORT_LIMIT = 200
STEPS = (ACKNOWLEDGED, ASSIGNED, IN_PROGRESS, MESSAGE, CLOSED, MERGED, REOPENED)


def topic() -> NoticeTopic:
    """The "My requests" topic residents choose channels for (email until they do)."""
    return NoticeTopic(
        "requests", "Mes requêtes", "My requests",
        description_fr="Les nouvelles des requêtes que vous avez faites ou que vous "
                       "suivez\u00a0: prise en charge, messages de la Ville, fermeture.",
        description_en="Updates on the requests you made or follow: acknowledgement, "
                       "messages from the city, closure.",
        default_channels=("email",))


def request_url(reference: str, language: str = "fr") -> str:
    """Absolute address of the request's page (for its requester and followers)."""
    with translation.override(language):
        path = reverse("requetes:detail", args=[reference])
    return settings.BASE_URL.rstrip("/") + path


def _step_name(step: str, target: str) -> str:
    names = {
        ACKNOWLEDGED: pgettext("request notice step", "acknowledged"),
        ASSIGNED: pgettext("request notice step", "assigned to a team"),
        IN_PROGRESS: pgettext("request notice step", "work under way"),
        MESSAGE: pgettext("request notice step", "new message"),
        CLOSED: pgettext("request notice step", "closed"),
        MERGED: pgettext("request notice step", "merged into %(target)s") % {
            "target": target},
        REOPENED: pgettext("request notice step", "reopened"),
    }
    return names[step]


def _lead(step: str, values: dict) -> str:
    if step == ACKNOWLEDGED:
        return _("%(department)s has taken charge of request %(reference)s "
                 "(%(category)s).") % values
    if step == ASSIGNED:
        return _("Request %(reference)s (%(category)s) has been assigned to a member of "
                 "the %(department)s team.") % values
    if step == IN_PROGRESS:
        return _("Work on request %(reference)s (%(category)s) is under way.") % values
    if step == MESSAGE:
        return _("The city wrote about request %(reference)s (%(category)s).") % values
    if step == CLOSED:
        return _("Request %(reference)s (%(category)s) is closed. Reason: "
                 "%(reason)s.") % values
    if step == MERGED:
        return _("Request %(reference)s (%(category)s) reports the same problem as "
                 "request %(target)s and was merged into it: you will now receive the "
                 "updates of request %(target)s.") % values
    return _("Request %(reference)s (%(category)s) was reopened by the person who made "
             "it: the problem is not solved.") % values


def build(*, step: str, recipient: Recipient, is_requester: bool, reference: str,
          category_fr: str, category_en: str, department: str, dedupe_key: str,
          public_message: str = "", closure_reason_fr: str = "",
          closure_reason_en: str = "", closure_note: str = "", target: str = "",
          with_link: bool = True) -> Notice:
    """The notice of ``step`` for one person, in ``recipient.language``.

    ``is_requester`` chooses "Your request …" or "The request … you follow";
    ``target`` is the reference a duplicate was merged into (its page is the link);
    ``with_link`` is False for a caller without an account, who cannot open the page.
    ``short`` (text message, push) is the step's sentence and the public message.
    """
    if step not in STEPS:
        raise ValueError(f"Unknown request notice step: {step!r}")
    language = recipient.language
    with translation.override(language):
        values = {
            "reference": reference,
            "category": pick(category_fr, category_en, language),
            "department": department,
            "reason": pick(closure_reason_fr, closure_reason_en, language),
            "target": target,
        }
        step_name = _step_name(step, target)
        if is_requester:
            subject = _("Your request %(reference)s: %(step)s") % {
                "reference": reference, "step": step_name}
        else:
            subject = _("The request %(reference)s you follow: %(step)s") % {
                "reference": reference, "step": step_name}
        url = request_url(target or reference, language) if with_link else ""
        lead = _lead(step, values)
        quoted = _("“%(message)s”") % {"message": public_message} if public_message else ""
        lines = [_("Hello,"), "", lead]
        if closure_note:
            lines += ["", _("Details: %(note)s") % {"note": closure_note}]
        if quoted:
            lines += ["", _("Message:"), quoted]
        lines += ["", _("You receive this message because you made or follow this "
                        "request.")]
        short = f"{lead} {quoted}".strip()
        if len(short) > SHORT_LIMIT:
            short = short[:SHORT_LIMIT - 1].rstrip() + "…"
    # The transports add the link (``url``) and their own footer.
    return Notice(recipient=recipient, topic=TOPIC, subject=subject, body="\n".join(lines),
                  short=short, url=url, dedupe_key=dedupe_key, source="requetes")
