"""The test kit's rule: tests import shared helpers from `support`, never from another test
module or a conftest (a helper moved or renamed there would break distant tests)."""
from __future__ import annotations

import re
from pathlib import Path

TESTS = Path(__file__).parent
TEST_PACKAGES = sorted(p.name for p in TESTS.iterdir() if p.is_dir() and p.name not in ("support", "__pycache__"))
FORBIDDEN = re.compile(rf"^\s*(from|import)\s+(conftest|test_\w+|({'|'.join(TEST_PACKAGES)})\.(conftest|test_\w+))\b",
                       re.MULTILINE)


def test_no_test_imports_another_test_module_or_a_conftest():
    offenders = [f"{path.relative_to(TESTS)}: {match.group(0).strip()}"
                 for path in TESTS.rglob("*.py") for match in FORBIDDEN.finditer(path.read_text())]
    assert offenders == []
