"""What staff are told about an alert's sending, and about the channels before it
leaves — derived from what happened, never from the alert's ``status`` alone.

* :func:`summaries`: for alerts already sent or being sent, the counts of their
  ``Delivery`` rows per channel, in **one** aggregate query whatever the number of
  alerts (the list screens call it once for their page), and the honest status:
  "Envoyé", "Envoyé avec 42 échecs", "Échec de l'envoi", "Envoi en cours".
* :func:`sending_plan`: before sending (compose, approval, the report of a draft),
  the channels the alert will really use — an emergency goes out on every channel,
  whatever boxes were ticked — and the warnings: a channel without its provider, the
  English calls read in French when there is no English text.
* :func:`describe_error`: a provider's failure reason (stored as the provider said it,
  in English) in the staff's language.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from django.db.models import Count, Q
from django.utils.formats import number_format
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from hub.text import human_duration

from ..channels import available_channels, channel_label
from ..models import Alert, Delivery

DONE = (Delivery.Status.SENT, Delivery.Status.DELIVERED)
PENDING = (Delivery.Status.QUEUED, Delivery.Status.SENDING)


@dataclass
class ChannelCounts:
    channel: str
    total: int = 0
    done: int = 0
    failed: int = 0
    pending: int = 0
    review: int = 0

    @property
    def label(self) -> str:
        return str(channel_label(self.channel))

    @property
    def text(self) -> str:
        """"SMS : 42 échecs sur 42", "Courriel : 3 envoyés"…"""
        parts = []
        if self.done:
            parts.append(ngettext("%(n)d sent", "%(n)d sent", self.done) % {"n": self.done})
        if self.failed:
            parts.append(ngettext("%(n)d failure", "%(n)d failures", self.failed)
                         % {"n": self.failed})
        if self.review:
            parts.append(ngettext("%(n)d to check", "%(n)d to check", self.review)
                         % {"n": self.review})
        if self.pending:
            parts.append(ngettext("%(n)d waiting", "%(n)d waiting", self.pending)
                         % {"n": self.pending})
        return _("%(channel)s: %(counts)s") % {"channel": self.label,
                                               "counts": ", ".join(parts) or "0"}


@dataclass
class Summary:
    """An alert's sending as it happened: per channel counts and a one-line status."""

    alert_status: str
    alert_status_label: str
    channels: list[ChannelCounts] = field(default_factory=list)

    def _sum(self, name: str) -> int:
        return sum(getattr(c, name) for c in self.channels)

    @property
    def total(self) -> int:
        return self._sum("total")

    @property
    def failed(self) -> int:
        return self._sum("failed")

    @property
    def pending(self) -> int:
        return self._sum("pending")

    @property
    def review(self) -> int:
        return self._sum("review")

    @property
    def done(self) -> int:
        return self._sum("done")

    @property
    def level(self) -> str:
        """``ok``, ``partial``, ``failed``, ``pending`` or ``none`` (not sent)."""
        if not self.total:
            return "none"
        if self.pending:
            return "pending"
        if self.failed and not self.done and not self.review:
            return "failed"
        if self.failed or self.review:
            return "partial"
        return "ok"

    @property
    def label(self) -> str:
        level = self.level
        if level == "none":
            if self.alert_status == Alert.Status.SENDING:  # the outbox is being written
                return _("Sending")
            if self.alert_status == Alert.Status.SENT:
                return _("Sent to nobody")
            return self.alert_status_label
        if level == "pending":
            if self.failed:
                return ngettext("Sending, %(n)d failure so far", "Sending, %(n)d failures so far",
                                self.failed) % {"n": self.failed}
            return _("Sending")
        if level == "failed":
            return _("Sending failed")
        if level == "partial":
            parts = []
            if self.failed:
                parts.append(ngettext("%(n)d failure", "%(n)d failures", self.failed)
                             % {"n": self.failed})
            if self.review:
                parts.append(ngettext("%(n)d to check", "%(n)d to check", self.review)
                             % {"n": self.review})
            return _("Sent with %(problems)s") % {"problems": _(" and ").join(parts)}
        if self.alert_status == Alert.Status.CANCELLED:
            return self.alert_status_label
        return _("Sent")


