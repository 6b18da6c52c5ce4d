"""docs/writing-a-connector.md cannot drift: its files are extracted, installed as a package
and run — the catalog lists the connector, the recipe validates and dry-runs, the guide's own
tests pass, and a signed webhook served by ``ledgerlink serve`` writes one note into the
guide's sandbox, once, which ``undo`` deletes."""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import re
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from ledgerlink import jsonio
from ledgerlink.testing.processes import SandboxProcess, ServeProcess, run_ledgerlink
from vendor_files import REPO

GUIDE = REPO / "docs" / "writing-a-connector.md"
FENCE = re.compile(r"^```(\w+) file=(\S+)\n(.*?)^```$", re.S | re.M)
ADMIN = "guide-admin-token"
SECRET = "whsec_guide"


def guide_files() -> dict[str, str]:
    return {path: body for _, path, body in FENCE.findall(GUIDE.read_text("utf-8"))}


def guide_commands() -> list[str]:
    block = re.search(r"^```sh\n(.*?)^```$", GUIDE.read_text("utf-8"), re.S | re.M).group(1)
    return [line.split("#")[0].strip() for line in block.splitlines() if line.strip()]


@pytest.fixture(scope="module")
def package(tmp_path_factory) -> tuple[Path, dict[str, str]]:
    """The guide's package written out and installed into a folder of its own; returns the
    package folder and the environment that finds it."""
    root = tmp_path_factory.mktemp("guide")
    folder = root / "ledgerlink-acme"
    for path, body in guide_files().items():
        (folder / path).parent.mkdir(parents=True, exist_ok=True)
        (folder / path).write_text(body)
    site = root / "site"
    subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--no-build-isolation",
                    "--disable-pip-version-check", "--target", str(site), str(folder)],
                   check=True, capture_output=True, timeout=300)
    return folder, {"PYTHONPATH": str(site), "ACME_API_KEY": "acme-test-key",
                    "ACME_WEBHOOK_SECRET": SECRET, "LEDGERLINK_ADMIN_TOKEN": ADMIN}


def test_the_guide_holds_every_file_it_names():
    assert set(guide_files()) == {"pyproject.toml", "ledgerlink_acme/__init__.py",
                                  "ledgerlink_acme_sandbox/__init__.py", "tests/conftest.py",
                                  "tests/test_acme.py", "recipes/acme-payment-to-note.json",
                                  "ledgerlink.toml"}
    commands = guide_commands()
    assert [c.split()[:2] for c in commands] == [
        ["pip", "install"], ["ledgerlink", "connectors"], ["ledgerlink", "validate"],
        ["ledgerlink", "dry-run"], ["pytest", "tests/"], ["ledgerlink", "sandbox"], ["ledgerlink", "serve"]]


def test_the_catalog_lists_the_guide_connector(package):
    folder, env = package
    listed = run_ledgerlink("connectors", "--json", env=env, cwd=folder)
    assert listed.returncode == 0, listed.stderr
    acme = next(c for c in jsonio.loads(listed.stdout)["connectors"] if c["name"] == "acme")
    assert [t["name"] for t in acme["triggers"]] == ["acme.payment.received"]
    assert [a["name"] for a in acme["actions"]] == ["acme.create_note"]


def test_the_guide_recipe_validates_and_dry_runs_without_sending(package):
    folder, env = package
    valid = run_ledgerlink("validate", "recipes/acme-payment-to-note.json", env=env, cwd=folder)
    assert valid.returncode == 0, valid.stdout + valid.stderr
    dry = run_ledgerlink("dry-run", "recipes/acme-payment-to-note.json", env=env, cwd=folder)
    assert dry.returncode == 0, dry.stdout + dry.stderr
    request = jsonio.loads(dry.stdout)["steps"][0]["request"]
    assert (request["method"], request["url"]) == ("POST", "http://127.0.0.1:8090/v1/notes")
    assert request["headers"]["idempotency-key"] and request["body"]["amount"] == "12.50"
    assert request["headers"]["authorization"] == "Bearer [REDACTED]"
    assert "acme-test-key" not in dry.stdout


def test_the_guide_tests_pass(package):
    folder, env = package
    result = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "tests/"],
                            cwd=folder, env={**os.environ, **env}, capture_output=True, text=True,
                            timeout=300)
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-2000:]
    assert re.search(r"\b(\d+) passed\b", result.stdout)
    # the conformance class ran its checks, not just the round trip
    assert int(re.search(r"\b(\d+) passed\b", result.stdout).group(1)) >= 5


def test_a_signed_webhook_writes_one_note_which_undo_deletes(package, tmp_path):
    folder, env = package
    sandbox = SandboxProcess("acme", env=env)
    acme = sandbox.url
    config = tmp_path / "ledgerlink.toml"
    config.write_text((folder / "ledgerlink.toml").read_text().replace("http://127.0.0.1:8090", acme))
    db = f"sqlite:///{tmp_path / 'acme.db'}"
    upgraded = run_ledgerlink("db", "upgrade", "--db", db, env=env)
    assert upgraded.returncode == 0, upgraded.stderr
    serve = ServeProcess(tmp_path, db, folder / "recipes", config, env)
    try:
        serve.wait_healthy()
        event = {"id": "evt_guide_1", "type": "payment.received",
                 "data": {"reference": "INV-9", "amount": "40.00", "currency": "EUR"}}
        body = json.dumps(event).encode()
        signature = hmac.new(SECRET.encode(), body, hashlib.sha256).hexdigest()
        for _ in range(2):  # a redelivery changes nothing
            answer = httpx.post(f"{serve.url}/webhooks/acme", content=body,
                                headers={"Acme-Signature": signature, "Content-Type": "application/json"})
            assert answer.status_code == 200, answer.text
        forged = httpx.post(f"{serve.url}/webhooks/acme", content=body, headers={"Acme-Signature": "0" * 64, "Content-Type": "application/json"})
        assert forged.status_code == 401, forged.text
        admin = {"Authorization": f"Bearer {ADMIN}"}
        runs = _wait_for(lambda: [r for r in httpx.get(f"{serve.url}/api/runs", headers=admin).json()["runs"]
                                  if r["status"] == "succeeded"], "the run")
        assert len(runs) == 1
        notes = httpx.get(f"{acme}/v1/notes", params={"reference": "INV-9"},
                          headers={"Authorization": "Bearer acme-test-key"}).json()["data"]
        assert [(n["amount"], n["currency"]) for n in notes] == [("40.00", "EUR")]
        undone = httpx.post(f"{serve.url}/api/runs/{runs[0]['id']}/undo", headers=admin)
        assert undone.status_code == 200, undone.text
        assert httpx.get(f"{acme}/v1/notes", params={"reference": "INV-9"},
                         headers={"Authorization": "Bearer acme-test-key"}).json()["data"] == []
    finally:
        serve.terminate()
        sandbox.stop()


def _wait_for(check, what: str, timeout: float = 30.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = check()
        if found:
            return found
        time.sleep(0.1)
    raise AssertionError(f"{what} did not come within {timeout} s")
