"""Console users of ``[console.users]``: the hash ``ledgerlink console hash-password`` prints
(the password read from standard input, never an argument), signing in with a name and a
password beside the admin token, the same refusal for a wrong password and a name no user
has, the signed-in name in the header and recorded as who approved or rejected a run, a
session that ends with a new password, and neither the password nor its hash on a page, in a
message or in the log."""

from __future__ import annotations

import logging
import re
import subprocess

import pytest
import sqlalchemy as sa

from console_helpers import csrf_of, sign_in
from ledgerlink.config import load_config
from ledgerlink.errors import ConfigError
from ledgerlink.store.schema import runs
from ledgerlink.testing.processes import ledgerlink_exe
from ledgerlink_console import users
from test_console_pages import _awaiting_review, store_of

PASSWORD = "correct horse battery staple"
#: made once with a low cost, for quick tests (a real one is made by the command, cost 17)
ANA = users.hash_password(PASSWORD, ln=12)


def with_users(make_app, **hashes: str):
    table = "\n".join(f'{name} = "{value}"' for name, value in hashes.items())
    return make_app(console=f'timezone = "UTC"\n\n[console.users]\n{table}')


def user_sign_in(client, name: str, password: str, next_page: str = "/console/"):
    form = client.get("/console/login").get_data(as_text=True)
    return client.post("/console/login", data={"csrf": csrf_of(form), "user": name, "password": password,
                                               "next": next_page})


def problem_of(answer) -> str:
    return re.search(r'<p class="problem" role="alert">(.*?)</p>', answer.get_data(as_text=True)).group(1)


