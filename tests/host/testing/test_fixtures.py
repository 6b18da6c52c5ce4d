"""The kit's pytest fixtures and helpers (ledgerlink.testing.fixtures, .databases, .processes,
.expressions), each doing what its docstring promises."""

from __future__ import annotations

import httpx
import pytest
import sqlalchemy as sa

from ledgerlink.store import database
import ledgerlink.testing as kit
from ledgerlink.testing import databases
from ledgerlink.testing.expressions import compile_expr, core_catalog, evaluate
from ledgerlink.testing.processes import ServeProcess, free_port, run_ledgerlink


def test_db_url_is_a_fresh_database_at_the_newest_migration(db_url, tmp_path):
    assert db_url.startswith(databases.DIALECT)
    other = databases.fresh_db(tmp_path)
    assert other != db_url
    migrated, empty = database.make_engine(db_url), database.make_engine(other)
    try:
        assert database.current_revision(migrated) == database.head_revision()
        assert sa.inspect(empty).get_table_names() == []
    finally:
        migrated.dispose()
        empty.dispose()


def test_catalog_holds_the_installed_plugins(catalog):
    assert {"core"} < {t.plugin for t in catalog.transforms.values()}
    assert catalog.connectors, "no connector plugin is installed"


def test_run_cli_runs_in_process(run_cli, recipes_folder):
    code, out, err = run_cli("validate", str(recipes_folder))
    assert code == 0 and "recipe(s) valid" in out + err
    code, out, err = run_cli("validate", str(recipes_folder / "missing.json"))
    assert code != 0 and "no such file" in out + err


def test_run_subprocess_runs_the_console_script_from_the_project_root(run_subprocess, project_root,
                                                                      recipes_folder, tmp_path):
    assert recipes_folder == project_root / "recipes" and any(recipes_folder.glob("*.json"))
    relative = recipes_folder.relative_to(project_root)
    assert run_subprocess("validate", str(relative)).returncode == 0
    elsewhere = run_subprocess("validate", str(relative), cwd=tmp_path)
    assert elsewhere.returncode != 0 and "no such file or directory" in elsewhere.stdout + elsewhere.stderr
    assert run_ledgerlink("--help", env={"LEDGERLINK_PLUGINS": ""}).returncode == 0


def test_serve_process_is_healthy_when_started_and_stopped_after_the_test(serve_process, db_url,
                                                                          recipes_folder, tmp_path):
    config = tmp_path / "ledgerlink.toml"
    config.write_text("")
    port = free_port()
    serve = serve_process(db_url, recipes_folder, config, port=port, workers=1)
    assert serve.url == f"http://127.0.0.1:{port}"
    assert httpx.get(f"{serve.url}/healthz").status_code == 200
    assert serve.process.poll() is None


def test_a_serve_process_that_cannot_start_says_why(db_url, tmp_path):
    config = tmp_path / "ledgerlink.toml"
    config.write_text("")
    serve = ServeProcess(tmp_path, db_url, tmp_path / "no-recipes", config, env={}, workers=1)
    with pytest.raises(AssertionError, match="serve exited"):
        serve.wait_healthy()
    serve.terminate()


def test_request_schema_is_none_unless_a_conftest_declares_one(request_schema):
    assert request_schema is None


def test_expressions_compile_with_the_core_transforms():
    assert "upper" in core_catalog().transforms
    assert evaluate({"v": {"$path": "$.event.name", "$as": "upper"}}, {"event": {"name": "ada"}}) == {"v": "ADA"}
    _, problems = compile_expr({"v": {"$path": "$.steps.later.id"}})
    assert problems and "later" in str(problems[0])


def test_the_readme_names_the_kit_as_it_is(project_root):
    """What the README's connector section names of the kit exists (the guide it points to is
    run whole by tests/host/test_connector_guide.py)."""
    readme = (project_root / "README.md").read_text()
    section = readme.split("## Writing a connector", 1)[1].split("\n## ", 1)[0]
    assert "docs/writing-a-connector.md" in section
    for name in ("drive", "ConnectorConformance"):
        assert f"`{name}`" in section and getattr(kit, name, None) is not None, name
    assert '`pytest_plugins = ["ledgerlink.testing.fixtures"]`' in section


