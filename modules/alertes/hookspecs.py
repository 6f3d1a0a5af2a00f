"""Hooks the `alertes` module owns, added to the hub's plugin manager through
``hub_hookspecs`` (as Datasette lets plugins declare hooks).

A plugin implementing them is a separate package registered on the
``espace_citoyen.modules`` entry point; it never imports ``modules.alertes``: everything
it needs comes in the arguments and goes back in plain dicts.
"""

from typing import Any

from hub.plugins import hookspec


@hookspec
def alertes_app_push(deliveries: list[Any], payloads: dict[int, dict]) -> dict[int, dict] | None:
    """Send push notifications to mobile apps (Firebase Cloud Messaging, Apple Push
    Notification service…).

    Called by the delivery worker for every ``push`` delivery whose address is an app
    device token, ``fcm:<token>`` or ``apns:<token>`` (browser subscriptions go through
    Web Push without this hook).  ``deliveries`` are ``Delivery`` rows (``pk``,
    ``address``, ``language``, ``alert``); ``payloads`` maps each ``pk`` to the
    notification to show: ``title``, ``body``, ``url`` (the alert's page), ``tag``,
    ``severity`` (``emergency`` deserves the service's high priority), ``lang``,
    ``alert``.

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
