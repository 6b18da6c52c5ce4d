"""The kit's pytest fixtures, loaded as a plugin from a project's top conftest::

    pytest_plugins = ["ledgerlink.testing.fixtures"]

- ``catalog``: the catalog of every installed plugin (once per session);
- ``run_cli``: the CLI in-process, ``run_cli("validate", path) -> (code, stdout, stderr)``;
- ``run_subprocess``: the installed ``ledgerlink`` script as a subprocess, from the
  project's root (:func:`ledgerlink.testing.processes.run_ledgerlink`);
- ``serve_process``: starts ``ledgerlink serve`` (or ``worker``) beside the test, waits until
  it answers ``/healthz`` and stops it after the test (:class:`~ledgerlink.testing.processes.ServeProcess`);
- ``db_url``: a fresh database at the newest migration (SQLite, or PostgreSQL when
  ``LEDGERLINK_TEST_DB`` names a server; :mod:`ledgerlink.testing.databases`);
- ``project_root`` and ``recipes_folder``: the project's root and its ``recipes`` folder;
- ``request_schema``: the vendor's verdict on a request, for the conformance suite
  (:mod:`ledgerlink.testing.conformance`); None here, a connector's conftest overrides it.
"""

from __future__ import annotations

import subprocess
from collections.abc import Callable, Iterable, Iterator, Mapping
from pathlib import Path

import pytest

from ledgerlink import cli
from ledgerlink.connectors.catalog import Catalog
from ledgerlink.connectors.manager import load_catalog
from ledgerlink.contract import Request
from ledgerlink.testing.databases import migrated_db
from ledgerlink.testing.processes import ServeProcess, run_ledgerlink

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
def serve_process(tmp_path: Path) -> Iterator[Callable[..., ServeProcess]]:
    """``serve_process(db, recipes, config, env={…}, command="serve", …)``: a running
    ``ledgerlink serve`` (healthy before it is returned) or ``worker``; every one started is
    stopped when the test ends, and a non-zero exit fails it with the process's output."""
    started: list[ServeProcess] = []

    def start(db: str, recipes: Path, config: Path, env: Mapping[str, str] | None = None,
              port: int | None = None, workers: int = 2, lease: float = 2.0, command: str = "serve",
              extra: tuple[str, ...] = ()) -> ServeProcess:
        process = ServeProcess(tmp_path, db, recipes, config, dict(env or {}), port=port, workers=workers,
                               lease=lease, command=command, extra=extra)
        started.append(process)
        if command == "serve":
            process.wait_healthy()
        return process

    yield start
    codes = [(process, process.terminate()) for process in started]
    failed = [f"{' '.join(map(str, process.process.args))} exited {code}:\n{process.output()}"
              for process, code in codes if code != 0]
    assert not failed, "\n".join(failed)


@pytest.fixture
def db_url(tmp_path: Path) -> str:
    """The URL of a fresh database at the newest migration, for this test alone."""
    return migrated_db(tmp_path)


@pytest.fixture
def request_schema() -> Callable[[Request], Iterable[str]] | None:
    """``request_schema(request) -> problems``: no vendor schema unless a conftest declares one."""
    return None
