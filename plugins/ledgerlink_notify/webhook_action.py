"""``notify.webhook``: the mapped body posted as JSON to the connection's address, once per run.

``format: "json"`` (the default) posts ``body`` as it is. ``format: "slack"`` posts what a
Slack incoming webhook reads (Slack's "Sending messages using incoming webhooks"): ``text``
(the notification's words, and what is shown where blocks are not) and ``blocks``, a header-
less section of ``text`` in mrkdwn plus one section of ``details`` as fields (at most 10,
Slack's limit for a section's fields).

The request carries the step's idempotency key as ``Idempotency-Key``, so a receiver can
recognise a resend after a lost answer, and, when the connection has a ``signing_secret``,
``X-Ledgerlink-Signature`` (:mod:`ledgerlink_notify.signing`). A 2xx answer is success; a
429 or 5xx is tried again (after ``Retry-After`` if given); any other answer fails the run
with what the receiver said.

A notification cannot be taken back: no undo; the receiver keeps nothing ledgerlink can look
up, so the resend carries the same key and body.
"""

from __future__ import annotations

from collections.abc import Generator, Mapping
from typing import Any

from ledgerlink.contract import Action, ActionContext, Request, Response
from ledgerlink.contract.http import classify
from ledgerlink.contract.problems import Problems, begin, text
from ledgerlink.errors import VendorError

NAME = "notify.webhook"
#: the secret setting used as the address when ``url`` is not set
SECRET_URL = "secret_url"
#: Slack's limits: the text of a section, and the fields of one section
SLACK_TEXT = 3000
SLACK_FIELDS = 10
SLACK_FIELD_TEXT = 2000
VENDOR = "the webhook receiver"

INPUT = {
    "type": "object",
    "additionalProperties": False,
    "properties": {
        "format": {"enum": ["json", "slack"],
                   "description": "json (default): body is posted as it is; slack: text and details become "
                                  "Slack's incoming-webhook body {text, blocks}."},
        "body": {"type": "object", "description": "format json: the JSON object posted."},
        "text": {"type": "string", "maxLength": SLACK_TEXT,
                 "description": "format slack: the message, in Slack's mrkdwn."},
        "details": {"type": "object", "maxProperties": SLACK_FIELDS,
                    "additionalProperties": {"type": ["string", "number", "boolean", "null"]},
                    "description": f"format slack: labelled values shown as fields (at most {SLACK_FIELDS})."},
    },
}

OUTPUT = {
    "type": "object",
    "required": ["status"],
    "properties": {
        "status": {"type": "integer", "description": "The receiver's HTTP status (2xx)."},
        "answer": {"type": "string", "description": "The start of the receiver's answer."},
    },
}

SAMPLE = {
    "format": "slack",
    "text": ":rotating_light: *3 runs of stripe-invoice-to-quickbooks failed* in the last 15 minutes",
    "details": {"Last error": "QuickBooks answered HTTP 503", "Runs": 3},
}


def slack_body(message: str, details: Mapping[str, Any]) -> dict[str, Any]:
    """Slack's incoming-webhook body: ``text`` and ``blocks`` showing it and ``details``."""
    blocks: list[dict[str, Any]] = [{"type": "section", "text": {"type": "mrkdwn", "text": message}}]
    if details:
        blocks.append({"type": "section", "fields": [
            {"type": "mrkdwn", "text": f"*{label}*\n{'' if value is None else value}"[:SLACK_FIELD_TEXT]}
            for label, value in details.items()]})
    return {"text": message, "blocks": blocks}


def body_of(data: Mapping[str, Any]) -> dict[str, Any]:
    """The JSON posted; every input problem raised at once."""
    problems = begin(NAME, "a webhook notification", data, INPUT["properties"])
    form = data.get("format", "json")
    if form == "slack":
        message = text(data.get("text"), "/text", "text", SLACK_TEXT, problems, keeper="Slack")
        details = data.get("details", {})
        _details(details, problems)
        if "body" in data:
            problems.add("/body", "format slack posts text and details; move body's values into them")
        problems.raise_if_any()
        return slack_body(message or "", details)
    if form != "json":
        problems.add("/format", f"format is {form!r}; use json or slack")
    body = data.get("body")
    if not isinstance(body, Mapping):
        problems.add("/body", "format json posts body: set it to a JSON object")
    for key in ("text", "details"):
        if key in data:
            problems.add(f"/{key}", f"{key} is read by format slack; put it in body for format json")
    problems.raise_if_any()
    return dict(body)


def _details(details: object, problems: Problems) -> None:
    if not isinstance(details, Mapping):
        problems.add("/details", "details must be an object of labels and values")
    elif len(details) > SLACK_FIELDS:
        problems.add("/details", f"details has {len(details)} entries; Slack shows at most {SLACK_FIELDS}")


def request_for(data: Mapping[str, Any], ctx: ActionContext) -> Request:
    """The POST: to ``url`` when the connection sets it, else to the secret ``secret_url``."""
    body = body_of(data)
    url = ctx.connection.settings.get("url")
    headers = {"Idempotency-Key": ctx.idempotency_key}
    if url:
        return Request("POST", str(url), headers=headers, json=body)
    return Request("POST", "https://secret-address.invalid/", headers=headers, json=body, url_secret=SECRET_URL)


def notify_classify(response: Response) -> VendorError | None:
    """2xx: success; 429 and 5xx: retry (classify's reading of Retry-After); anything else
    (a redirect, 4xx, 401 included: a receiver's refusal is no token to refresh): fail."""
    if 200 <= response.status < 300:
        return None
    if response.status == 429 or response.status >= 500:
        return classify(response, vendor=VENDOR)
    detail = (response.text or "").strip()[:300] or "no body"
    return VendorError(f"{VENDOR} refused the notification (HTTP {response.status}): {detail}; check the "
                       f"connection's address and the receiver's settings", status=response.status)


def perform(data: Mapping[str, Any], ctx: ActionContext) -> Generator[Request, Response, dict[str, Any]]:
    """Post the body; fail or retry as the receiver's status says."""
    response = yield request_for(data, ctx)
    error = notify_classify(response)
    if error is not None:
        raise error
    return {"status": response.status, "answer": (response.text or "")[:300]}


def find_existing(data: Mapping[str, Any], ctx: ActionContext) -> Generator[Request, Response, None]:
    """Nothing to look up: a receiver keeps nothing ledgerlink can read back. A resend
    carries the same Idempotency-Key, which a receiver may recognise."""
    body_of(data)
    return None
    yield  # a generator, like every find_existing


WEBHOOK = Action(
    name=NAME,
    summary="Posts a JSON body (or Slack's incoming-webhook body) to an address, signed when a "
            "signing secret is set; 2xx ok, 429/5xx tried again, other answers fail.",
    input_schema=INPUT, output_schema=OUTPUT, sample=SAMPLE, sample_response=None,
    perform=perform, find_existing=find_existing, undo=None,
)
