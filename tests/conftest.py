"""Shared fixtures. Vendor files are read from ../shared/specs beside the repository."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from ledgerlink import cli, transforms
from ledgerlink.catalog import Catalog
from ledgerlink.mapping import Scope, compile_mapping

REPO = Path(__file__).resolve().parents[1]
SPECS = REPO.parent / "shared" / "specs"
RECIPES = REPO / "recipes"


def core_catalog() -> Catalog:
    """A catalog with only the host's own transforms."""
    catalog = Catalog()
    transforms.ledgerlink_register_transforms(catalog.registrar("transform", "core"))
    return catalog


def compile_expr(template, lookups=None, timezone="UTC", catalog=None, steps=()):
    """Compile a template as a step input; returns (evaluate, problems)."""
    catalog = catalog or core_catalog()
    scope = Scope(file="r.json", recipe_id="r", step_id="s", transforms=catalog.transforms,
                  lookups=lookups or {}, timezone=timezone, earlier_steps=tuple(steps),
                  all_steps=tuple(steps) + ("s",))
    evaluate = compile_mapping(template, "/steps/0/input", scope)
    return evaluate, scope.problems


def evaluate(template, doc, **kw):
    fn, problems = compile_expr(template, **kw)
    if problems:
        raise AssertionError("unexpected problems: " + "; ".join(map(str, problems)))
    return fn(doc)


@pytest.fixture(scope="session")
def catalog():
    from ledgerlink.plugins import load_catalog

    return load_catalog()


@pytest.fixture
def run_cli(capsys):
    """Run the CLI in-process: returns (exit code, stdout, stderr)."""

    def run(*argv: str):
        code = cli.main(list(argv))
        out = capsys.readouterr()
        return code, out.out, out.err

    return run


def ledgerlink_exe() -> str:
    return str(Path(sys.executable).with_name("ledgerlink"))


def run_subprocess(*argv: str, env=None, cwd=None, timeout=120):
    """Run the installed ``ledgerlink`` console script."""
    full_env = {**os.environ, **(env or {})}
    return subprocess.run([ledgerlink_exe(), *argv], capture_output=True, text=True, env=full_env,
                          cwd=cwd or REPO, timeout=timeout)
