"""Rules the suite itself must keep, checked on its own source."""

import re
from pathlib import Path

TESTS = Path(__file__).resolve().parent
TRANSACTIONAL = re.compile(r"django_db\(([^)]*transaction=True[^)]*)\)")


def test_every_transactional_test_restores_the_serialized_database():
    """A transactional test without ``serialized_rollback`` ends with a flush that
    recreates content types, permissions and staff groups under new ids; the next
    serialized test on the same worker then fails to restore its rows (duplicate keys),
    depending only on the order the tests happen to run in."""
    offenders = []
    for path in sorted(TESTS.rglob("*.py")):
        for match in TRANSACTIONAL.finditer(path.read_text(encoding="utf-8")):
            if "serialized_rollback=True" not in match.group(1):
                offenders.append(f"{path.relative_to(TESTS)}: {match.group(0)}")
    assert offenders == []
