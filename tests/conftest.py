"""The kit's fixtures (``ledgerlink.testing.fixtures``), the QuickBooks sandbox every test that
talks to QuickBooks shares (``qbo``, ``sandbox``), and a guard: the session fails if a test reads
a file outside the repository.

Vendor files are read from ``tests/vendor`` (see ``tests/vendor_files.py``).
"""

from __future__ import annotations

import os
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from ledgerlink.testing.sandbox import Loopback, running
from ledgerlink_sandboxes.quickbooks import Sandbox as QuickBooksSandbox, create_sandbox

# the kit's fixtures; pytester runs the conformance suite on a broken connector
pytest_plugins = ["ledgerlink.testing.fixtures", "pytester"]

REPO = Path(__file__).resolve().parents[1]


# --- reads outside the repository ------------------------------------------------------------

class OutsideReads:
    """Every file or folder this test process opens or lists outside the places a test may use.

    A test may use the repository, the Python installation and virtualenv, temporary files, the
    operating system's files and the user's dot-files (``~/.netrc``, caches). Anything else,
    such as a folder beside the repository, would be missing from a fresh clone: the audit hook
    below records it with the test (or the module being collected) that read it, and
    :func:`pytest_sessionfinish` fails the session naming both. Child processes are not watched.
    """

    EVENTS = frozenset({"open", "os.listdir", "os.scandir"})

    def __init__(self) -> None:
        roots = {REPO, Path(sys.prefix), Path(sys.base_prefix), Path(sys.exec_prefix),
                 Path(sys.base_exec_prefix), Path(tempfile.gettempdir()), Path("/tmp"),
                 Path("/var/tmp")}
        roots |= {Path(p).resolve() for p in list(roots)}
        self.roots = tuple(sorted({str(p) for p in roots}))
        self.system = ("/proc", "/dev", "/sys", "/etc", "/usr", "/lib", "/lib64", "/bin", "/sbin",
                       "/run", "/var/lib", "/var/cache")
        self.home = str(Path.home())
        #: (where, path) in the order first seen
        self.reads: dict[tuple[str, str], None] = {}
        self.where = "session start"

    def allowed(self, path: str) -> bool:
        """True if ``path`` (absolute and normalised) is a place a test may read."""
        for root in self.roots + self.system:
            if path == root or path.startswith(root.rstrip(os.sep) + os.sep):
                return True
        home = self.home.rstrip(os.sep) + os.sep
        return path.startswith(home) and path[len(home):].startswith(".")

    def hook(self, event: str, args: tuple) -> None:
        """The audit hook: cheap for every other event, never raises."""
        if event not in self.EVENTS:
            return
        try:
            path = args[0] if args else None
            if path is None or isinstance(path, int):
                return
            path = os.fsdecode(path)
            if not os.path.isabs(path):
                path = os.path.join(os.getcwd(), path)
            path = os.path.normpath(path)
            if not self.allowed(path):
                self.reads.setdefault((self.where, path), None)
        except Exception:  # an audit hook that raised would break the open() it watches
            pass

    def forget(self, path: str) -> None:
        """Drop the records of ``path`` (for the test of this guard)."""
        for key in [key for key in self.reads if key[1] == path]:
            del self.reads[key]


OUTSIDE = OutsideReads()
sys.addaudithook(OUTSIDE.hook)


def pytest_collectstart(collector):
    OUTSIDE.where = f"collecting {collector.nodeid or 'the session'}"


def pytest_runtest_logstart(nodeid, location):
    OUTSIDE.where = nodeid


def pytest_runtest_logfinish(nodeid, location):
    OUTSIDE.where = "between tests"


def pytest_sessionfinish(session, exitstatus):
    if OUTSIDE.reads and session.exitstatus == pytest.ExitCode.OK:
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


def pytest_terminal_summary(terminalreporter):
    if OUTSIDE.reads:
        terminalreporter.write_sep("=", "files read outside the repository", red=True)
        for where, path in OUTSIDE.reads:
            terminalreporter.write_line(f"{where}: {path}")
        terminalreporter.write_line("Copy what a test needs into tests/vendor/ (with its licence, "
                                    "in tests/vendor/SOURCES.md) and read it from there.")


@pytest.fixture
def outside_reads() -> OutsideReads:
    """The guard's record of files read outside the repository."""
    return OUTSIDE


# --- the QuickBooks sandbox ------------------------------------------------------------------

@pytest.fixture(scope="module")
def qbo(request: pytest.FixtureRequest) -> Iterator[Loopback[QuickBooksSandbox]]:
    """The QuickBooks sandbox on loopback, one per test module: ``qbo.url``, ``qbo.sandbox``.

    Its options are the module's ``QBO_SANDBOX`` dict; without one the sandbox does not enforce
    its rate limits (it still measures them): a module testing the limits themselves says so.
    Use :func:`sandbox` for a test that needs the seeded companies as they start.
    """
    options = getattr(request.module, "QBO_SANDBOX", {"rate_limit": False})
    with running(create_sandbox(**options)) as served:
        yield served


@pytest.fixture
def sandbox(qbo: Loopback[QuickBooksSandbox]) -> QuickBooksSandbox:
    """``qbo``'s state, reset for this test: the seeded companies, no scripted fault, no
    issued token, no webhook subscription, counters and log at zero."""
    qbo.sandbox.webhooks(None)
    qbo.sandbox.reset(tokens=True)
    return qbo.sandbox
