"""The host names no vendor: what a vendor publishes or expects lives in its connector.

Every file under ``host/`` is read token by token. Comments and docstrings may name a vendor
(to explain a rule by an example, or cite its documentation); code may not, and a string
literal that is not a docstring is code (a key, a URL, a message). A hit names file:line.
"""

from __future__ import annotations

import ast
import io
import re
import tokenize
from pathlib import Path

import pytest

from vendor_files import REPO

HOST = REPO / "host"
#: vendor names, and a word only one vendor uses (QuickBooks' company is a "realm"),
#: case-insensitive, not inside a longer word (``realmId`` and ``QBO_X`` hit, ``intuitive`` and
#: ``realms`` do not; nor does HTTP's own ``WWW-Authenticate: Basic realm=...``)
VENDOR = re.compile(r"(?<![A-Za-z])(?i:stripe|quickbooks|intuit|qbo|xero|freshbooks|realm(?!=))(?![a-z])")

def docstrings(tree: ast.AST) -> set[tuple[int, int]]:
    """Where each docstring (of the module, a class or a function) starts: (line, column)."""
    starts = set()
    for node in ast.walk(tree):
        if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)) and node.body:
            first = node.body[0]
            if (isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant)
                    and isinstance(first.value.value, str)):
                starts.add((first.lineno, first.col_offset))
    return starts


def vendor_names(path: Path) -> list[tuple[int, str]]:
    """(line, vendor word in lower case) for every vendor name in the code of ``path``."""
    text = path.read_text("utf-8")
    if path.suffix != ".py":  # a template, a schema: every character is code
        return [(number, match.group().lower()) for number, line in enumerate(text.splitlines(), 1)
                for match in VENDOR.finditer(line)]
    skip = docstrings(ast.parse(text, str(path)))
    found = []
    for token in tokenize.generate_tokens(io.StringIO(text).readline):
        if token.type == tokenize.COMMENT or (token.type == tokenize.STRING and token.start in skip):
            continue
        for match in VENDOR.finditer(token.string):
            line = token.start[0] + token.string.count("\n", 0, match.start())
            found.append((line, match.group().lower()))
    return found


def host_files() -> list[Path]:
    return sorted(p for p in HOST.rglob("*") if p.is_file() and "__pycache__" not in p.parts
                  and p.suffix not in (".pyc", ".pyo") and ".egg-info" not in str(p))


def test_the_host_names_no_vendor_outside_docstrings_and_comments():
    hits = []
    for path in host_files():
        relative = path.relative_to(REPO).as_posix()
        for line, word in vendor_names(path):
            hits.append(f"{relative}:{line}: {word}")
    assert hits == [], "vendor knowledge belongs in the connector's package:\n" + "\n".join(hits)


@pytest.mark.parametrize("source, expected", [
    ('"""A QuickBooks example in a docstring."""\n# Xero in a comment\nx = 1\n', []),
    ('def f():\n    """Stripe signs it."""\n    return "stripe-signature"\n', [(3, "stripe")]),
    ('KEY = "realmId"\nLIMIT = QBO_LIMITS\n', [(1, "realm"), (2, "qbo")]),
    ('TEXT = """first line\nan Intuit rule"""\n', [(2, "intuit")]),
    ('words = ["intuitive", "realms", "stripes"]\n', []),
])
def test_the_scan_tells_code_from_docstrings_and_comments(tmp_path, source, expected):
    path = tmp_path / "module.py"
    path.write_text(source)
    assert vendor_names(path) == expected
