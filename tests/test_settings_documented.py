"""Every setting the code reads is documented once, with its default, and nothing is
documented that the code does not read.

"Read" means: an environment variable (``os.environ``, ``os.getenv``, the settings'
``env_bool``/``env_list``), or a Django setting a deployment sets — one named after the
hub or a module (``HUB_…``, ``ALERTES_…``, ``REQUETES_…``) or one read with a default
(``getattr(settings, "X", default)``, alertes' ``setting("X")``) that ``hub/settings.py``
does not itself define.  Django's and libraries' own settings that ``hub/settings.py``
fixes (``LANGUAGES``, ``WAGTAIL_I18N_ENABLED``…) are not configuration.

"Documented" means a row of README.md's "Configuration" table (the hub's) or of its
"Modules' settings" table, with a default column."""

from __future__ import annotations

import ast
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SOURCES = [ROOT / "hub", ROOT / "modules"]
TABLES = ("## Configuration (environment variables)", "## Modules' settings")
ENV_CALLS = {"env_bool", "env_list", "getenv"}


def _python_files():
    for folder in SOURCES:
        for path in folder.rglob("*.py"):
            if "migrations" not in path.parts:
                yield path


def _prefixes() -> tuple[str, ...]:
    modules = [p.name.upper() + "_" for p in (ROOT / "modules").iterdir()
               if (p / "__init__.py").exists()]
    return ("HUB_", *modules)


def _string_arg(call: ast.Call) -> str | None:
    if call.args and isinstance(call.args[0], ast.Constant) and isinstance(
            call.args[0].value, str):
        return call.args[0].value
    return None


def _is_environ(node) -> bool:
    return isinstance(node, ast.Attribute) and node.attr == "environ"


def _reads(tree) -> tuple[set[str], set[str], set[str]]:
    """(environment variables, settings read with a default, settings read directly)."""
    env, with_default, direct = set(), set(), set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            func = node.func
            name = _string_arg(node)
            if name is None and not (isinstance(func, ast.Name) and func.id == "getattr"):
                continue
            environ_get = (isinstance(func, ast.Attribute) and func.attr == "get"
                           and _is_environ(func.value))
            env_call = (isinstance(func, ast.Name) and func.id in ENV_CALLS) or (
                isinstance(func, ast.Attribute) and func.attr == "getenv")
            if environ_get or env_call:
                env.add(name)
            elif isinstance(func, ast.Name) and func.id == "setting":
                with_default.add(name)
            elif (isinstance(func, ast.Name) and func.id == "getattr" and len(node.args) >= 2
                  and isinstance(node.args[0], ast.Name) and node.args[0].id == "settings"
                  and isinstance(node.args[1], ast.Constant)):
                with_default.add(node.args[1].value)
        elif isinstance(node, ast.Subscript) and _is_environ(node.value) and isinstance(
                node.slice, ast.Constant):
            env.add(node.slice.value)
        elif (isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name)
              and node.value.id == "settings" and node.attr.isupper()):
            direct.add(node.attr)
    return env, with_default, direct


def _defined_in_settings() -> set[str]:
    tree = ast.parse((ROOT / "hub" / "settings.py").read_text(encoding="utf-8"))
    names = set()
    for node in ast.walk(tree):
        targets = node.targets if isinstance(node, ast.Assign) else (
            [node.target] if isinstance(node, ast.AnnAssign) else [])
        names |= {t.id for t in targets if isinstance(t, ast.Name) and t.id.isupper()}
    return names


def settings_read() -> dict[str, set[str]]:
    """Each configurable name the code reads → the files that read it."""
    prefixes, defined = _prefixes(), _defined_in_settings()
    found: dict[str, set[str]] = {}
    for path in _python_files():
        env, with_default, direct = _reads(ast.parse(path.read_text(encoding="utf-8")))
        names = set(env)
        names |= {n for n in with_default | direct if n.startswith(prefixes)}
        names |= {n for n in with_default if n not in defined}
        for name in names:
            found.setdefault(name, set()).add(str(path.relative_to(ROOT)))
    found.pop("DJANGO_SETTINGS_MODULE", None)  # wsgi/manage: which settings, not a setting
    return found


def documented() -> dict[str, list[str]]:
    """Each name in the first column of README's two tables → its row's cells."""
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    rows: dict[str, list[str]] = {}
    for title in TABLES:
        section = readme[readme.index(title):]
        section = section[:section.find("\n## ", 1)] if "\n## " in section[1:] else section
        for line in section.splitlines():
            if not line.startswith("| `"):
                continue
            cells = [c.strip() for c in line.strip().strip("|").split("|")]
            for name in re.findall(r"`([A-Z][A-Z0-9_]+)`", cells[0]):
                assert name not in rows, f"{name} is documented twice"
                rows[name] = cells
    return rows


def test_the_scan_sees_every_kind_of_read():
    """The scanner itself: environment reads, module settings, settings with a default."""
    env, with_default, direct = _reads(ast.parse(
        'import os\nos.environ.get("A")\nos.environ["B"]\nos.getenv("C")\nenv_bool("D", 1)\n'
        'getattr(settings, "E", 1)\nsetting("F")\nsettings.G\n'))
    assert (env, with_default, direct) == ({"A", "B", "C", "D"}, {"E", "F"}, {"G"})
    read = settings_read()
    for name in ("DATABASE_URL", "HUB_API_FAST_LISTING", "ALERTES_STUCK_AFTER",
                 "REQUETES_TERRITORY", "OIDC_RSA_PRIVATE_KEY"):
        assert name in read


def test_every_setting_read_is_documented():
    missing = {name: sorted(files) for name, files in settings_read().items()
               if name not in documented()}
    assert missing == {}, "read by the code but not in README's configuration tables"


def test_every_documented_setting_is_read():
    unread = sorted(set(documented()) - set(settings_read()))
    assert unread == [], "documented in README but read nowhere"


def test_every_documented_setting_has_a_default_and_a_meaning():
    incomplete = sorted(name for name, cells in documented().items()
                        if len(cells) < 3 or not cells[1] or not cells[2])
    assert incomplete == []


def test_the_city_has_one_source():
    """The city's name and intake phone come from SiteSettings only: no setting or
    environment variable duplicates them, and no code spells the city's name."""
    read = settings_read()
    assert not [n for n in read if "CITY" in n or "INTAKE_PHONE" in n]
    spelled = [str(p.relative_to(ROOT)) for p in _python_files()
               if "Ville de Valleyfield" in p.read_text(encoding="utf-8")
               or "Ville de Salaberry" in p.read_text(encoding="utf-8")]
    assert spelled == []


def test_settings_docstring_points_to_the_readme():
    """hub/settings.py does not keep a partial list of its own."""
    doc = ast.get_docstring(ast.parse((ROOT / "hub" / "settings.py").read_text()))
    assert "README.md" in doc and "Variables:" not in doc
