"""Discovery, registration and enable/disable of modules.

Modules are found through the ``espace_citoyen.modules`` entry-point group: each entry
point names a module's ``plugin`` module (``requetes = "modules.requetes.plugin"``); the
package that holds it is the module's Django app.  Settings call :func:`module_apps` to
put the enabled modules' apps in ``INSTALLED_APPS``; the hub then calls hooks through
:func:`hooks`, which honours ``settings.HUB_DISABLED_MODULES`` at call time, so a module
switched off contributes nothing (no URL, tile, panel, banner, API route or menu).

This file must stay importable before Django is configured (settings import it).
"""

from __future__ import annotations

import functools
import json
import logging
import os
from dataclasses import dataclass
from importlib import import_module
from importlib.metadata import entry_points
from typing import Any

import pluggy

from . import PROJECT_NAME, hookspecs

ENTRY_POINT_GROUP = "espace_citoyen.modules"
DEFAULT_ORDER = 100

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class ModuleEntry:
    """A module found through its entry point, before anything of it is imported."""

    slug: str
    plugin_path: str

    @property
    def app(self) -> str:
        return self.plugin_path.rsplit(".", 1)[0]


def discover() -> list[ModuleEntry]:
    """Every module installed in the environment, sorted by slug, duplicates removed."""
    seen: dict[str, ModuleEntry] = {}
    for ep in entry_points(group=ENTRY_POINT_GROUP):
        seen.setdefault(ep.name, ModuleEntry(slug=ep.name, plugin_path=ep.value))
    return sorted(seen.values(), key=lambda entry: entry.slug)


def settings_from_environment(environ) -> dict:
    """``ALERTES_TWILIO_FROM=+14505550100`` → ``{"ALERTES_TWILIO_FROM": "+14505550100"}``
    for every installed module's slug; JSON values (``5``, ``true``, ``{"sms": 1}``) are
    decoded so that numbers and mappings arrive typed."""
    prefixes = tuple(f"{entry.slug.upper()}_" for entry in discover())
    found = {}
    for name, raw in environ.items():
        if not prefixes or not name.startswith(prefixes) or not name[:1].isalpha():
            continue
        try:
            found[name] = json.loads(raw)
        except ValueError:
            found[name] = raw
    return found


def parse_disabled(value: str | None) -> list[str]:
    """``"alertes, requetes"`` → ``["alertes", "requetes"]`` (for the environment variable)."""
    return [slug.strip() for slug in (value or "").split(",") if slug.strip()]


def module_apps(disabled: list[str] | None = None) -> list[str]:
    """Django apps of the modules to install, for ``INSTALLED_APPS``.

    Modules disabled when the process starts are not installed at all (no models, no
    migrations); modules disabled later (``HUB_DISABLED_MODULES`` changed at run time)
    stay installed but are silenced by :func:`hooks`.
    """
    if disabled is None:
        disabled = parse_disabled(os.environ.get("HUB_DISABLED_MODULES"))
    return [entry.app for entry in discover() if entry.slug not in disabled]


def _disabled_slugs() -> set[str]:
    from django.conf import settings

    return set(getattr(settings, "HUB_DISABLED_MODULES", []) or [])


@functools.cache
def get_plugin_manager() -> pluggy.PluginManager:
    """Build the plugin manager once per process.

    Registers the plugin of every module whose app is installed, adds the event hooks
    modules declare (``hub_hookspecs``), then ``check_pending()`` so a misspelled hook
    implementation fails at start-up instead of being silently ignored.
    """
    from django.apps import apps

    pm = pluggy.PluginManager(PROJECT_NAME)
    pm.add_hookspecs(hookspecs)
    for entry in discover():
        if not apps.is_installed(entry.app):
            continue
        plugin = import_module(entry.plugin_path)
        pm.register(plugin, name=entry.slug)
    for module_specs in pm.hook.hub_hookspecs():
        if module_specs is not None:
            pm.add_hookspecs(module_specs)
    pm.check_pending()
    return pm


def _disabled_plugins(pm: pluggy.PluginManager) -> list[Any]:
    disabled = _disabled_slugs()
    return [plugin for name, plugin in pm.list_name_plugin() if name in disabled]


class _EnabledHooks:
    """``hooks().hub_home_tiles(request=r)``: like ``pm.hook`` without disabled modules."""

    def __init__(self, pm: pluggy.PluginManager):
        self._pm = pm
        self._removed = _disabled_plugins(pm)

    def __getattr__(self, name: str):
        if not self._removed:
            return getattr(self._pm.hook, name)
        return self._pm.subset_hook_caller(name, remove_plugins=self._removed)


def hooks() -> _EnabledHooks:
    """The hook relay the hub calls; disabled modules are left out."""
    return _EnabledHooks(get_plugin_manager())


