"""The service commands as an operator runs them: serve, graceful SIGTERM, runs list/show/replay, sandbox."""

from __future__ import annotations

import collections
import re
import time

import httpx
import pytest


from ledgerlink import jsonio
from ledgerlink.web.servers import background
from ledgerlink.store import Store
from ledgerlink_sandboxes.quickbooks import create_sandbox
from runtime_fixtures import ADMIN_TOKEN, QBO_TOKEN, WEBHOOK_SECRET, recipes_dir, signed, write_config
from ledgerlink.testing.databases import migrated_db
from ledgerlink.testing.processes import SandboxProcess, ServeProcess
from stripe_events import invoice_paid_event

ENV = {"LL_TEST_WHSEC": WEBHOOK_SECRET, "LL_TEST_QBO_TOKEN": QBO_TOKEN, "LEDGERLINK_ADMIN_TOKEN": ADMIN_TOKEN}
AUTH = {"Authorization": f"Bearer {ADMIN_TOKEN}"}


def test_sigterm_finishes_or_releases_in_flight_runs(tmp_path):
    # every QuickBooks request takes 0.3 s, so runs are in flight when SIGTERM arrives
    sandbox_app = create_sandbox(rate_limit=False, latency=0.3)
    with background(sandbox_app) as sandbox:
        db = migrated_db(tmp_path)
        recipes = recipes_dir(tmp_path)
        config = write_config(tmp_path, sandbox.url)
        serve = ServeProcess(tmp_path, db, recipes, config, ENV, workers=4, lease=60.0)
        serve.wait_healthy()
        with httpx.Client() as client:
            for i in range(40):
                body, headers = signed(invoice_paid_event("usd", 1000 + i, event_id=f"evt_term_{i}"))
                assert client.post(f"{serve.url}/webhooks/stripe", content=body, headers=headers).status_code == 200
        time.sleep(0.5)
        assert serve.terminate() == 0, serve.output()
        store = Store(db)
        counts = store.counts()
        assert "running" not in counts, counts  # nothing left leased for 60 s
        assert sum(counts.values()) == 40 and counts.get("succeeded", 0) < 40, counts
        again = ServeProcess(tmp_path, db, recipes, config, ENV, workers=4, lease=60.0)
        again.wait_healthy()
        deadline = time.monotonic() + 60
        while store.counts() != {"succeeded": 40} and time.monotonic() < deadline:
            time.sleep(0.1)
        again.terminate()
        assert store.counts() == {"succeeded": 40}
        entries = sandbox_app.sandbox.entities("9130350000000000", "journalentry")
        per_event = collections.Counter(re.search(r"event (evt_term_\d+)", e["PrivateNote"]).group(1) for e in entries)
        assert len(per_event) == 40 and set(per_event.values()) == {1}


