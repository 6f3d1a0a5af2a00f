"""Events the `actualites` module owns; other modules implement them with
``@hookimpl(optionalhook=True)`` so nothing breaks when `actualites` is absent.

Fired after the database transaction commits (``hub.plugins.manager.fire_event``).
"""

from typing import Any

from hub.plugins import hookspec


@hookspec
def actualite_publiee(page: Any) -> None:
    """A news page was published (by an editor, or at its scheduled time by
    ``manage.py publish_scheduled``), in any language.

    ``page`` is the live ``NewsPage`` (``page.locale`` tells its language; ``page.lead``
    is a short summary, ``page.full_url`` its address).  E.g. `alertes` may push it to the
    subscribers of the City news topic.  Return nothing; a failing listener is logged
    and never breaks the sender.
    """