def summaries(alerts) -> dict[int, Summary]:
    """``{alert id: Summary}`` for ``alerts`` (instances), from one aggregate query on
    ``Delivery`` grouped by alert and channel."""
    alerts = list(alerts)
    result = {a.pk: Summary(a.status, str(a.get_status_display())) for a in alerts}
    if not alerts:
        return result
    rows = (Delivery.objects.filter(alert_id__in=list(result))
            .values("alert_id", "channel")
            .annotate(total=Count("pk"),
                      done=Count("pk", filter=Q(status__in=DONE)),
                      failed=Count("pk", filter=Q(status=Delivery.Status.FAILED)),
                      pending=Count("pk", filter=Q(status__in=PENDING)),
                      review=Count("pk", filter=Q(status=Delivery.Status.REVIEW)))
            .order_by("alert_id", "channel"))
    for row in rows:
        result[row["alert_id"]].channels.append(ChannelCounts(
            row["channel"], row["total"], row["done"], row["failed"], row["pending"],
            row["review"]))
    return result


def summary(alert: Alert) -> Summary:
    return summaries([alert])[alert.pk]


def summary_from_counts(alert: Alert, per_channel: dict) -> Summary:
    """The same summary from counts already aggregated (``report()['per_channel']``:
    ``{channel: {status: n}}``), without another query."""
    result = Summary(alert.status, str(alert.get_status_display()))
    for channel, counts in sorted(per_channel.items()):
        result.channels.append(ChannelCounts(
            channel, sum(counts.values()), sum(counts.get(s, 0) for s in DONE),
            counts.get(Delivery.Status.FAILED, 0), sum(counts.get(s, 0) for s in PENDING),
            counts.get(Delivery.Status.REVIEW, 0)))
    return result


def delay_text(seconds: float | None) -> str:
    """A delay after "send" as a person reads it: tenths under a minute, where an
    emergency's hand-over is measured ("0,4 s", "21,9 s"), then "5 min", "1 h 5 min";
    "—" when nothing happened yet."""
    if seconds is None:
        return "—"
    if seconds < 59.95:
        return _("%(seconds)s s") % {"seconds": number_format(seconds, 1)}
    return human_duration(seconds)


def humanize_report(report: dict) -> dict:
    """``report()`` with the labels staff read: the channels' names, the statuses and
    the failure reasons in the active language (the codes kept as they were)."""
    for row in report.get("channels", []):
        row["label"] = str(channel_label(row["channel"]))
        # Delays after "send" as a person reads them ("21 s", "1 h 5 min"), not 3725.0 s.
        for key in ("to_first_sent", "to_last_sent", "to_first_delivered", "to_last_delivered"):
            row[f"{key}_text"] = delay_text(row.get(key))
    for row in list(report.get("reasons", [])) + list(report.get("failures", [])):
        row["channel_label"] = str(channel_label(row["channel"]))
        row["status_label"] = status_label(row["status"])
        row["error_text"] = describe_error(row.get("error") or "")
    return report


# --- before sending ------------------------------------------------------------------------

def provider_missing(channel) -> bool:
    """Whether a channel object lacks its provider (Twilio for SMS and voice, VAPID keys
    for push); a channel without ``configured()`` (email, plugins) is taken as ready."""
    if getattr(channel, "code", "") == "push":
        from ..channels.webpush import configured

        return not configured()
    real = getattr(channel, "real", channel)  # a stand-in keeps the real channel
    configured = getattr(real, "configured", None)
    return callable(configured) and not configured()


def _sandbox_on() -> bool:
    try:
        from ..channels import sandbox
    except ImportError:  # pragma: no cover - the test box is optional
        return False
    return bool(sandbox.enabled())