def _orders(pm: pluggy.PluginManager) -> dict[str, int]:
    """Module name → ``order`` from each module's ``hub_module()`` (cheap: a dict per
    module, read on each call so a module registered late is ordered too)."""
    orders: dict[str, int] = {}
    for impl in pm.hook.hub_module.get_hookimpls():
        meta = impl.function() or {}
        orders[impl.plugin_name] = meta.get("order", DEFAULT_ORDER)
    return orders


def ordered_hookimpls(caller) -> list[Any]:
    """The implementations of a hook caller in module ``order`` (lower first); modules
    of the same order keep their registration order (stable sort)."""
    orders = _orders(get_plugin_manager())
    # pluggy calls implementations last-registered first; registration order is the
    # list's own order, which the stable sort keeps among equal orders.
    return sorted(caller.get_hookimpls(),
                  key=lambda impl: orders.get(impl.plugin_name, DEFAULT_ORDER))


def _ordered_results(hook_name: str, **kwargs: Any) -> list[tuple[int, Any]]:
    caller = getattr(hooks(), hook_name)
    orders = _orders(get_plugin_manager())
    results = []
    for impl in ordered_hookimpls(caller):
        result = impl.function(*(kwargs[arg] for arg in impl.argnames))
        if result is not None:
            results.append((orders.get(impl.plugin_name, DEFAULT_ORDER), result))
    return results


def collect(hook_name: str, **kwargs: Any) -> list[Any]:
    """Call a hook on every enabled module in module ``order`` and flatten the lists it
    returns (a non-list result is one item; ``None`` results are dropped).

    As hookspecs.py promises: a module of lower order contributes first, whatever the
    order in which modules were registered."""
    items: list[Any] = []
    for _order, result in _ordered_results(hook_name, **kwargs):
        if isinstance(result, (list, tuple)):
            items.extend(result)
        else:
            items.append(result)
    return items


def collect_sorted(hook_name: str, **kwargs: Any) -> list[dict[str, Any]]:
    """Like :func:`collect` for hooks returning dicts that may carry their own ``order``
    (tiles, panels, banners): sorted by that ``order``, which defaults to the module's;
    equal orders keep module order, then the module's own order of items."""
    items: list[tuple[int, dict[str, Any]]] = []
    for order, result in _ordered_results(hook_name, **kwargs):
        for item in result if isinstance(result, (list, tuple)) else [result]:
            items.append((item.get("order", order), item))
    return [item for _order, item in sorted(items, key=lambda pair: pair[0])]


def module_metadata(slug: str) -> dict[str, Any]:
    """The ``hub_module()`` dict of one registered module, with defaults filled in."""
    pm = get_plugin_manager()
    plugin = pm.get_plugin(slug)
    caller = pm.subset_hook_caller(
        "hub_module", remove_plugins=[p for p in pm.get_plugins() if p is not plugin]
    )
    results = caller()
    meta = dict(results[0]) if results else {}
    meta.setdefault("slug", slug)
    meta.setdefault("name_fr", slug)
    meta.setdefault("name_en", meta["name_fr"])
    meta.setdefault("description_fr", "")
    meta.setdefault("description_en", meta["description_fr"])
    meta.setdefault("icon", "module")
    meta.setdefault("order", DEFAULT_ORDER)
    meta.setdefault("version", "")
    return meta


def registered_modules() -> list[dict[str, Any]]:
    """Metadata of every registered module, enabled or not, in module order.

    Each dict also carries ``enabled`` (bool) and ``hooks`` (names it implements).
    """
    pm = get_plugin_manager()
    disabled = _disabled_slugs()
    modules = []
    for name, plugin in pm.list_name_plugin():
        meta = module_metadata(name)
        meta["enabled"] = name not in disabled
        meta["hooks"] = sorted(caller.name for caller in pm.get_hookcallers(plugin) or [])
        modules.append(meta)
    return sorted(modules, key=lambda m: (m["order"], m["slug"]))


def enabled_modules() -> list[dict[str, Any]]:
    return [meta for meta in registered_modules() if meta["enabled"]]


def fire_event(hook_name: str, **kwargs: Any) -> None:
    """Fire a module event after the current transaction commits.

    Each listener runs on its own: one that raises is logged and the others still run,
    and the sender never sees the error (DESIGN.md, rule 2).  Outside a transaction the
    event fires at once.
    """
    from django.db import transaction

    transaction.on_commit(lambda: call_listeners(hook_name, **kwargs))


def call_listeners(hook_name: str, **kwargs: Any) -> list[Any]:
    """Call every enabled implementation of ``hook_name`` in module order, isolating
    failures."""
    caller = getattr(hooks(), hook_name, None)
    if caller is None:
        return []
    results = []
    for impl in ordered_hookimpls(caller):
        try:
            result = impl.function(*(kwargs[arg] for arg in impl.argnames))
        except Exception:
            logger.exception("Listener %s of %s failed", impl.plugin_name, hook_name)
            continue
        if result is not None:
            results.append(result)
    return results