def test_runs_list_show_and_replay_commands(tmp_path, run_subprocess, serve_process):
    sandbox_app = create_sandbox(rate_limit=False)
    with background(sandbox_app) as sandbox:
        db = migrated_db(tmp_path)
        recipes = recipes_dir(tmp_path)
        config = write_config(tmp_path, sandbox.url)
        sandbox_app.sandbox.script([{"fault": "validation", "message": "Scripted: closed period", "code": "6000",
                                     "match": {"entity": "journalentry"}}])
        serve = serve_process(db, recipes, config, ENV, workers=1)
        body, headers = signed(invoice_paid_event("usd", 1000, event_id="evt_cli_1"))
        httpx.post(f"{serve.url}/webhooks/stripe", content=body, headers=headers)
        store = Store(db)
        deadline = time.monotonic() + 30
        while store.counts() != {"failed": 1} and time.monotonic() < deadline:
            time.sleep(0.05)
        listed = run_subprocess("runs", "list", "--db", db, env=ENV)
        assert listed.returncode == 0 and "failed" in listed.stdout and "Scripted: closed period" in listed.stdout
        as_json = jsonio.loads(run_subprocess("runs", "list", "--db", db, "--json", "--status", "failed").stdout)
        run_id = as_json["runs"][0]["id"]
        shown = jsonio.loads(run_subprocess("runs", "show", str(run_id), "--db", db).stdout)
        customer, entry = shown["steps"]  # the customer is found (created), the entry refused
        assert customer["status"] == "succeeded"
        assert entry["status"] == "failed" and entry["response_status"] == 400
        assert entry["request"]["headers"]["authorization"] == "Bearer [REDACTED]"
        dry = run_subprocess("runs", "replay", str(run_id), "--dry-run", "--db", db, "--recipes", str(recipes),
                             "--config", str(config), env=ENV)
        assert dry.returncode == 0, dry.stderr
        assert jsonio.loads(dry.stdout)["dry_run"] is True
        real = run_subprocess("runs", "replay", str(run_id), "--db", db, "--recipes", str(recipes),
                              "--config", str(config), env=ENV)
        assert real.returncode == 0, real.stderr
        deadline = time.monotonic() + 30
        while store.counts() != {"succeeded": 1} and time.monotonic() < deadline:
            time.sleep(0.05)
        assert store.counts() == {"succeeded": 1}
        missing = run_subprocess("runs", "show", "999", "--db", db)
        assert missing.returncode == 1 and "no run 999" in missing.stderr


def test_sandbox_command_serves_the_connector_sandbox(run_subprocess):
    # --port 0: the sandbox takes a free port and names it once it is bound
    with SandboxProcess("quickbooks", "rate_limit=false") as sandbox:
        assert sandbox.url.startswith("http://127.0.0.1:") and sandbox.port != 0
        assert sandbox.get("/__sandbox/stats")["requests"] == 0
        denied = httpx.get(f"{sandbox.url}/v3/company/9130350000000000/account/1")
        assert denied.status_code == 401
    unknown = run_subprocess("sandbox", "quickbook")
    assert unknown.returncode == 1 and 'did you mean "quickbooks"' in unknown.stderr


def test_a_taken_port_is_named_with_the_fix(tmp_path, run_subprocess):
    import socket

    empty = tmp_path / "recipes"
    empty.mkdir()
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        refused = run_subprocess("sandbox", "quickbooks", "--port", str(port))
        metrics = run_subprocess("serve", "--db", migrated_db(tmp_path), "--recipes", str(empty), "--port", "0",
                                 "--metrics-listen", f"127.0.0.1:{port}", timeout=60)
    assert refused.returncode == 1, refused.stderr
    assert refused.stderr.strip() == (f"error: cannot listen on 127.0.0.1:{port}: another process listens on "
                                      f"that port; stop it, or choose another port")
    assert metrics.returncode == 1, metrics.stderr
    assert metrics.stderr.strip().splitlines()[-1] == (f"error: cannot listen on 127.0.0.1:{port}: another "
                                                       f"process listens on that port; stop it, or choose another port")
    elsewhere = run_subprocess("sandbox", "quickbooks", "--host", "192.0.2.1", "--port", "0")  # TEST-NET-1
    assert elsewhere.returncode == 1, elsewhere.stderr
    assert elsewhere.stderr.strip() == ("error: cannot listen on 192.0.2.1:0: that address is not one of this "
                                        "machine's; choose one it has")


def test_sandbox_command_refuses_what_the_sandbox_does_not_take(run_subprocess):
    option = run_subprocess("sandbox", "quickbooks", "--set", "speed=warp")
    assert option.returncode == 2 and "no option speed" in option.stderr
    assert "requests_per_window: requests admitted per realm" in option.stderr
    value = run_subprocess("sandbox", "quickbooks", "--set", "requests_per_window=0")
    assert value.returncode == 2 and "requests_per_window must be an integer of at least 1" in value.stderr
    assert "Traceback" not in option.stderr + value.stderr


