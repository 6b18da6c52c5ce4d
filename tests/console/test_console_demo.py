"""``ledgerlink demo --stay`` ends by printing its web console's address and admin token, and
keeps that server up until Ctrl-C: a person signs in with what it printed and reads the runs
the demo made (``make demo`` on a terminal does the same; the README test checks the line)."""

from __future__ import annotations

import re
import signal
import subprocess
import sys

import httpx
import pytest

from console_helpers import csrf_of


def _as_on_a_terminal() -> None:
    """Ctrl-C reaches a program on a terminal; a job a shell started in the background (as a
    CI step may be) inherits SIGINT ignored: give the demo the terminal's disposition."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


@pytest.mark.parametrize("stop", [signal.SIGINT, signal.SIGTERM], ids=["ctrl-c", "sigterm"])
def test_demo_stay_keeps_its_console_up_with_the_token_it_printed(tmp_path, stop):
    demo = subprocess.Popen([sys.executable, "-m", "ledgerlink", "demo", "--stay", "--workdir", str(tmp_path / "demo")],
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                            preexec_fn=_as_on_a_terminal)
    try:
        printed = []
        for line in demo.stdout:
            printed.append(line)
            if line.startswith("Console:"):
                break
        else:
            pytest.fail("the demo ended without printing its console:\n" + "".join(printed))
        found = re.fullmatch(r"Console: +(http://127\.0\.0\.1:\d+/console/)  \(sign in with the admin token (\S+)\)\n",
                             line)
        assert found, line
        address, token = found.groups()
        with httpx.Client(timeout=10, trust_env=False) as browser:
            form = browser.get(f"{address}login")
            signed = browser.post(f"{address}login", data={"csrf": csrf_of(form.text), "token": token})
            assert signed.status_code == 303
            log = browser.get(address)
            assert log.status_code == 200 and token not in log.text
            runs = re.findall(r'<td><a href="/console/runs/(\d+)">', log.text)
            assert runs, log.text
            run = browser.get(f"{address}runs/{runs[-1]}")
            assert run.status_code == 200 and "Steps" in run.text
        demo.send_signal(stop)  # Ctrl-C, or a process manager's stop
        rest, _ = demo.communicate(timeout=240)  # read to the end: a full pipe would hold the demo up
        assert demo.returncode == 0, rest
        with pytest.raises(httpx.ConnectError):  # its serve stopped with it
            httpx.get(address, timeout=5, trust_env=False)
    finally:
        if demo.poll() is None:
            demo.kill()
            demo.wait()
