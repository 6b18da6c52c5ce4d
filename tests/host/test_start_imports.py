"""What a serve or worker process holds in memory from its start: the modules it loads are
there for its whole life, so those the ack path and the runs never use are loaded when
first used (an xlsx file read or written, ``ledgerlink db upgrade``), not at start."""

from __future__ import annotations

import json
import subprocess
import sys

from ledgerlink.testing.databases import migrated_db

#: loaded only when used: workbooks (openpyxl), migrations (alembic, mako), httpx's own CLI
NOT_AT_START = ("openpyxl", "alembic", "mako", "httpx._main", "pygments")

PROGRAM = """
import json, sys
from ledgerlink.engine.operations import build_runtime
from ledgerlink.engine.worker import WorkerPool
from ledgerlink.web.app import create_app
from ledgerlink.web import servers
runtime = build_runtime(db=sys.argv[1], recipes=sys.argv[2])
create_app(runtime=runtime)
print(json.dumps(sorted(name for name in sys.modules if sys.modules[name] is not None)))
"""


def test_serve_and_worker_start_without_workbook_migration_or_httpx_cli_modules(tmp_path, project_root):
    url = migrated_db(tmp_path)
    done = subprocess.run([sys.executable, "-c", PROGRAM, url, str(project_root / "recipes")],
                          capture_output=True, text=True, timeout=120, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    loaded = set(json.loads(done.stdout.splitlines()[-1]))
    assert "ledgerlink_files" in loaded and "httpx" in loaded and "sqlalchemy" in loaded  # the runtime is whole
    assert sorted(name for name in loaded if name.split(".")[0] in NOT_AT_START or name in NOT_AT_START) == []


WORKER_PROGRAM = """
import json, sys
from ledgerlink.engine.operations import build_runtime
from ledgerlink.engine.worker import WorkerPool
runtime = build_runtime(db=sys.argv[1], recipes=sys.argv[2])
print(json.dumps(sorted(name for name in sys.modules if sys.modules[name] is not None)))
"""


def test_a_worker_process_loads_no_web_framework_and_no_console_page(tmp_path, project_root):
    """A worker serves no page: Flask, Werkzeug, Jinja and the console's views (about 7 MB)
    are loaded by the process that makes an app, never by the runtime and its plugins."""
    url = migrated_db(tmp_path)
    done = subprocess.run([sys.executable, "-c", WORKER_PROGRAM, url, str(project_root / "recipes")],
                          capture_output=True, text=True, timeout=120, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    loaded = set(json.loads(done.stdout.splitlines()[-1]))
    assert "ledgerlink_console" in loaded and "ledgerlink_quickbooks" in loaded  # the plugins are registered
    web = sorted(name for name in loaded if name.split(".")[0] in ("flask", "werkzeug", "jinja2")
                 or name.startswith("ledgerlink_console.") and name not in ("ledgerlink_console.commands",
                                                                             "ledgerlink_console.users"))
    assert web == []
