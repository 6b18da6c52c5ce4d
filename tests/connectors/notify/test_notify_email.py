"""notify.email against a real SMTP server on loopback (aiosmtpd): STARTTLS required, AUTH
over TLS, the message as built; every failure classified, retry-later or fail, its message
naming the fix and never the password."""

from __future__ import annotations

from email.headerregistry import Address

import pytest
from smtp_loopback import PASSWORD, USERNAME, smtp_server

from ledgerlink.contract import ActionContext, Connection
from ledgerlink.errors import InputError, NotSent, OutcomeUnknown, VendorError
from ledgerlink.io import mail
from ledgerlink.testing import drive
from ledgerlink.testing.processes import free_port
from ledgerlink_notify.email_action import EMAIL, build, message_id

SECRETS = {"password": PASSWORD}


def settings_for(server, **extra) -> dict:
    return {"host": server.host, "port": server.port, "ca_file": str(server.certificates.ca_file),
            "from": "ledgerlink <alerts@example.com>", "username": USERNAME, **extra}


def send(data: dict, settings: dict, secrets=SECRETS, key: str = "run-7-step-mail") -> dict:
    """notify.email's perform, its SendMail sent by the host's SMTP sender."""
    ctx = ActionContext(connection=Connection("alerts", "notify", settings), idempotency_key=key)
    return drive(EMAIL.perform(data, ctx), lambda effect: mail.perform(effect, settings, secrets)).value


ALERT = {"to": ["Ops <ops@example.com>", "books@example.com"], "subject": "3 runs failed",
         "text": "QuickBooks answered HTTP 503.\n", "html": "<p>QuickBooks answered <b>HTTP 503</b>.</p>"}


@pytest.fixture
def server(tmp_path):
    with smtp_server(tmp_path / "tls") as running:
        yield running


def test_an_email_goes_over_starttls_with_auth_and_arrives_as_built(server):
    output = send(ALERT, settings_for(server))
    [received] = server.mailbox.received
    assert received.sender == "alerts@example.com"
    assert received.recipients == ("ops@example.com", "books@example.com")
    message = received.message
    assert message["Subject"] == "3 runs failed"
    assert message["From"] == "ledgerlink <alerts@example.com>"
    assert message["To"] == "Ops <ops@example.com>, books@example.com"
    assert message["Auto-Submitted"] == "auto-generated"
    assert message.get_body(("plain",)).get_content().replace("\r\n", "\n") == "QuickBooks answered HTTP 503.\n"
    assert "<b>HTTP 503</b>" in message.get_body(("html",)).get_content()
    assert server.mailbox.logins == [(USERNAME, True)]
    assert output == {"message_id": message["Message-ID"], "accepted": ["ops@example.com", "books@example.com"]}


def test_the_message_id_is_the_runs_so_a_resend_is_recognised(server):
    first = send(ALERT, settings_for(server), key="run-7-step-mail")
    again = send(ALERT, settings_for(server), key="run-7-step-mail")
    other = send(ALERT, settings_for(server), key="run-8-step-mail")
    ids = [r.message["Message-ID"] for r in server.mailbox.received]
    assert ids[0] == ids[1] == first["message_id"] == again["message_id"] != ids[2] == other["message_id"]
    assert ids[0] == message_id("run-7-step-mail", Address(addr_spec="alerts@example.com"))
    assert ids[0].endswith(".ledgerlink@example.com>")


def test_recipients_default_to_the_connections_to_and_the_input_overrides_them(server):
    configured = settings_for(server, to=["Bookkeeping <books@example.com>"])
    without_to = {k: v for k, v in ALERT.items() if k != "to"}
    assert send(without_to, configured)["accepted"] == ["books@example.com"]
    assert send(ALERT, configured)["accepted"] == ["ops@example.com", "books@example.com"]
    assert [r.recipients for r in server.mailbox.received] == [("books@example.com",),
                                                             ("ops@example.com", "books@example.com")]
    with pytest.raises(InputError) as nobody:
        send(without_to, settings_for(server))
    assert "no recipients: set to in the input, or the connection's to setting" in str(nobody.value)
    assert len(server.mailbox.received) == 2


def test_implicit_tls_is_spoken_from_the_first_byte(tmp_path):
    with smtp_server(tmp_path / "tls", implicit_tls=True) as server:
        send(ALERT, settings_for(server, security="tls"))
        assert len(server.mailbox.received) == 1


