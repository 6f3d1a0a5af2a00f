"""Meta-tests, as Datasette has: every hook is documented and every hook has a test.

Two kinds of hooks:

- the hub's (``hub/plugins/hookspecs.py``): each has a ``### `name`` section in
  docs/modules.md and a ``test_hook_<name>`` test somewhere under tests/;
- the modules' own (every ``@hookspec`` in ``modules/<slug>/hookspecs.py``): each has its
  section in docs/modules.md too, and a test.  An *event* (a hook the module fires with
  ``fire_event("<name>", ...)``) must really be fired by the owning module's code, and
  its test must both listen to it (a ``def <name>(`` listener) and drive the owning
  module's code (import ``modules.<slug>``), so the test fires it from the real service
  and observes what the listener received.  Any other module hook needs a
  ``test_hook_<name>`` or a test that implements it while driving the owning module.
"""

import ast
import inspect
import re
from pathlib import Path

from hub.plugins import hookspecs

ROOT = Path(__file__).resolve().parent.parent
THIS = Path(__file__).resolve()


def _hook_names():
    return [name for name, fn in inspect.getmembers(hookspecs, inspect.isfunction)
            if name.startswith("hub_")]


def _module_hooks() -> dict[str, str]:
    """Every ``@hookspec`` function of ``modules/*/hookspecs.py`` → its module's slug."""
    found = {}
    for path in sorted((ROOT / "modules").glob("*/hookspecs.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in tree.body:
            if isinstance(node, ast.FunctionDef) and any(
                    (isinstance(d, ast.Name) and d.id == "hookspec")
                    or (isinstance(d, ast.Call) and getattr(d.func, "id", "") == "hookspec")
                    for d in node.decorator_list):
                found[node.name] = path.parent.name
    return found


def _fired_events(slug: str) -> set[str]:
    """Events the module's own code fires (``fire_event("name", ...)``)."""
    fired = set()
    for path in (ROOT / "modules" / slug).rglob("*.py"):
        fired |= set(re.findall(r"""fire_event\(\s*["'](\w+)["']""",
                                path.read_text(encoding="utf-8")))
    return fired


def _test_sources() -> dict[Path, str]:
    return {path: path.read_text(encoding="utf-8") for path in (ROOT / "tests").rglob("*.py")
            if path.resolve() != THIS}


def _documented() -> set[str]:
    docs = (ROOT / "docs" / "modules.md").read_text(encoding="utf-8")
    return set(re.findall(r"^### `(\w+)", docs, flags=re.MULTILINE))


def test_there_are_hooks():
    assert len(_hook_names()) >= 12
    assert {"request_created", "request_status_changed", "news_published"} <= set(
        _module_hooks())


def test_every_hook_has_a_docstring():
    for name in _hook_names():
        doc = inspect.getdoc(getattr(hookspecs, name)) or ""
        assert len(doc) > 60, f"{name} needs a docstring: when it is called, with what, returns"


def test_every_module_hook_has_a_docstring():
    for path in sorted((ROOT / "modules").glob("*/hookspecs.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in tree.body:
            if isinstance(node, ast.FunctionDef) and node.name in _module_hooks():
                doc = ast.get_docstring(node) or ""
                assert len(doc) > 60, f"{path.parent.name}.{node.name} needs a docstring"


def test_every_hook_is_documented_in_docs_modules_md():
    headings = _documented()
    missing = [name for name in _hook_names() if name not in headings]
    assert not missing, f"document these hooks in docs/modules.md: {missing}"


def test_every_module_hook_is_documented_in_docs_modules_md():
    headings = _documented()
    missing = [name for name in _module_hooks() if name not in headings]
    assert not missing, f"document these module hooks and events in docs/modules.md: {missing}"


def test_every_hook_has_a_test():
    sources = "\n".join(_test_sources().values())
    missing = [name for name in _hook_names() if f"def test_hook_{name}(" not in sources]
    assert not missing, f"add a test_hook_<name> (e.g. in tests/test_plugins.py) for: {missing}"


def test_every_module_event_is_fired_by_its_module_and_tested_from_it():
    sources = _test_sources()
    problems = []
    for name, slug in _module_hooks().items():
        listens = [path for path, text in sources.items()
                   if re.search(rf"def {name}\(", text) and f"modules.{slug}" in text
                   and "def test_" in text]
        if name in _fired_events(slug):
            if not listens:
                problems.append(f"{name}: no test listens to it while driving modules.{slug}")
        elif not listens and not any(f"def test_hook_{name}(" in text
                                     for text in sources.values()):
            problems.append(f"{name}: neither a test_hook_{name} nor a test implementing it")
    assert not problems, "; ".join(problems)


def test_declared_events_are_fired():
    """An event a module declares but never fires is dead: a listener would wait for
    nothing.  (Hooks a module calls itself, like alertes' channels, are not events.)"""
    called = {}
    for name, slug in _module_hooks().items():
        text = "\n".join(p.read_text(encoding="utf-8")
                         for p in (ROOT / "modules" / slug).rglob("*.py")
                         if p.name != "hookspecs.py")
        called[name] = name in _fired_events(slug) or re.search(
            rf"""(hooks\(\)\.{name}\b|["']{name}["'])""", text) is not None
    assert [name for name, yes in called.items() if not yes] == []
