"""Events the `requetes` module owns; other modules implement them with
``@hookimpl(optionalhook=True)`` so nothing breaks when `requetes` is absent.

Both fire after the database transaction commits (``hub.plugins.manager.fire_event``).
"""

from typing import Any

from hub.plugins import hookspec


@hookspec
def requete_created(request: Any) -> None:
    """A service request was created (any channel: web, app, phone, Open311).

    ``request`` is the saved ``ServiceRequest``.  Return nothing; a failing listener is
    logged and never breaks the sender.
    """


@hookspec
def requete_status_changed(request: Any, old: str, new: str, event: Any) -> None:
    """A service request changed status.

    ``old`` and ``new`` are status codes (``"new"``, ``"acknowledged"``, …); ``event``
    is the recorded history entry (who, when, public message).  Return nothing.
    """
