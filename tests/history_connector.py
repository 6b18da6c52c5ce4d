"""``tally``: a small invoicing vendor for the host's tests of occurrences and backfill.

:class:`Tally` is its API on loopback (a WSGI app served with the kit's ``running``):
invoices listed a page at a time (``GET /invoices``), an invoice's fee (``GET
/invoices/ID/fee``, what enrichment reads), notes (``POST /notes``, what the action
writes), a bearer key, and scripted faults (the next N requests to a path answered 429 or
401). :class:`TallyPlugin` registers the connector:

- ``tally.invoice.sent``: one event per invoice (``occurrence_path`` ``$.data.object.id``),
  history listed from ``/invoices``, nothing fetched;
- ``tally.invoice.paid``: the same, and each event is fetched (enriched with the invoice's
  ``fee``) on a connection with a ``base_url``;
- ``tally.customer.updated``: every event its own, and no history;
- ``tally.add_note``: ``POST /notes`` with the invoice id and a text;
- a poll of its event log (``GET /events?after=N``), for hosts without webhooks.

Webhooks carry a shared token in ``X-Tally-Token``; a backfilled event's id is
``"<type>:<invoice id>"``, a delivered one's is the vendor's.
"""

from __future__ import annotations

import threading
from collections.abc import Generator, Mapping
from typing import Any
from urllib.parse import parse_qs

from ledgerlink import hookimpl, jsonio
from ledgerlink.contract import (Action, ActionContext, Connector, IncomingEvent, Page, Poll, Request,
                                 Response, Trigger, Webhook)
from ledgerlink.errors import EventError, SignatureError, VendorError
from ledgerlink.testing.sandbox import Reply

PAGE_SIZE = 2
KEY = "tally_key_5ecret"
WEBHOOK_TOKEN = "tally-webhook-token"


class TallyState:
    """The vendor's invoices, the notes written, every request seen and scripted faults."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        #: oldest first: {id, created, amount, status}
        self.invoices: list[dict[str, Any]] = []
        self.fees: dict[str, int] = {}
        self.notes: list[dict[str, Any]] = []
        #: the event log a poll reads, oldest first (each as a webhook would deliver it)
        self.events: list[dict[str, Any]] = []
        self.requests: list[str] = []
        #: path prefix -> [(status, headers), ...]: the next requests to it get these answers
        #: instead of their own (status 0: its own)
        self.faults: dict[str, list[tuple[int, dict[str, str]]]] = {}
        self.key = KEY
        #: (path prefix, n): a request to it after the first n waits for ``release``
        self.hold: tuple[str, int] | None = None
        self.held = threading.Event()
        self.release = threading.Event()
        self._seen: dict[str, int] = {}

    def add(self, invoice_id: str, created: int, amount: int, fee: int | None = None) -> dict[str, Any]:
        invoice = {"id": invoice_id, "object": "invoice", "created": created, "amount": amount, "status": "paid"}
        self.invoices.append(invoice)
        self.invoices.sort(key=lambda i: (i["created"], i["id"]))
        if fee is not None:
            self.fees[invoice_id] = fee
        return invoice


class Tally:
    """The WSGI app (``app.sandbox`` is its state)."""

    def __init__(self) -> None:
        self.sandbox = TallyState()

    def __call__(self, environ: dict, start_response: Any) -> list[bytes]:
        reply = self.answer(environ)
        start_response(f"{reply.status} X", [("Content-Type", reply.content_type), *reply.headers.items()])
        return [reply.body]

    def answer(self, environ: dict) -> Reply:
        state = self.sandbox
        path = environ["PATH_INFO"]
        query = {k: v[-1] for k, v in parse_qs(environ.get("QUERY_STRING", "")).items()}
        if state.hold is not None and path.startswith(state.hold[0]):
            with state.lock:
                state._seen[path] = state._seen.get(path, 0) + 1
                waits = state._seen[path] > state.hold[1]
            if waits:  # held open, as a slow vendor would, while the test kills its client
                state.held.set()
                state.release.wait(60)
        with state.lock:
            state.requests.append(f"{environ['REQUEST_METHOD']} {path}")
            for prefix, faults in state.faults.items():
                if path.startswith(prefix) and faults:
                    status, headers = faults.pop(0)
                    if status:  # 0: this one is answered as usual
                        return Reply.json(status, {"error": f"scripted {status}"}, headers)
            if environ.get("HTTP_AUTHORIZATION") != f"Bearer {state.key}":
                return Reply.json(401, {"error": "invalid key"})
            if path == "/invoices":
                since, until = int(query["created_gte"]), int(query["created_lt"])
                listed = [i for i in state.invoices if since <= i["created"] < until]
                after = query.get("starting_after")
                if after:
                    listed = listed[[i["id"] for i in listed].index(after) + 1:]
                size = int(query.get("limit", PAGE_SIZE))
                return Reply.json(200, {"data": listed[:size], "has_more": len(listed) > size})
            if path.startswith("/invoices/") and path.endswith("/fee"):
                invoice_id = path.split("/")[2]
                if invoice_id not in state.fees:
                    return Reply.json(404, {"error": "no such invoice"})
                return Reply.json(200, {"fee": state.fees[invoice_id]})
            if path == "/events":
                after = int(query.get("after", "0"))
                return Reply.json(200, {"data": state.events[after:], "next": len(state.events)})
            if path == "/notes" and environ["REQUEST_METHOD"] == "POST":
                body = jsonio.loads(environ["wsgi.input"].read(int(environ.get("CONTENT_LENGTH") or 0)))
                state.notes.append(body)
                return Reply.json(200, {"id": f"note_{len(state.notes)}"})
        return Reply.json(404, {"error": f"no route {path}"})


def _checked(response: Response) -> Any:
    """The answer's JSON, or the VendorError a connector raises for it."""
    if response.status == 401:
        raise VendorError("tally refused the key", kind="reauth", status=401)
    if response.status == 429 or response.status >= 500:
        retry = response.headers.get("Retry-After")
        raise VendorError(f"tally answered {response.status}", kind="retry", status=response.status,
                          retry_after=float(retry) if retry else None)
    if response.status >= 400:
        raise VendorError(f"tally answered {response.status}: {response.json}", status=response.status)
    return response.json


