"""`ledgerlink connect NAME` for a notify connection: its SMTP server is asked EHLO, STARTTLS,
AUTH and QUIT with the configured username and password, against a real SMTP server on
loopback; nothing is sent. A refused password is an error naming the settings, never the
password; a webhook connection has nothing to check."""

from __future__ import annotations

import pytest
from smtp_loopback import PASSWORD, SLACK_CONNECTION, USERNAME, smtp_server

from ledgerlink.cli import main


@pytest.fixture
def setup(tmp_path, monkeypatch, capsys):
    with smtp_server(tmp_path / "tls") as mail:
        config = tmp_path / "ledgerlink.toml"
        config.write_text(mail.connection("alerts_email", "ledgerlink <alerts@example.com>") + SLACK_CONNECTION)
        monkeypatch.setenv("LL_SLACK_URL", "https://hooks.example.com/services/T0/B0/abc")
        db = f"sqlite:///{tmp_path / 'ledgerlink.db'}"
        assert main(["db", "upgrade", "--db", db]) == 0
        capsys.readouterr()
        yield ["--db", db, "--config", str(config)], mail.mailbox


def test_a_refused_password_is_an_error_naming_the_settings_and_nothing_is_sent(setup, monkeypatch, capsys):
    options, mailbox = setup
    monkeypatch.setenv("LL_SMTP_PASSWORD", "rotated-password-41")
    assert main(["connect", "alerts_email", *options]) == 1
    printed = capsys.readouterr()
    assert "was not accepted" in printed.err and "refused the username and password" in printed.err
    assert "'username'" in printed.err and "'password'" in printed.err and "nothing resumed" in printed.err
    assert "rotated-password-41" not in printed.out + printed.err
    assert mailbox.received == [] and not any(accepted for _, accepted in mailbox.logins)


def test_the_right_password_is_checked_over_starttls_and_nothing_is_sent(setup, monkeypatch, capsys):
    options, mailbox = setup
    monkeypatch.setenv("LL_SMTP_PASSWORD", PASSWORD)
    assert main(["connect", "alerts_email", *options]) == 0
    printed = capsys.readouterr()
    assert "alerts_email: ok (the SMTP server of 'alerts_email' accepted its username and password " \
           "(nothing was sent)); 0 paused run(s) resumed" in printed.out
    assert mailbox.logins == [(USERNAME, True)] and mailbox.received == []  # AUTH over TLS, no message


def test_a_webhook_connection_has_nothing_to_check(setup, capsys):
    options, mailbox = setup
    assert main(["connect", "alerts_slack", *options]) == 0
    assert "no credential to check" in capsys.readouterr().err
    assert mailbox.logins == []
