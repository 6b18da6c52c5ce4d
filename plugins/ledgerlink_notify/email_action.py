"""``notify.email``: one plain-text email (with an optional HTML alternative) per run, over
the connection's SMTP server (:class:`ledgerlink.contract.SendMail`, sent by the host).

The message carries a ``Message-ID`` derived from the step's idempotency key: a run sent
again after a lost answer (the server hung up after the message was given) sends the same
id, which mail programs and archives recognise as one message. It is marked
``Auto-Submitted: auto-generated`` (RFC 3834), so out-of-office replies are not sent back.

An email cannot be taken back: the action declares no undo. The SMTP server keeps no list
of what it was sent, so there is nothing to look up before a resend (``find_existing``
answers "not known" and the resend carries the same Message-ID).
"""

from __future__ import annotations

import hashlib
from collections.abc import Generator, Mapping
from email.headerregistry import Address
from email.message import EmailMessage
from email.policy import SMTP
from email.utils import formatdate, getaddresses
from typing import Any

from ledgerlink.contract import Action, ActionContext, MailResult, SendMail
from ledgerlink.contract.problems import Problems, begin, text

NAME = "notify.email"
#: SMTP's line ending, lines up to RFC 5322's hard limit: a subject is never folded before its first word
POLICY = SMTP.clone(max_line_length=998)
#: the most recipients one step sends to
MAX_RECIPIENTS = 50
MAX_SUBJECT = 250
MAX_BODY = 200_000


def _string(description: str, limit: int) -> dict[str, Any]:
    return {"type": "string", "maxLength": limit, "description": description}


INPUT = {
    "type": "object",
    "required": ["subject", "text"],
    "additionalProperties": False,
    "properties": {
        "to": {"type": "array", "minItems": 1, "maxItems": MAX_RECIPIENTS,
               "items": {"type": "string", "description": "An address, e.g. \"Ops <ops@example.com>\"."},
               "description": f"The recipients (at most {MAX_RECIPIENTS}); default: the connection's to "
                              f"setting."},
        "subject": _string("The subject line (one line).", MAX_SUBJECT),
        "text": _string("The plain-text body.", MAX_BODY),
        "html": _string("An HTML alternative of the body, shown by mail programs that show HTML.", MAX_BODY),
        "from": _string("The sender; default: the connection's from setting.", 320),
        "reply_to": _string("Where replies go, when not to the sender.", 320),
    },
}

OUTPUT = {
    "type": "object",
    "required": ["message_id", "accepted"],
    "properties": {
        "message_id": {"type": "string", "description": "The Message-ID sent: the same on every attempt of the step."},
        "accepted": {"type": "array", "items": {"type": "string"},
                     "description": "The recipients the server accepted."},
        "refused": {"type": "object", "additionalProperties": {"type": "string"},
                    "description": "Recipients the server refused while accepting others, each with its reply."},
    },
}

SAMPLE = {
    "to": ["Bookkeeping <books@example.com>"],
    "subject": "ledgerlink: 3 runs of stripe-invoice-to-quickbooks failed",
    "text": "3 runs failed in the last 15 minutes.\nLast error: QuickBooks answered HTTP 503.\n",
    "from": "ledgerlink <alerts@example.com>",
}


def message_id(key: str, sender: Address) -> str:
    """The Message-ID of the step whose idempotency key is ``key``: the same on every attempt."""
    digest = hashlib.sha256(key.encode("utf-8")).hexdigest()[:32]
    return f"<{digest}.ledgerlink@{sender.domain or 'ledgerlink.invalid'}>"


def _addresses(value: object, where: str, what: str, problems: Problems) -> list[Address]:
    """The addresses in ``value`` (one string), each with a local part and a domain."""
    if not isinstance(value, str):
        problems.add(where, f"{what} must be a string, got {type(value).__name__}")
        return []
    if "\r" in value or "\n" in value:
        problems.add(where, f"{what} holds a line break; write one address on one line")
        return []
    found = []
    for name, addr in getaddresses([value]):
        local, at, domain = addr.rpartition("@")
        if not at or not local or not domain or " " in addr:
            problems.add(where, f"{what} {value!r} is not an address like \"Ops <ops@example.com>\"")
            return []
        found.append(Address(display_name=name, addr_spec=addr))
    if len(found) != 1:
        problems.add(where, f"{what} {value!r} must name one address")
        return []
    return found