def test_a_refused_password_fails_naming_the_secrets_never_their_value(server):
    with pytest.raises(VendorError) as refused:
        send(ALERT, settings_for(server), secrets={"password": "wrong-password-123"})
    # a refused password is a refused key: the run pauses until `ledgerlink connect NAME`
    assert refused.value.kind == "reauth" and refused.value.http_status == 535
    assert "'username'" in refused.value.message and "'password'" in refused.value.message
    assert "wrong-password-123" not in refused.value.message
    assert server.mailbox.received == []


def test_refused_recipients_fail_and_deferred_ones_are_tried_again(server):
    with pytest.raises(VendorError) as refused:
        send({**ALERT, "to": ["nobody@refused.example"]}, settings_for(server))
    assert refused.value.kind == "permanent" and "550" in refused.value.message
    assert "correct the addresses" in refused.value.message
    with pytest.raises(VendorError) as deferred:
        send({**ALERT, "to": ["ops@busy.example"]}, settings_for(server))
    assert deferred.value.kind == "retry" and "451" in deferred.value.message
    assert server.mailbox.received == []


def test_a_message_refused_for_some_recipients_is_sent_to_the_others_and_says_so(server):
    output = send({**ALERT, "to": ["ops@example.com", "nobody@refused.example"]}, settings_for(server))
    assert output["accepted"] == ["ops@example.com"]
    assert output["refused"]["nobody@refused.example"].startswith("550")
    assert [r.recipients for r in server.mailbox.received] == [("ops@example.com",)]


def test_a_certificate_that_does_not_verify_fails_before_the_password_is_said(server):
    settings = {k: v for k, v in settings_for(server).items() if k != "ca_file"}  # the system's authorities
    with pytest.raises(VendorError) as failed:
        send(ALERT, settings)
    assert failed.value.kind == "permanent" and "TLS with 127.0.0.1" in failed.value.message
    assert "'ca_file'" in failed.value.message
    assert server.mailbox.logins == [] and server.mailbox.received == []


def test_a_server_without_starttls_is_refused_unless_security_is_none_on_loopback(tmp_path):
    with smtp_server(tmp_path / "tls", starttls=False) as server:
        with pytest.raises(VendorError) as refused:
            send(ALERT, settings_for(server))
        assert "does not offer STARTTLS" in refused.value.message and refused.value.kind == "permanent"
        with pytest.raises(VendorError) as plain_auth:  # no password ever over plain text
            send(ALERT, settings_for(server, security="none"))
        assert "only over TLS" in plain_auth.value.message
        assert server.mailbox.logins == [] and server.mailbox.received == []
    with pytest.raises(VendorError) as remote:
        mail.server(build(ALERT, ActionContext(Connection("a", "notify", {"from": "a@example.com"}), "k")),
                    {"host": "smtp.example.com", "security": "none"})
    assert "not on this machine" in remote.value.message


def test_a_server_not_listening_is_not_sent_and_tried_again():
    settings = {"host": "127.0.0.1", "port": free_port(), "from": "alerts@example.com", "username": USERNAME}
    with pytest.raises(NotSent):
        send(ALERT, settings)


def test_every_input_problem_is_named_at_once_before_anything_is_sent():
    ctx = ActionContext(connection=Connection("alerts", "notify", {}), idempotency_key="k")
    with pytest.raises(InputError) as bad:
        build({"to": ["not an address", "ops@example.com\r\nBcc: x@example.com"], "subject": "a\nb",
               "text": 5, "extra": 1}, ctx)
    message = str(bad.value)
    for pointer in ("/to/0", "/to/1", "/subject", "/text", "/from", "/extra"):
        assert pointer in message, pointer


def test_what_is_logged_and_shown_holds_no_secret(server):
    settings = settings_for(server)
    ctx = ActionContext(connection=Connection("alerts", "notify", settings), idempotency_key="k")
    effect = build({**ALERT, "text": f"the password is {PASSWORD}"}, ctx)
    records: list = []
    mail.perform_logged(effect, settings, SECRETS, records)
    shown = str([records[0].request, records[0].body_text])
    assert PASSWORD not in shown
    assert records[0].request["sender"] == "alerts@example.com"  # a user name is no secret
    assert records[0].request["server"] == {"host": "127.0.0.1", "port": server.port, "security": "starttls"}


def test_a_hang_up_after_the_message_is_an_unknown_outcome_and_the_resend_has_the_same_id(server):
    server.mailbox.hang_up_after_data = 1
    with pytest.raises(OutcomeUnknown) as lost:
        send(ALERT, settings_for(server))
    assert "same Message-ID" in lost.value.message
    send(ALERT, settings_for(server))  # the retry of the same step
    first, resent = server.mailbox.received
    assert first.message["Message-ID"] == resent.message["Message-ID"]
