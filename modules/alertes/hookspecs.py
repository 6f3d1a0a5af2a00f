"""Hooks the `alertes` module owns, added to the hub's plugin manager through
``hub_hookspecs`` (as Datasette lets plugins declare hooks).

This file is `alertes`' **public surface** for plugins: a plugin is a separate package
registered on the ``espace_citoyen.modules`` entry point, and the only thing of
``modules.alertes`` it may import is this module (``modules.alertes.hookspecs``), for
the types named here (:class:`DeliveryError`, :class:`Throttle`).  Everything else it
needs comes in the arguments and goes back as plain values.  Implement the hooks with
``@hookimpl(optionalhook=True)``, so the plugin keeps working when `alertes` is absent
or disabled.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from hub.plugins import hookspec


class DeliveryError(Exception):
    """What a channel's ``send`` raises when the provider did not take the message.

    - ``transient=True``: worth retrying (HTTP 429 or 5xx, a timeout, a connection
      refused, SMTP 4xx): the outbox puts the row back in ``queued`` with an
      exponential backoff, up to five attempts, then fails it;
    - ``transient=False``: it will never work as it is (an invalid number, a hard
      bounce, a 4xx the provider will answer again): the row fails at once, with
      ``str(error)`` as its reason (shown in the alert's report);
    - ``address_failing=True`` (with a permanent error): the address itself is bad; it
      is marked failing and later messages skip it until the resident confirms it again.

    - ``ambiguous=True`` (with a transient error): the request may have reached the
      provider (a read timeout, a connection dropped after the request was written): the
      row is retried, but a channel with ``lookup`` asks the provider first whether the
      message exists, so it is not sent twice.

    Any other exception from ``send`` puts the row in ``review``: the message may or may
    not have left, and a person decides (nothing is resent silently).
    """

    def __init__(self, message: str, *, transient: bool, address_failing: bool = False,
                 ambiguous: bool = False):
        super().__init__(message)
        self.transient = transient
        self.address_failing = address_failing
        self.ambiguous = ambiguous


@dataclass(frozen=True)
class Throttle:
    """How a send is paced: the provider bucket it shares with other sends (``key``: one
    sender number, one account…) and that bucket's rate (messages per second, ``None``
    for unlimited).  Every worker on every machine waits for a slot of the bucket before
    ``send`` (shared through the cache)."""

    key: str
    rate: float | None


@hookspec
def alertes_channels() -> list[Any]:
    """Declare delivery channels: the ways `alertes` reaches a subscriber (its own email,
    sms, voice and push, and any a plugin adds: a webhook, a messaging app…).

    Called whenever `alertes` needs the registered channels: when it validates an
    address (``services.add_address``, the subscription form and the API, which offer
    every channel that can be added by hand), when the alert editor lists the channels,
    when an alert's audience is computed, and by the delivery worker for each batch of
    outbox rows.  Only enabled modules are asked; the channels are keyed by ``code`` and
    when two modules declare the same code the first in module order wins (the other is
    logged and ignored).  Called often: return cheap objects (connect lazily in ``send``).

    Return a list of channel objects.  A channel has:

    - ``code`` (str, required, at most 10 characters, e.g. ``"webhook"``): stored on the
      subscriber's address and on each outbox row; never change it once used;
    - ``label`` (str, required): its name for residents and staff, a lazy translated
      string (``gettext_lazy``);
    - ``send(delivery) -> str`` (required): hand one message to the provider over its
      real protocol; return the provider's id for the message (``""`` when it has none).
      Raise :class:`DeliveryError` when the provider refused it or could not be reached;
    - ``normalize_address(value: str) -> str`` (optional): check what a resident typed
      and return it in its stored form (trimmed, lower-cased, E.164…), or raise Django's
      ``ValidationError`` with a message for the resident.  Only channels with it can be
      added by hand (the subscription page, ``POST /api/v1/alert-subscription/addresses/``);
      push has its own registration (the browser or the app gives its subscription);
    - ``needs_verification`` (bool, optional, default ``False``): whether an address must
      be confirmed before anything is sent to it.  `alertes` confirms its own email (a
      signed link) and SMS (a 6-digit code) addresses; an address of any other channel
      that needs it is reached only once confirmed (e.g. staff registering a resident who
      consented).  ``False``: reached as soon as it is added (voice, push);
    - ``concurrent`` (bool, optional, default ``False``): ``send`` touches no database
      and is thread-safe, so the worker may call it from its sending threads;
    - ``batch()`` (optional): a context manager the worker enters around each batch, to
      keep provider sessions open for it (email: one SMTP connection per thread);
    - ``throttle(delivery) -> Throttle`` (optional): the bucket and rate this send waits
      for; without it the bucket is the channel's code at ``ALERTES_RATE_LIMITS[code]``
      (unlimited unless the setting names it);
    - ``reference(delivery) -> str`` (optional): an id for the message chosen *before*
      it is sent (email: its ``Message-ID``); the worker stores it on the row before the
      send, and ``send`` must use ``delivery.provider_id`` when it is set, so a message
      whose worker died can be matched in the provider's records;
    - ``lookup(delivery) -> tuple[str, str]`` (optional): ask the provider whether this
      message exists (a worker died during the send, or the answer was lost): ``("sent",
      provider id)``, or ``("absent", why)`` when the provider's own record shows it
      never arrived (it is then sent again); raise :class:`DeliveryError` when the
      provider cannot say.  Without ``lookup`` such a row goes to ``review`` with what is
      known (the time of the attempt, the reference).  ``lookup_grace`` (seconds,
      optional; default the channel's ``timeout`` plus 5): how long after an attempt a
      request may still be on its way, before which a dead worker's row is not looked up;

    ``delivery`` is the outbox row being sent; read only these fields:

    - ``pk`` (int): the row's id, the same on every retry; ``None`` for an officer's
      "send a test to me", which is not an outbox row;
    - ``channel`` (str): the channel's code; ``address`` (str): where to send, as
      ``normalize_address`` returned it; ``language`` (``"fr"`` or ``"en"``): the
      subscriber's language;
    - ``attempts`` (int): 1 on the first try, more on retries;
    - ``subscriber_id`` (int or ``None``: a person without a subscription told
      something personal);
    - what to say, exactly one of:

      - ``alert`` (an alert sent to subscribers, else ``None``): ``title(language)``,
        ``body(language)`` (the web and email text), ``sms(language)`` (short text),
        ``push(language)``, ``voice(language)`` (a script to read), ``severity``
        (``"info"``, ``"notice"``, ``"emergency"``), ``kind`` (``"alert"``,
        ``"update"``, ``"cancel"``), ``identifier`` (a UUID, stable across retries)
        and ``pk``;
      - ``notice`` (a personal notice taken through the hub's ``hub_notify``, else
        ``None``), its texts already in ``delivery.language``: ``subject``, ``body``,
        ``short`` (may be empty), ``sms()`` and ``push()`` (the short text or the
        subject), ``url`` (may be empty), ``urgency`` (``"normal"``, ``"urgent"``),
        ``topic``, ``source`` (the sending module's slug) and ``pk``.

    ``send`` must never write the database nor change the row: the worker records each
    outcome itself (``sent`` with the returned id, retried, failed with the error's text).
    """


@hookspec
def alertes_app_push(deliveries: list[Any], payloads: dict[int, dict]) -> dict[int, dict] | None:
    """Send push notifications to mobile apps (Firebase Cloud Messaging, Apple Push
    Notification service…).

    Called by the delivery worker for every ``push`` delivery whose address is an app
    device token, ``fcm:<token>`` or ``apns:<token>`` (browser subscriptions go through
    Web Push without this hook).  ``deliveries`` are ``Delivery`` rows (``pk``,
    ``address``, ``language``, ``alert``, ``notice``); ``payloads`` maps each ``pk`` to
    the notification to show: ``title``, ``body``, ``url`` (the alert's page, or the
    page a personal notice is about), ``tag``, ``severity`` (``emergency`` or, for a
    notice, ``urgent`` deserves the service's high priority), ``lang``, ``alert`` (the
    alert's id; ``None`` for a personal notice) and ``notice`` (a personal notice's id,
    sent through ``hub_notify``; absent for an alert).

    Answer only for the tokens your service handles (leave the others out, another
    implementation may take them): return ``{pk: result}`` where ``result`` is
    ``{"id": "<provider message id>"}`` when the service accepted the message,
    ``{"error": "<why>", "retry": True}`` for a transient failure (quota, 5xx,
    timeout: the outbox retries with backoff), ``{"error": "<why>"}`` for a permanent
    one, or ``{"unregistered": True}`` when the service says the token no longer
    exists (the address is deleted).  Return ``None`` when none is yours.  A delivery
    nobody answers for fails with "no app push service installed".  Do not raise: an
    exception puts the delivery in ``review`` for a person to check.
    """