def test_sandbox_command_names_the_package_when_no_sandbox_is_installed(run_subprocess):
    missing = run_subprocess("sandbox", "quickbooks", env={"LEDGERLINK_PLUGINS": "stripe,quickbooks"})
    assert missing.returncode == 1
    assert "no sandbox is installed" in missing.stderr and "pip install ledgerlink-sandboxes" in missing.stderr


def test_serve_limits_connections_and_their_time(tmp_path):
    import socket

    from ledgerlink_stripe import examples

    def served(port: int) -> socket.socket | None:
        """A connection whose GET /healthz was answered 200 (None if it was turned away)."""
        sock = socket.create_connection(("127.0.0.1", port), timeout=10)
        sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
        answer = b""
        while b"\r\n\r\n" not in answer:
            answer += sock.recv(65536)
        head, _, body = answer.partition(b"\r\n\r\n")
        length = int(re.search(rb"(?i)content-length: *(\d+)", head).group(1))
        while len(body) < length:
            body += sock.recv(65536)
        if head.startswith(b"HTTP/1.1 200 "):
            return sock
        sock.close()
        return None

    sandbox_app = create_sandbox(rate_limit=False)
    with background(sandbox_app) as sandbox:
        db = migrated_db(tmp_path)
        config = write_config(tmp_path, sandbox.url)
        serve = ServeProcess(tmp_path, db, recipes_dir(tmp_path), config, ENV, workers=1,
                             extra=("--max-connections", "3", "--idle-timeout", "1", "--request-timeout", "1"))
        serve.wait_healthy()
        held = []
        try:
            deadline = time.monotonic() + 10
            while len(held) < 3 and time.monotonic() < deadline:  # health probes may linger a moment
                sock = served(serve.port)
                held += [sock] if sock else []
            assert len(held) == 3
            body, headers = signed(examples.invoice_paid("usd", 1000, "evt_limits_1", "L-1"))
            busy = httpx.post(f"{serve.url}/webhooks/stripe", content=body, headers=headers, timeout=10)
            assert busy.status_code == 503 and busy.headers["retry-after"] == "1"
            assert busy.json()["error"]["code"] == "server_busy"
            assert Store(db).counts() == {}  # nothing stored: Stripe resends
            for sock in held:  # idle for --idle-timeout: closed by the server
                assert sock.recv(65536) == b""
            again = httpx.post(f"{serve.url}/webhooks/stripe", content=body, headers=headers, timeout=10)
            assert again.status_code == 200, again.text
            with socket.create_connection(("127.0.0.1", serve.port), timeout=10) as slow:
                slow.sendall(b"POST /webhooks/stripe HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n{")
                assert slow.recv(65536).startswith(b"HTTP/1.1 408 ")  # the body never came whole
        finally:
            for sock in held:
                sock.close()
            serve.terminate()
        assert len(Store(db).list_runs(limit=10)) == 1


@pytest.mark.parametrize("command", [["serve"], ["worker"], ["runs", "replay", "1"], ["runs", "undo", "1"], ["demo"]])
def test_every_command_that_takes_recipes_refuses_a_missing_folder(command, tmp_path, capsys, monkeypatch):
    from ledgerlink import cli

    monkeypatch.chdir(tmp_path)
    db = migrated_db(tmp_path)
    for folder, why in ((tmp_path / "no-such-folder", "does not exist"), (tmp_path / "a-file", "is not a folder")):
        (tmp_path / "a-file").write_text("")
        options = ["--recipes", str(folder)] + ([] if command == ["demo"] else ["--db", db])
        with pytest.raises(SystemExit) as exited:
            cli.main(command + options)
        err = capsys.readouterr().err
        assert exited.value.code == 2 and f"the recipe folder {folder} {why}" in err and "Traceback" not in err
    if command != ["demo"]:  # the default, recipes/ of the working folder, is checked the same way
        with pytest.raises(SystemExit) as exited:
            cli.main(command + ["--db", db])
        assert exited.value.code == 2 and str(tmp_path / "recipes") in capsys.readouterr().err