def test_hash_password_reads_stdin_and_prints_the_line_for_console_users(tmp_path, catalog):
    done = subprocess.run([ledgerlink_exe(), "console", "hash-password", "ana", "--cost", "14"],
                          input=PASSWORD + "\n", capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    name, value = re.fullmatch(r'(\w+) = "([^"]+)"\n', done.stdout).groups()
    assert name == "ana" and value.startswith("$scrypt$ln=14,r=8,p=1$")
    assert PASSWORD not in done.stdout + done.stderr and "[console.users]" in done.stderr
    parsed = users.parse(value)
    assert parsed.derive(PASSWORD) == parsed.digest and parsed.derive("another password") != parsed.digest
    config = tmp_path / "ledgerlink.toml"
    config.write_text(f"[console.users]\n{done.stdout}")
    assert users.check(users.configured(load_config(config, catalog).tables["console"]), "ana", PASSWORD)
    short = subprocess.run([ledgerlink_exe(), "console", "hash-password", "ana"], input="short\n",
                           capture_output=True, text=True, timeout=60)
    assert short.returncode == 1 and "at least 12 characters" in short.stderr and short.stdout == ""
    argv = subprocess.run([ledgerlink_exe(), "console", "hash-password", "ana", "--password", PASSWORD],
                          capture_output=True, text=True, timeout=60, stdin=subprocess.DEVNULL)
    assert argv.returncode == 2  # there is no way to give it on the command line


def test_a_password_pasted_in_place_of_its_hash_is_refused_without_being_quoted(tmp_path, catalog):
    config = tmp_path / "ledgerlink.toml"
    config.write_text(f'[console.users]\nana = "{PASSWORD}"\nbob = "{ANA}"\n')
    with pytest.raises(ConfigError) as refused:
        load_config(config, catalog)
    assert "/console/users/ana: not a password hash" in refused.value.message
    assert "hash-password" in refused.value.message and PASSWORD not in refused.value.message
    assert "/console/users/bob" not in refused.value.message
    config.write_text(f'[console.users]\n"ana b" = "{ANA}"\n')
    with pytest.raises(ConfigError, match="console/users"):
        load_config(config, catalog)


def test_a_user_signs_in_and_is_named_in_the_header(make_app, caplog):
    app = with_users(make_app, ana=ANA, bob=users.hash_password("another long password", ln=12))
    client = app.test_client()
    login = client.get("/console/login").get_data(as_text=True)
    assert 'id="user"' in login and 'id="password"' in login and 'id="token"' in login  # both ways
    caplog.set_level(logging.DEBUG)
    answer = user_sign_in(client, "ana", PASSWORD, "/console/health")
    assert answer.status_code == 303 and answer.headers["Location"] == "/console/health"
    cookie = answer.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Strict" in cookie
    page = client.get("/console/health").get_data(as_text=True)
    assert "Signed in as <b>ana</b>" in page
    for secret in (PASSWORD, ANA, ANA.split("$")[-1], ANA.split("$")[-2]):
        assert secret not in page and secret not in login and secret not in cookie and secret not in caplog.text
    admin = make_app().test_client()
    sign_in(admin)
    assert "Signed in with the admin token" in admin.get("/console/").get_data(as_text=True)


def test_a_wrong_password_and_an_unknown_name_get_the_same_refusal(make_app, caplog):
    app = with_users(make_app, ana=ANA)
    caplog.set_level(logging.DEBUG)
    refused = app.test_client()
    wrong = user_sign_in(refused, "ana", "not " + PASSWORD)
    unknown = user_sign_in(refused, "nobody", PASSWORD)
    empty = user_sign_in(app.test_client(), "", PASSWORD)
    assert wrong.status_code == unknown.status_code == empty.status_code == 401
    assert problem_of(wrong) == problem_of(unknown) == problem_of(empty)
    assert "do not match a console user" in problem_of(wrong)
    assert refused.get("/console/").status_code == 303  # still signed out
    for answer in (wrong, unknown):
        html = answer.get_data(as_text=True)
        assert ANA not in html and PASSWORD not in html
    assert PASSWORD not in caplog.text and ANA not in caplog.text
    # the admin token is not a user's password, and a user's password is not the admin token
    assert user_sign_in(app.test_client(), "ana", "").status_code == 401
    assert sign_in(app.test_client(), PASSWORD).status_code == 401
    # no users configured: the name form is not offered, and a post of it is refused alike
    plain = make_app()
    assert 'id="user"' not in plain.test_client().get("/console/login").get_data(as_text=True)
    assert user_sign_in(plain.test_client(), "ana", PASSWORD).status_code == 401


def test_the_user_form_needs_its_csrf_token(make_app):
    client = with_users(make_app, ana=ANA).test_client()
    client.get("/console/login")
    refused = client.post("/console/login", data={"user": "ana", "password": PASSWORD})
    assert refused.status_code == 403 and client.get("/console/").status_code == 303


def test_the_signed_in_name_is_recorded_as_who_approved_or_rejected(make_app):
    app = with_users(make_app, ana=ANA)
    client = app.test_client()
    assert user_sign_in(client, "ana", PASSWORD).status_code == 303
    _awaiting_review(app, 2)
    confirm = client.get("/console/runs/1/approve").get_data(as_text=True)
    assert client.post("/console/runs/1/approve", data={"csrf": csrf_of(confirm)}).status_code == 303
    queue = client.get("/console/review/confirm?action=reject&run=2").get_data(as_text=True)
    done = client.post("/console/review/reject", data={"run": ["2"], "reason": "a duplicate", "csrf": csrf_of(queue)})
    assert done.status_code == 303
    with store_of(app).engine.connect() as conn:
        by = dict(conn.execute(sa.select(runs.c.id, runs.c.reviewed_by)).all())
    assert by == {1: "ana", 2: "ana"}
    assert "Reviewed by</dt><dd>ana" in client.get("/console/runs/2").get_data(as_text=True)


def test_a_new_password_or_a_removed_user_ends_the_session(make_app):
    first = with_users(make_app, ana=ANA)
    client = first.test_client()
    user_sign_in(client, "ana", PASSWORD)
    cookie = client.get_cookie("ledgerlink_console", path="/console").value
    for app, still in ((with_users(make_app, ana=ANA), True),
                       (with_users(make_app, ana=users.hash_password(PASSWORD, ln=12)), False),  # a new salt
                       (with_users(make_app, bob=ANA), False), (make_app(), False)):
        other = app.test_client()
        other.set_cookie("ledgerlink_console", cookie, path="/console")
        assert other.get("/console/").status_code == (200 if still else 303)


@pytest.mark.parametrize("value", ["$scrypt$ln=40,r=8,p=1$AAAAAAAAAAAAAAAAAAAAAA$" + "A" * 43,
                                   "$scrypt$ln=20,r=32,p=1$AAAAAAAAAAAAAAAAAAAAAA$" + "A" * 43,
                                   "$argon2id$v=19$m=65536,t=3,p=4$c2FsdA$aGFzaA", "plain text"])
def test_a_hash_past_the_bounds_or_of_another_form_is_refused(value):
    with pytest.raises(ConfigError) as refused:
        users.parse(value)
    assert value not in refused.value.message
    assert not users.check({"ana": value}, "ana", PASSWORD)


def _on_a_terminal(*typed: bytes) -> tuple[int, bytes]:
    """``ledgerlink console hash-password ana`` on a pseudo-terminal, answering each prompt
    with the next of ``typed``; its exit status and everything the terminal showed."""
    import os
    import pty
    import select
    import signal

    pid, fd = pty.fork()
    if pid == 0:  # the child: the command, its standard input a terminal
        os.execv(ledgerlink_exe(), [ledgerlink_exe(), "console", "hash-password", "ana", "--cost", "14"])
    shown = b""
    prompts = [b"New console password: ", b"The same again: "]
    answered = 0
    while True:
        if not select.select([fd], [], [], 60)[0]:  # a guard against a hung test, not a timing
            os.kill(pid, signal.SIGKILL)
            os.waitpid(pid, 0)
            raise AssertionError(f"the command stopped answering; it showed {shown!r}")
        try:
            chunk = os.read(fd, 1024)
        except OSError:  # the child closed the terminal
            break
        if not chunk:
            break
        shown += chunk
        # each answer once its prompt is shown: getpass flushes what was typed before it
        if answered < len(typed) and prompts[answered] in shown:
            os.write(fd, typed[answered] + b"\n")
            answered += 1
    _, status = os.waitpid(pid, 0)
    return os.waitstatus_to_exitcode(status), shown


def test_on_a_terminal_the_password_is_asked_twice_and_never_shown():
    code, shown = _on_a_terminal(PASSWORD.encode(), PASSWORD.encode())
    assert code == 0 and b"New console password:" in shown and b"The same again:" in shown
    assert PASSWORD.encode() not in shown  # not echoed
    (line,) = re.findall(rb'ana = "(\$scrypt\$[^"]+)"', shown)
    assert users.check({"ana": line.decode()}, "ana", PASSWORD)
    code, shown = _on_a_terminal(PASSWORD.encode(), b"a different password")
    assert code == 1 and b"the two passwords differ" in shown and b"$scrypt$" not in shown


def test_sign_ins_beyond_the_checks_at_once_wait_then_are_refused_without_a_word_on_the_user(make_app, monkeypatch):
    client = with_users(make_app, ana=ANA).test_client()
    monkeypatch.setattr(users, "WAIT_SECONDS", 0.0)
    held = [users._checking.acquire(blocking=False) for _ in range(users.CONCURRENT_CHECKS)]
    assert all(held)  # every slot taken, as by other sign-ins being checked
    try:
        busy = user_sign_in(client, "ana", PASSWORD)
    finally:
        for _ in held:
            users._checking.release()
    assert busy.status_code == 429 and "try again in a moment" in problem_of(busy)
    assert client.get("/console/").status_code == 303
    assert user_sign_in(client, "ana", PASSWORD).status_code == 303  # a slot free again
