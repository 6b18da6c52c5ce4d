"""Installed with pip and run from any folder: the demo, `init`, and `serve` that says what it lacks.

The example recipes ship inside the package (``ledgerlink/examples``, a link to the
repository's ``recipes/`` folder, so there is one copy), so the demo finds them wherever it
runs; `init` writes a starter to edit; `serve` refuses a recipe folder that is not there and
says so when it has no recipe to run.
"""

from __future__ import annotations

import os
import re
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
from ledgerlink.testing.processes import ServeProcess

AUTH = {"Authorization": f"Bearer {ADMIN_TOKEN}"}


def build_wheel(source: Path, dist: Path, name: str) -> Path:
    """The wheel pip builds from ``source`` into ``dist`` (no network, no dependencies)."""
    built = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q",
                            "-w", str(dist), str(source)], capture_output=True, text=True, timeout=300)
    assert built.returncode == 0, built.stderr
    return next(dist.glob(f"{name}-*.whl"))


def install(wheel: Path, site: Path) -> None:
    installed = subprocess.run([sys.executable, "-m", "pip", "install", "--no-deps", "-q", "--target", str(site),
                                str(wheel)], capture_output=True, text=True, timeout=300)
    assert installed.returncode == 0, installed.stderr


def test_the_demo_runs_from_wheels_installed_outside_the_repository(tmp_path):
    source = tmp_path / "source"
    source.mkdir()
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(REPO / name, source / name)
    for name in ("host", "plugins", "recipes", "schemas"):  # as in git: the package's links kept
        shutil.copytree(REPO / name, source / name, symlinks=True,
                        ignore=shutil.ignore_patterns("__pycache__", "*.egg-info", "build"))
    wheel = build_wheel(source, tmp_path / "dist", "ledgerlink")
    sandboxes = build_wheel(source / "plugins" / "sandboxes", tmp_path / "dist", "ledgerlink_sandboxes")
    with zipfile.ZipFile(wheel) as archive:
        names = archive.namelist()
        shipped = {n.removeprefix("ledgerlink/examples/"): archive.read(n) for n in names
                   if n.startswith("ledgerlink/examples/") and not n.endswith("/")}
    # the starters and, in their folders, the booking modes' recipes
    assert shipped == {p.relative_to(RECIPES).as_posix(): p.read_bytes() for p in RECIPES.rglob("*.json")}
    # the connector ships without its sandbox and without the XSDs the sandbox checks bodies with
    assert not [n for n in names if n.split("/")[:2] == ["ledgerlink_quickbooks", "sandbox"]
                or n.startswith("ledgerlink_sandboxes") or n.endswith(".xsd")], names
    with zipfile.ZipFile(sandboxes) as archive:
        assert "ledgerlink_sandboxes/quickbooks/xsd/Finance.xsd" in archive.namelist()
    site, sandbox_site = tmp_path / "site", tmp_path / "sandbox-site"
    install(wheel, site)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    env = {**os.environ, "PYTHONPATH": str(site)}  # the installed copy, not the repository's
    demo = [sys.executable, "-m", "ledgerlink", "demo", "--workdir", str(tmp_path / "demo")]
    # this test's own environment has the sandboxes installed: load only the connectors
    without = subprocess.run(demo, cwd=elsewhere, env={**env, "LEDGERLINK_PLUGINS": "stripe,quickbooks"},
                             capture_output=True, text=True, timeout=300)
    assert without.returncode == 1 and "pip install ledgerlink-sandboxes" in without.stderr, without.stderr
    assert "Traceback" not in without.stderr
    install(sandboxes, sandbox_site)
    env["PYTHONPATH"] = os.pathsep.join((str(site), str(sandbox_site)))
    ran = subprocess.run(demo, cwd=elsewhere, env=env, capture_output=True, text=True, timeout=300)
    assert ran.returncode == 0, ran.stdout + ran.stderr
    examples, _, books = ran.stdout.partition("Where to look next:")
    assert sum(" succeeded " in line for line in examples.splitlines()) == 2, ran.stdout
    # then the day booked by the installed mode-1 recipes, and the books tie out
    assert "recipes of mode-1-clearing/" in books and "The books tie out" in books, ran.stdout
    assert f"dry-run:     ledgerlink dry-run {site / 'ledgerlink' / 'examples'}" in ran.stdout
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
    log = open(tmp_path / "serve.log", "w")
    # port 0 for both: serve takes free ports itself and names them once bound
    serve = subprocess.Popen([sys.executable, "-m", "ledgerlink", "serve", "--db", db, "--port", "0",
                              "--metrics-listen", "127.0.0.1:0"], cwd=folder, stdout=log,
                             stderr=subprocess.STDOUT,
                             env={**os.environ, "LEDGERLINK_ADMIN_TOKEN": ADMIN_TOKEN, "LEDGERLINK_METRICS_TOKEN": ""})
    try:
        url = _said(r"^ledgerlink serving on (http://127\.0\.0\.1:[1-9]\d*) with 4 worker\(s\); 7 recipe\(s\)",
                    serve, tmp_path / "serve.log")
        metrics = _said(r"^metrics on (http://127\.0\.0\.1:[1-9]\d*/metrics)$", serve, tmp_path / "serve.log")
        health = _healthy(url, serve, tmp_path / "serve.log")
        assert health["recipes"] == 7 and health["warnings"] == []
        with httpx.Client(trust_env=False) as client:
            assert client.get(f"{url}/metrics").status_code == 401
            scraped = client.get(metrics)
            assert scraped.status_code == 200 and "ledgerlink_recipes_active 7.0" in scraped.text
    finally:
        serve.terminate()
        serve.wait(30)
        log.close()


def _said(pattern: str, process, log_path: Path) -> str:
    """The first group of the first line of serve's log that matches ``pattern``, once said."""
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        found = re.search(pattern, log_path.read_text(), re.MULTILINE)
        if found:
            return found[1]
        assert process.poll() is None, log_path.read_text()
        time.sleep(0.05)
    raise AssertionError(f"serve did not say {pattern}: " + log_path.read_text())


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
