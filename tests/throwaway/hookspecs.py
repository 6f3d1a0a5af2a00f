"""The throwaway module's own event, declared the way `requetes` declares its events."""

from hub.plugins import hookspec


@hookspec
def throwaway_happened(payload: dict) -> None:
    """Fired by the throwaway module; listeners receive the payload dict."""