def _history(kind: str) -> Any:
    trigger = f"tally.invoice.{kind}"

    def history(since: float, until: float, cursor: str | None,
                ctx: ActionContext) -> Generator[Request, Response, Page]:
        params = {"created_gte": str(int(since)), "created_lt": str(int(until)), "limit": str(PAGE_SIZE)}
        if cursor:
            params["starting_after"] = cursor
        listed = _checked((yield Request("GET", f"{ctx.connection.settings['base_url']}/invoices", params=params)))
        events = [IncomingEvent(f"invoice.{kind}:{invoice['id']}", trigger,
                                {"id": f"invoice.{kind}:{invoice['id']}", "type": f"invoice.{kind}",
                                 "created": invoice["created"], "data": {"object": invoice}})
                  for invoice in listed["data"]]
        last = listed["data"][-1]["created"] if listed["data"] else until
        return Page(events, listed["data"][-1]["id"] if listed["has_more"] else None,
                    progress=min(1.0, (last - since) / (until - since)))

    return history


def fetch_fee(payload: Mapping[str, Any], ctx: ActionContext) -> Generator[Request, Response, Any]:
    invoice_id = payload["data"]["object"]["id"]
    answer = yield Request("GET", f"{ctx.connection.settings['base_url']}/invoices/{invoice_id}/fee")
    if answer.status == 404:
        return None
    return {**payload, "fee": _checked(answer)["fee"]}


def add_note(value: Mapping[str, Any], ctx: ActionContext) -> Generator[Request, Response, Any]:
    answer = yield Request("POST", f"{ctx.connection.settings['base_url']}/notes",
                           json={"invoice": value["invoice"], "text": value["text"]})
    return _checked(answer)


def poll(cursor: str | None, ctx: ActionContext) -> Generator[Request, Response, Any]:
    listed = _checked((yield Request("GET", f"{ctx.connection.settings['base_url']}/events",
                                     params={"after": cursor or "0"})))
    return ([IncomingEvent(e["id"], f"tally.{e['type']}", e) for e in listed["data"]], str(listed["next"]))


def verify(headers: Mapping[str, str], body: bytes, secrets: Mapping[str, Any], now: float) -> None:
    if headers.get("X-Tally-Token") != secrets.get("webhook_token"):
        raise SignatureError("the X-Tally-Token header does not match")


