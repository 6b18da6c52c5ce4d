"""The notify connector passes the conformance suite. Its "vendors" are a mail server, which
takes an RFC 5322 message whose header fields are whole, and Slack's incoming webhook, which
takes ``{text, blocks}`` as its Block Kit reference describes."""

from __future__ import annotations

from collections.abc import Callable
from email import message_from_bytes
from email.policy import strict

import jsonschema
import pytest

import ledgerlink_notify
from ledgerlink.contract import Request, SendMail
from ledgerlink.testing import ConnectorConformance

#: Slack's incoming-webhook body as notify.webhook uses it (Block Kit: section blocks with mrkdwn
#: text or at most 10 fields, each text at most 3000 characters)
TEXT = {"type": "object", "required": ["type", "text"], "additionalProperties": False,
        "properties": {"type": {"enum": ["mrkdwn", "plain_text"]}, "text": {"type": "string", "maxLength": 3000}}}
SLACK_BODY = {
    "type": "object", "required": ["text"],
    "properties": {
        "text": {"type": "string", "minLength": 1},
        "blocks": {"type": "array", "maxItems": 50, "items": {
            "type": "object", "required": ["type"], "additionalProperties": False,
            "properties": {"type": {"const": "section"}, "text": TEXT,
                           "fields": {"type": "array", "maxItems": 10, "items": TEXT}}}},
    },
}
REQUIRED_HEADERS = ("From", "To", "Subject", "Date", "Message-ID")


def problems(request: object) -> list[str]:
    if isinstance(request, SendMail):
        message = message_from_bytes(request.message, policy=strict)
        found = [f"no {name} header" for name in REQUIRED_HEADERS if message[name] is None]
        found += [f"{name}: {defect}" for name, value in message.items() for defect in value.defects]
        found += ["a line longer than 998 octets" for line in request.message.split(b"\r\n") if len(line) > 998]
        return found + ([] if request.recipients else ["no recipient"])
    if isinstance(request, Request) and request.method == "POST":
        return [e.message for e in jsonschema.Draft202012Validator(SLACK_BODY).iter_errors(request.json)]
    return [f"not what notify sends: {request!r}"]


@pytest.fixture(scope="session")
def request_schema() -> Callable[[object], list[str]]:
    return problems


class TestNotifyConformance(ConnectorConformance):
    connector = "notify"
    cannot_undo = {"notify.email": ledgerlink_notify.NO_UNDO, "notify.webhook": ledgerlink_notify.NO_UNDO}
