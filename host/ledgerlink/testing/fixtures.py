"""The kit's pytest fixtures, loaded as a plugin from a project's top conftest::

    pytest_plugins = ["ledgerlink.testing.fixtures"]

- ``catalog``: the catalog of every installed plugin (once per session);
- ``run_cli``: the CLI in-process, ``run_cli("validate", path) -> (code, stdout, stderr)``;
- ``run_subprocess``: the installed ``ledgerlink`` script as a subprocess, from the
  project's root (:func:`ledgerlink.testing.processes.run_ledgerlink`);
- ``db_url``: a fresh database at the newest migration (SQLite, or PostgreSQL when
  ``LEDGERLINK_TEST_DB`` names a server; :mod:`ledgerlink.testing.databases`);
- ``project_root`` and ``recipes_folder``: the project's root and its ``recipes`` folder;
- ``request_schema``: the vendor's verdict on a request, for the conformance suite
  (:mod:`ledgerlink.testing.conformance`); None here, a connector's conftest overrides it.
"""

from __future__ import annotations

import subprocess
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path

import pytest

from ledgerlink import cli
from ledgerlink.connectors.catalog import Catalog
from ledgerlink.connectors.manager import load_catalog
from ledgerlink.contract import Request
from ledgerlink.testing.databases import migrated_db
from ledgerlink.testing.processes import run_ledgerlink

#: ``run_cli(*argv) -> (exit code, stdout, stderr)``
RunCli = Callable[..., tuple[int, str, str]]
#: ``run_subprocess(*argv, env=…, cwd=…, timeout=…)``
RunSubprocess = Callable[..., subprocess.CompletedProcess[str]]


@pytest.fixture(scope="session")
def catalog() -> Catalog:
    """Every installed plugin's components, as the host loads them."""
    return load_catalog()


@pytest.fixture
def run_cli(capsys: pytest.CaptureFixture[str]) -> RunCli:
    """Run the CLI in-process: returns (exit code, stdout, stderr)."""

    def run(*argv: str) -> tuple[int, str, str]:
        code = cli.main(list(argv))
        out = capsys.readouterr()
        return code, out.out, out.err

    return run


@pytest.fixture(scope="session")
def project_root(pytestconfig: pytest.Config) -> Path:
    """The project's root: where pytest found its configuration."""
    return pytestconfig.rootpath


@pytest.fixture(scope="session")
def recipes_folder(project_root: Path) -> Path:
    """The project's ``recipes`` folder."""
    return project_root / "recipes"


@pytest.fixture
def run_subprocess(project_root: Path) -> RunSubprocess:
    """Run the installed ``ledgerlink`` script from the project's root (``cwd`` to change it)."""

    def run(*argv: str, env: Mapping[str, str] | None = None, cwd: str | Path | None = None,
            timeout: float = 120) -> subprocess.CompletedProcess[str]:
        return run_ledgerlink(*argv, env=env, cwd=cwd or project_root, timeout=timeout)

    return run


@pytest.fixture
def db_url(tmp_path: Path) -> str:
    """The URL of a fresh database at the newest migration, for this test alone."""
    return migrated_db(tmp_path)


@pytest.fixture
def request_schema() -> Callable[[Request], Iterable[str]] | None:
    """``request_schema(request) -> problems``: no vendor schema unless a conftest declares one."""
    return None
