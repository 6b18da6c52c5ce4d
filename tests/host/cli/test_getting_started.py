"""Installed with pip and run from any folder: the demo, `init`, and `serve` that says what it lacks.

The example recipes ship inside the package (``ledgerlink/examples``, a link to the
repository's ``recipes/`` folder, so there is one copy), so the demo finds them wherever it
runs; `init` writes a starter to edit; `serve` refuses a recipe folder that is not there and
says so when it has no recipe to run.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
import zipfile
from pathlib import Path

import httpx

from runtime_fixtures import ADMIN_TOKEN, RECIPES
from vendor_files import REPO
from ledgerlink.testing.databases import migrated_db
from ledgerlink.testing.processes import ServeProcess, free_port

AUTH = {"Authorization": f"Bearer {ADMIN_TOKEN}"}


def test_the_demo_runs_from_a_wheel_installed_outside_the_repository(tmp_path):
    source = tmp_path / "source"
    source.mkdir()
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(REPO / name, source / name)
    for name in ("host", "plugins", "recipes", "schemas"):  # as in git: the package's links kept
        shutil.copytree(REPO / name, source / name, symlinks=True,
                        ignore=shutil.ignore_patterns("__pycache__", "*.egg-info"))
    built = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q",
                            "-w", str(tmp_path / "dist"), str(source)], capture_output=True, text=True, timeout=300)
    assert built.returncode == 0, built.stderr
    wheel = next((tmp_path / "dist").glob("ledgerlink-*.whl"))
    with zipfile.ZipFile(wheel) as archive:
        shipped = {Path(n).name: archive.read(n) for n in archive.namelist() if n.startswith("ledgerlink/examples/")}
    assert shipped == {p.name: p.read_bytes() for p in RECIPES.glob("*.json")}
    site = tmp_path / "site"
    installed = subprocess.run([sys.executable, "-m", "pip", "install", "--no-deps", "-q", "--target", str(site),
                                str(wheel)], capture_output=True, text=True, timeout=300)
    assert installed.returncode == 0, installed.stderr
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    env = {**os.environ, "PYTHONPATH": str(site)}  # the installed copy, not the repository's
    demo = subprocess.run([sys.executable, "-m", "ledgerlink", "demo", "--workdir", str(tmp_path / "demo")],
                          cwd=elsewhere, env=env, capture_output=True, text=True, timeout=300)
    assert demo.returncode == 0, demo.stdout + demo.stderr
    assert sum(" succeeded " in line for line in demo.stdout.splitlines()) == 2, demo.stdout
    assert f"dry-run:     ledgerlink dry-run {site / 'ledgerlink' / 'examples'}" in demo.stdout
    assert list(elsewhere.iterdir()) == []  # nothing written where it ran


def test_init_writes_a_starter_that_validates_and_serves(tmp_path, run_subprocess):
    folder = tmp_path / "books"
    made = run_subprocess("init", str(folder), cwd=tmp_path)
    assert made.returncode == 0, made.stderr
    recipes = sorted(p.name for p in (folder / "recipes").glob("*.json"))
    assert recipes == sorted(p.name for p in RECIPES.glob("*.json"))
    config = (folder / "ledgerlink.toml").read_text()
    assert "[connections.stripe]" in config and "[connections.quickbooks]" in config
    assert '# webhook_secret = "${STRIPE_WEBHOOK_SECRET}"' in config  # secrets only as references
    assert f"ledgerlink serve --db sqlite:///{folder / 'ledgerlink.db'}" in made.stdout
    valid = run_subprocess("validate", cwd=folder)  # its defaults: ./recipes and ./ledgerlink.toml
    assert valid.returncode == 0 and "7 recipe(s) valid" in valid.stderr, valid.stdout + valid.stderr
    again = run_subprocess("init", str(folder), cwd=tmp_path)
    assert again.returncode == 1 and str(folder / "ledgerlink.toml") in again.stderr and "nothing was written" in again.stderr
    (tmp_path / "a-file").write_text("")
    not_a_folder = run_subprocess("init", str(tmp_path / "a-file"), cwd=tmp_path)
    assert not_a_folder.returncode == 1 and f"cannot write into {tmp_path / 'a-file'}" in not_a_folder.stderr
    db = f"sqlite:///{folder / 'ledgerlink.db'}"
    assert run_subprocess("db", "upgrade", "--db", db, cwd=folder).returncode == 0
    port, metrics_port = free_port(), free_port()
    log = open(tmp_path / "serve.log", "w")
    serve = subprocess.Popen([sys.executable, "-m", "ledgerlink", "serve", "--db", db, "--port", str(port),
                              "--metrics-listen", f"127.0.0.1:{metrics_port}"], cwd=folder, stdout=log,
                             stderr=subprocess.STDOUT,
                             env={**os.environ, "LEDGERLINK_ADMIN_TOKEN": ADMIN_TOKEN, "LEDGERLINK_METRICS_TOKEN": ""})
    try:
        health = _healthy(f"http://127.0.0.1:{port}", serve, tmp_path / "serve.log")
        assert health["recipes"] == 7 and health["warnings"] == []
        with httpx.Client(trust_env=False) as client:
            assert client.get(f"http://127.0.0.1:{port}/metrics").status_code == 401
            scraped = client.get(f"http://127.0.0.1:{metrics_port}/metrics")
            assert scraped.status_code == 200 and "ledgerlink_recipes_active 7.0" in scraped.text
    finally:
        serve.terminate()
        serve.wait(30)
        log.close()
    assert f"metrics on http://127.0.0.1:{metrics_port}/metrics" in (tmp_path / "serve.log").read_text()


def _healthy(url: str, process, log_path: Path) -> dict:
    deadline = time.monotonic() + 60
    with httpx.Client(trust_env=False, timeout=2.0) as client:
        while time.monotonic() < deadline:
            assert process.poll() is None, log_path.read_text()
            try:
                answer = client.get(f"{url}/healthz", headers=AUTH)
                if answer.status_code == 200:
                    return answer.json()
            except httpx.HTTPError:
                pass
            time.sleep(0.05)
    raise AssertionError("serve did not become healthy: " + log_path.read_text())


def test_serve_refuses_a_missing_recipe_folder_and_says_when_it_has_none(tmp_path, run_subprocess):
    db = migrated_db(tmp_path)
    missing = tmp_path / "no-such-folder"
    refused = run_subprocess("serve", "--db", db, "--recipes", str(missing), "--port", "0", timeout=60)
    assert refused.returncode == 2 and str(missing) in refused.stderr and "Traceback" not in refused.stderr
    refused = run_subprocess("worker", "--db", db, cwd=tmp_path, timeout=60)  # default: ./recipes
    assert refused.returncode == 2 and str(tmp_path / "recipes") in refused.stderr
    empty = tmp_path / "recipes"
    empty.mkdir()
    config = tmp_path / "ledgerlink.toml"
    config.write_text("")
    serve = ServeProcess(tmp_path, db, empty, config, {"LEDGERLINK_ADMIN_TOKEN": ADMIN_TOKEN})
    try:
        health = _healthy(serve.url, serve.process, serve.log_path)
        assert health["recipes"] == 0 and len(health["warnings"]) == 1
        assert health["warnings"][0].startswith(f"no recipes in {empty}")
        assert httpx.get(f"{serve.url}/healthz", trust_env=False).json() == {"status": "ok"}
    finally:
        serve.terminate()
    assert f"WARNING ledgerlink: no recipes in {empty}" in serve.log_path.read_text()