@dataclass
class SendingPlan:
    channels: list[str]
    labels: list[str]
    emergency_override: bool
    ticked: list[str]
    warnings: list[str]


def sending_plan(alert: Alert, *, every_channel: bool = False) -> SendingPlan:
    """The channels ``alert`` will go out on and what staff must know before it does;
    ``every_channel``: warn about every registered channel (a new alert, nothing ticked
    yet)."""
    from .outbox import alert_channels

    registry = available_channels()
    channels = list(registry) if every_channel else alert_channels(alert)
    warnings = []
    sandbox = _sandbox_on()
    for code in channels:
        if provider_missing(registry[code]):
            label = str(channel_label(code))
            if sandbox:
                warnings.append(_("%(channel)s: no provider is configured; on this test "
                                  "server the messages go to the test box, not to "
                                  "residents.") % {"channel": label})
            else:
                warnings.append(_("%(channel)s: no provider is configured; these messages "
                                  "will fail and reach nobody.") % {"channel": label})
    if every_channel and "voice" in channels:
        warnings.append(_("Phone call: without an English text (voice or message), "
                          "English-speaking subscribers will hear the French text, read by "
                          "the French voice."))
    if "voice" in channels and not every_channel and not alert.speaks_english():
        warnings.append(_("Phone call: there is no English text (voice or message), so "
                          "English-speaking subscribers will hear the French text, read "
                          "by the French voice."))
    return SendingPlan(channels=channels, labels=[str(channel_label(c)) for c in channels],
                       emergency_override=alert.is_emergency,
                       ticked=[str(channel_label(c)) for c in alert.channels or []
                               if c in registry],
                       warnings=warnings)


# --- failure reasons -----------------------------------------------------------------------

def _known_errors():
    return [
        (r"^SMS provider not configured$", lambda m: _("No SMS provider is configured.")),
        (r"^Voice provider not configured$",
         lambda m: _("No voice call provider is configured.")),
        (r"^Web Push not configured", lambda m: _("Web Push is not configured (VAPID keys).")),
        (r"^Twilio unreachable", lambda m: _("Twilio could not be reached.")),
        (r"^Twilio did not answer", lambda m: _("Twilio did not answer in time.")),
        (r"^HTTP (\d{3}) Twilio (\d+): (.*)$",
         lambda m: _("Twilio refused it (HTTP %(status)s, error %(code)s): %(detail)s")
         % {"status": m[1], "code": m[2], "detail": m[3]}),
        (r"^HTTP (\d{3})", lambda m: _("The provider answered HTTP %(status)s.")
         % {"status": m[1]}),
        (r"^Twilio (?:call )?(busy|no-answer|failed|canceled)",
         lambda m: {"busy": _("The line was busy."), "no-answer": _("Nobody answered."),
                    "failed": _("The call failed."),
                    "canceled": _("The call was cancelled.")}[m[1]]),
        (r"^a fax machine answered$", lambda m: _("A fax machine answered.")),
        (r"^SMTP (\d{3}): recipient refused",
         lambda m: _("The mail server refused the recipient (SMTP %(code)s).")
         % {"code": m[1]}),
        (r"^worker stopped while sending",
         lambda m: _("The worker stopped while sending: check with the provider before "
                     "resending.")),
        (r"^voice calls are not offered for personal notices$",
         lambda m: _("Phone calls are not offered for personal notices.")),
        (r"^push subscription removed before sending$",
         lambda m: _("The push subscription was removed before sending.")),
    ]


def describe_error(error: str) -> str:
    """A stored failure reason in the active language; an unknown one is given as the
    provider's own words."""
    error = (error or "").strip()
    if not error:
        return ""
    for pattern, describe in _known_errors():
        match = re.match(pattern, error)
        if match:
            return describe(match)
    return _("Provider's answer: %(error)s") % {"error": error}


def status_label(code: str) -> str:
    return str(dict(Delivery.Status.choices).get(code, code))