def build(data: Mapping[str, Any], ctx: ActionContext) -> SendMail:
    """The message and its envelope; every input problem raised at once, before anything is sent."""
    problems = begin(NAME, "an email", data, INPUT["properties"])
    recipients: list[Address] = []
    to = data.get("to", ctx.connection.settings.get("to"))
    if to is None:
        problems.add("/to", "no recipients: set to in the input, or the connection's to setting")
    elif not isinstance(to, list) or not to:
        problems.add("/to", "to must be a list of one or more addresses")
    elif len(to) > MAX_RECIPIENTS:
        problems.add("/to", f"to names {len(to)} addresses; one step sends to at most {MAX_RECIPIENTS}")
    else:
        for index, each in enumerate(to):
            recipients += _addresses(each, f"/to/{index}", "the recipient", problems)
    sender_text = data.get("from", ctx.connection.settings.get("from"))
    senders: list[Address] = []
    if sender_text is None:
        problems.add("/from", "no sender: set from in the input, or the connection's from setting")
    else:
        senders = _addresses(sender_text, "/from", "the sender", problems)
    reply_to = _addresses(data["reply_to"], "/reply_to", "reply_to", problems) if "reply_to" in data else []
    subject = text(data.get("subject"), "/subject", "subject", MAX_SUBJECT, problems, keeper="a subject line")
    if subject is not None and ("\r" in subject or "\n" in subject):
        problems.add("/subject", "subject holds a line break; a subject is one line")
    body = text(data.get("text"), "/text", "text", MAX_BODY, problems, keeper="an email")
    html = text(data["html"], "/html", "html", MAX_BODY, problems, keeper="an email") if "html" in data else None
    problems.raise_if_any()
    sender = senders[0]
    message = EmailMessage(policy=POLICY)
    message["From"] = sender
    message["To"] = recipients
    if reply_to:
        message["Reply-To"] = reply_to[0]
    message["Subject"] = subject
    message["Date"] = formatdate(usegmt=True)
    message["Message-ID"] = message_id(ctx.idempotency_key, sender)
    message["Auto-Submitted"] = "auto-generated"
    message.set_content(body)
    if html is not None:
        message.add_alternative(html, subtype="html")
    return SendMail(sender=sender.addr_spec, recipients=tuple(r.addr_spec for r in recipients),
                    message=message.as_bytes(), key=ctx.idempotency_key)


def perform(data: Mapping[str, Any], ctx: ActionContext) -> Generator[SendMail, MailResult, dict[str, Any]]:
    """Send the email; the output names its Message-ID and who accepted it."""
    result: MailResult = yield build(data, ctx)
    output: dict[str, Any] = {"message_id": result.message_id, "accepted": list(result.accepted)}
    if result.refused:
        output["refused"] = dict(result.refused)
    return output


def find_existing(data: Mapping[str, Any], ctx: ActionContext) -> Generator[Any, Any, None]:
    """Nothing to look up: an SMTP server keeps no list of what it was sent. A resend carries
    the same Message-ID, which its readers' mail programs recognise."""
    build(data, ctx)  # an input that cannot be sent still fails here, not later
    return None
    yield  # a generator, like every find_existing


EMAIL = Action(
    name=NAME,
    summary="Sends one email over SMTP (STARTTLS or TLS, AUTH): plain text, optionally HTML, "
            "its Message-ID derived from the run so a resend is recognised.",
    input_schema=INPUT, output_schema=OUTPUT, sample=SAMPLE,
    sample_response={"message_id": "<sample.ledgerlink@example.com>", "accepted": ["books@example.com"]},
    perform=perform, find_existing=find_existing, undo=None,
)
