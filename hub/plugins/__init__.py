"""The module system: pluggy hook specifications and the plugin manager.

Modules import :data:`hookimpl` from here to mark their hook implementations; the hub
calls hooks through :func:`hub.plugins.manager.hooks`, which skips disabled modules.
"""

import pluggy

PROJECT_NAME = "espace_citoyen"

hookspec = pluggy.HookspecMarker(PROJECT_NAME)
hookimpl = pluggy.HookimplMarker(PROJECT_NAME)

__all__ = ["PROJECT_NAME", "hookimpl", "hookspec"]