def parse(headers: Mapping[str, str], body: bytes) -> list[IncomingEvent]:
    try:
        payload = jsonio.loads(body)
    except jsonio.JSONDecodeError as exc:
        raise EventError(f"not JSON: {exc}") from None
    return [IncomingEvent(payload["id"], f"tally.{payload['type']}", payload, raw=body.decode())]


SCHEMA = {"type": "object", "properties": {"id": {"type": "string"}, "type": {"type": "string"},
                                           "data": {"type": "object"}}}


def sample(kind: str) -> dict[str, Any]:
    return {"id": "evt_sample", "type": kind, "created": 1_700_000_000,
            "data": {"object": {"id": "inv_sample", "object": "invoice", "created": 1_700_000_000,
                                "amount": 1250, "status": "paid"}}}


class TallyPlugin:
    """The plugin: the connector, its three triggers and its action."""

    @hookimpl
    def ledgerlink_register_connectors(self, register):
        register(Connector(
            name="tally", summary="Tally invoicing (tests)",
            settings_schema={"type": "object", "properties": {
                "base_url": {"type": "string"}, "api_key": {"type": "string"},
                "webhook_token": {"type": "string"}}},
            secret_settings=("api_key", "webhook_token"),
            auth=lambda secrets: {"Authorization": f"Bearer {secrets.get('api_key', '')}"},
            webhook=Webhook(verify=verify, parse=parse), poll=Poll(summary="the event log", poll=poll)))

    @hookimpl
    def ledgerlink_register_triggers(self, register):
        register(Trigger(name="tally.invoice.sent", summary="An invoice was sent", event_schema=SCHEMA,
                         sample=sample("invoice.sent"), source_id_path="$.data.object.id",
                         occurrence_path="$.data.object.id", history=_history("sent")))
        register(Trigger(name="tally.invoice.paid", summary="An invoice was paid (with its fee)",
                         event_schema=SCHEMA, sample=sample("invoice.paid"), source_id_path="$.data.object.id",
                         occurrence_path="$.data.object.id", history=_history("paid"), fetch=fetch_fee,
                         fetch_for=lambda connection: bool(connection.settings.get("base_url"))))
        register(Trigger(name="tally.customer.updated", summary="A customer was updated", event_schema=SCHEMA,
                         sample=sample("customer.updated")))

    @hookimpl
    def ledgerlink_register_actions(self, register):
        schema = {"type": "object", "required": ["invoice", "text"], "additionalProperties": False,
                  "properties": {"invoice": {"type": "string"}, "text": {"type": "string"}}}
        register(Action(name="tally.add_note", summary="Adds a note to an invoice", input_schema=schema,
                        output_schema={"type": "object"}, sample={"invoice": "inv_1", "text": "paid"},
                        perform=add_note, sample_response={"id": "note_1"}))


#: the plugin, for an entry point (a ``ledgerlink`` process started by a test loads it so)
PLUGIN = TallyPlugin()


def plugins():
    """A plugin manager: the installed plugins and tally."""
    from ledgerlink.connectors.manager import build_plugin_manager

    return build_plugin_manager(extra=[("tally", TallyPlugin())])


def catalog():
    from ledgerlink.connectors.manager import load_catalog

    return load_catalog(plugins())


def recipe(recipe_id: str = "sent-notes", trigger: str = "tally.invoice.sent", version: int = 1,
           min_amount: int | None = None) -> dict[str, Any]:
    """A recipe: each invoice gets a note naming its amount (and fee, when enriched)."""
    raw: dict[str, Any] = {
        "id": recipe_id, "version": version, "description": "A note on each invoice.",
        "trigger": {"event": trigger, "connection": "tally"},
        "steps": [{"id": "note", "action": "tally.add_note", "connection": "tally",
                   "input": {"invoice": {"$path": "$.event.data.object.id"},
                             "text": {"$concat": ["amount ", {"$path": "$.event.data.object.amount", "$as": "string"}]}}}],
    }
    if min_amount is not None:
        raw["trigger"]["filter"] = {"path": "$.event.data.object.amount", "gte": min_amount}
    return raw


def config_text(base_url: str) -> str:
    return (f'[connections.tally]\nconnector = "tally"\nbase_url = "{base_url}"\napi_key = "${{LL_TALLY_KEY}}"\n'
            'webhook_token = "${LL_TALLY_TOKEN}"\n')
