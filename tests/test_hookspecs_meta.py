"""Meta-tests, as Datasette has: every hook is documented and every hook has a test."""

import inspect
import re
from pathlib import Path

from hub.plugins import hookspecs

ROOT = Path(__file__).resolve().parent.parent


def _hook_names():
    return [name for name, fn in inspect.getmembers(hookspecs, inspect.isfunction)
            if name.startswith("hub_")]


def test_there_are_hooks():
    assert len(_hook_names()) >= 12


def test_every_hook_has_a_docstring():
    for name in _hook_names():
        doc = inspect.getdoc(getattr(hookspecs, name)) or ""
        assert len(doc) > 60, f"{name} needs a docstring: when it is called, with what, returns"


def test_every_hook_is_documented_in_docs_modules_md():
    docs = (ROOT / "docs" / "modules.md").read_text(encoding="utf-8")
    headings = set(re.findall(r"^### `(\w+)", docs, flags=re.MULTILINE))
    missing = [name for name in _hook_names() if name not in headings]
    assert not missing, f"document these hooks in docs/modules.md: {missing}"


def test_every_hook_has_a_test():
    tests = (ROOT / "tests" / "test_plugins.py").read_text(encoding="utf-8")
    missing = [name for name in _hook_names() if f"def test_hook_{name}(" not in tests]
    assert not missing, f"add test_hook_<name> in tests/test_plugins.py for: {missing}"
