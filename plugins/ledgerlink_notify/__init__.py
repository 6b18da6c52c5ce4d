"""Notifications for ledgerlink: email over SMTP and JSON posted to a webhook (Slack's too).

Actions:

- ``notify.email`` (:mod:`.email_action`): one email per run through the connection's SMTP
  server, STARTTLS (or TLS) and AUTH, its Message-ID derived from the run;
- ``notify.webhook`` (:mod:`.webhook_action`): a JSON POST, ``format: "slack"`` for Slack's
  incoming-webhook body, signed (:mod:`.signing`) when the connection has a signing secret.

Modules by job: :mod:`.settings` (the server, the address, the secrets), :mod:`.email_action`,
:mod:`.webhook_action`, :mod:`.signing`. Recipes triggered by ledgerlink's own events
(``ledgerlink.run.failed``…) use these to alert; see ``docs/alerts.md``.
"""

from __future__ import annotations

from ledgerlink import hookimpl
from collections.abc import Generator
from typing import Any

from ledgerlink.contract import ActionContext, CheckMail, Connector, Limits, MailResult
from ledgerlink_notify.email_action import EMAIL
from ledgerlink_notify.settings import SECRET_SETTINGS, SETTINGS
from ledgerlink_notify.signing import HEADER, sign_request
from ledgerlink_notify.webhook_action import WEBHOOK

#: why the actions declare no undo (the conformance suite's cannot_undo)
NO_UNDO = "a notification once delivered cannot be taken back; a correction is a notification of its own"

#: Slack accepts about one message a second per incoming webhook; a mail server a few sessions at once
LIMITS = Limits(requests=60, per_seconds=60.0, concurrent=4)


def check_credentials(ctx: ActionContext) -> Generator[CheckMail, MailResult, Any]:
    """``ledgerlink connect NAME`` for a mail connection: its SMTP server answers EHLO,
    STARTTLS and AUTH with the configured username and password, then QUIT; nothing is sent.
    A webhook connection holds no credential the address does not: nothing to check."""
    if not ctx.connection.settings.get("host"):
        return None
    return (yield CheckMail())


@hookimpl
def ledgerlink_register_connectors(register):
    register(Connector(
        name="notify",
        summary="Notifications: email over SMTP (STARTTLS/TLS, AUTH) and JSON posted to a webhook "
                "(Slack's incoming-webhook body as an option), once per run.",
        settings_schema=SETTINGS,
        secret_settings=SECRET_SETTINGS,
        sign_request=sign_request,
        signed_headers=(HEADER,),
        limits=LIMITS,
        check_credentials=check_credentials,
    ))


@hookimpl
def ledgerlink_register_actions(register):
    register(EMAIL)
    register(WEBHOOK)
