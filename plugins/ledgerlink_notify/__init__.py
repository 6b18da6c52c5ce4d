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
from ledgerlink.contract import Connector, Limits
from ledgerlink_notify.email_action import EMAIL
from ledgerlink_notify.settings import SECRET_SETTINGS, SETTINGS
from ledgerlink_notify.signing import HEADER, sign_request
from ledgerlink_notify.webhook_action import WEBHOOK

#: why the actions declare no undo (the conformance suite's cannot_undo)
NO_UNDO = "a notification once delivered cannot be taken back; a correction is a notification of its own"

#: Slack accepts about one message a second per incoming webhook; a mail server a few sessions at once
LIMITS = Limits(requests=60, per_seconds=60.0, concurrent=4)


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
    ))


@hookimpl
def ledgerlink_register_actions(register):
    register(EMAIL)
    register(WEBHOOK)
