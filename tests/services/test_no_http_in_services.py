"""Services speak the domain (results and the `portal.billing.errors` family), never HTTP:
no status code is returned, raised or stored by a service, and no HTTP helper is imported."""
from __future__ import annotations

import ast
from pathlib import Path

import pytest

SERVICES = Path(__file__).resolve().parents[2] / "portal" / "services"
HTTP_IMPORTS = {"werkzeug.exceptions", "flask.abort", "flask.jsonify", "flask.make_response",
                "flask.Response"}
STATUS_NAMES = {"status", "status_code", "code", "http_status"}


def _is_status(node) -> bool:
    return isinstance(node, ast.Constant) and type(node.value) is int and 200 <= node.value <= 599


def http_uses(tree: ast.AST) -> list[str]:
    """The HTTP vocabulary used in one module: imports, returned or passed status codes."""
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom):
            found += [f"import {node.module}.{a.name}" for a in node.names
                      if f"{node.module}.{a.name}" in HTTP_IMPORTS or node.module in HTTP_IMPORTS]
        elif isinstance(node, ast.Return) and node.value is not None:
            values = node.value.elts if isinstance(node.value, ast.Tuple) else [node.value]
            found += [f"line {node.lineno}: returns {v.value}" for v in values if _is_status(v)]
        elif isinstance(node, ast.Call):
            args = [a for a in node.args[:1] if _is_status(a)]
            name = getattr(node.func, "id", getattr(node.func, "attr", ""))
            if args and (name.endswith(("Error", "Outcome", "Result")) or name == "abort"):
                found.append(f"line {node.lineno}: {name}({args[0].value}, ...)")
            found += [f"line {node.lineno}: {k.arg}={k.value.value}" for k in node.keywords
                      if k.arg in STATUS_NAMES and _is_status(k.value)]
    return found


@pytest.mark.parametrize("path", sorted(SERVICES.glob("*.py")), ids=lambda p: p.name)
def test_a_service_returns_no_http_status(path):
    assert http_uses(ast.parse(path.read_text())) == []


def test_the_check_finds_an_http_status():
    source = ("from flask import abort\n"
              "def f():\n    raise UploadError(413, 'big')\n"
              "def g():\n    return Outcome(code=201)\n"
              "def h():\n    return 409\n")
    assert len(http_uses(ast.parse(source))) == 4
