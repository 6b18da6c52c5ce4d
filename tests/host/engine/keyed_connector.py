"""``keyed``: a small connector on an API key (no OAuth), and the loopback API it talks to.

Used by the tests of fetches and polls on a key connection. Its notifications carry a
thing's id only (the trigger ``keyed.thing.changed`` fetches the thing); its poll lists
changes after a cursor and returns the API's ``warnings`` beside them; its key check reads
``/me``. :class:`KeyedApi` answers 401 to any key but the one it currently accepts, as a
vendor does once a key is rolled.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Generator, Mapping
from typing import Any
from urllib.parse import parse_qs

from ledgerlink import hookimpl
from ledgerlink.contract import (Action, ActionContext, Connector, IncomingEvent, Poll, Request, Response,
                                 Trigger, Webhook)
from ledgerlink.errors import EventError, SignatureError, VendorError

#: the event as fetched: closed at the top, so a recipe can only read what is listed here
EVENT_SCHEMA = {
    "type": "object", "additionalProperties": False, "required": ["id", "type", "thing"],
    "properties": {
        "id": {"type": "string"}, "type": {"type": "string"},
        "thing": {"type": "object", "required": ["id"],
                  "properties": {"id": {"type": "string"}, "amount": {"type": "integer"}}},
    },
}
SAMPLE = {"id": "ch_1", "type": "thing.changed", "thing": {"id": "th_1", "amount": 500}}
RECORD_INPUT = {"type": "object", "required": ["thing"], "additionalProperties": False,
                "properties": {"thing": {"type": "string"}, "amount": {"type": "integer"}}}


def _answer(response: Response, what: str) -> Any:
    if response.status == 401:
        raise VendorError(f"{what}: the API key was refused (HTTP 401)", kind="reauth", status=401)
    if response.status >= 500:
        raise VendorError(f"{what}: HTTP {response.status}", kind="retry", status=response.status)
    if response.status >= 400:
        raise VendorError(f"{what}: HTTP {response.status}", kind="permanent", status=response.status)
    return response.json


def fetch(payload: Mapping[str, Any], ctx: ActionContext) -> Generator[Request, Response, dict[str, Any]]:
    base = ctx.connection.settings["api_base"]
    thing = _answer((yield Request("GET", f"{base}/things/{payload['thing']['id']}")), "reading the thing")
    return {"id": payload["id"], "type": payload["type"], "thing": thing}


def poll(cursor: str | None, ctx: ActionContext) -> Generator[Request, Response, tuple[Any, ...]]:
    base = ctx.connection.settings["api_base"]
    page = _answer((yield Request("GET", f"{base}/changes", params={"after": cursor or "0"})), "listing changes")
    events = [IncomingEvent(c["id"], "keyed.thing.changed", {"id": c["id"], "type": "thing.changed",
                                                             "thing": c["thing"]}) for c in page["changes"]]
    if "warnings" in page:
        return events, page["cursor"], page["warnings"]
    return events, page["cursor"]


def check_credentials(ctx: ActionContext) -> Generator[Request, Response, Any]:
    return _answer((yield Request("GET", f"{ctx.connection.settings['api_base']}/me")), "checking the key")


def record(value: Mapping[str, Any], ctx: ActionContext) -> Generator[Request, Response, dict[str, Any]]:
    base = ctx.connection.settings["api_base"]
    answer = _answer((yield Request("POST", f"{base}/records", json=dict(value))), "recording the thing")
    return {"id": answer["id"]}


def _verify(headers: Mapping[str, str], body: bytes, secrets: Mapping[str, Any], now: float) -> None:
    if headers.get("x-keyed-token") != secrets.get("webhook_token"):
        raise SignatureError("the X-Keyed-Token header does not match the connection's webhook_token")


def _parse(headers: Mapping[str, str], body: bytes) -> list[IncomingEvent]:
    try:
        data = json.loads(body)
        return [IncomingEvent(data["id"], "keyed.thing.changed", data)]
    except (ValueError, KeyError, TypeError) as exc:
        raise EventError(f"not a keyed notification: {exc}") from None


class Keyed:
    """The plugin: one connector, its trigger and one action."""

    @hookimpl
    def ledgerlink_register_connectors(self, register):
        register(Connector(
            name="keyed", summary="An API on a key (tests)",
            settings_schema={"type": "object", "required": ["api_base"],
                             "properties": {"api_base": {"type": "string"}, "api_key": {"type": "string"},
                                            "webhook_token": {"type": "string"}}},
            secret_settings=("api_key", "webhook_token"),
            auth=lambda secrets: {"Authorization": f"Bearer {secrets.get('api_key', '')}"},
            webhook=Webhook(verify=_verify, parse=_parse),
            poll=Poll(summary="changes after the cursor", poll=poll, min_seconds=0.01),
            check_credentials=check_credentials))

    @hookimpl
    def ledgerlink_register_triggers(self, register):
        register(Trigger(name="keyed.thing.changed", summary="A thing changed (fetched by id)",
                         event_schema=EVENT_SCHEMA, sample=SAMPLE, source_id_path="$.thing.id", fetch=fetch))

    @hookimpl
    def ledgerlink_register_actions(self, register):
        register(Action(name="keyed.record", summary="Records a thing", input_schema=RECORD_INPUT,
                        output_schema={"type": "object"}, sample={"thing": "th_1"}, perform=record,
                        sample_response={"id": "rec_1"}, idempotency="none"))


def catalog():
    """The built-in connectors plus keyed."""
    from ledgerlink.connectors.manager import build_plugin_manager, load_catalog

    return load_catalog(build_plugin_manager(extra=[("keyed", Keyed())]))


RECIPE = {
    "id": "keyed-things-recorded", "version": 1, "description": "Every changed thing is recorded.",
    "trigger": {"event": "keyed.thing.changed", "connection": "keyed"},
    "steps": [{"id": "record", "action": "keyed.record", "connection": "keyed",
               "input": {"thing": {"$path": "$.event.thing.id"}, "amount": {"$path": "$.event.thing.amount"}}}],
}


class KeyedApi:
    """The vendor's API as a WSGI app: things, changes after a cursor (with warnings when
    set), records, and ``/me``; every request needs ``Authorization: Bearer <key>``."""

    def __init__(self, key: str) -> None:
        self.key = key
        self.things: dict[str, dict[str, Any]] = {}
        self.changes: list[dict[str, Any]] = []
        #: the warnings the next listings of changes carry (none: the field is left out)
        self.warnings: list[str] | None = None
        self.records: list[dict[str, Any]] = []
        #: when set, the status every listing of changes is answered with (a 500: the API is down)
        self.changes_status: int | None = None
        #: (method, path, whether the key was accepted), in order
        self.log: list[tuple[str, str, bool]] = []
        self._lock = threading.Lock()

    def __call__(self, environ: dict[str, Any], start_response: Any) -> list[bytes]:
        method, path = environ["REQUEST_METHOD"], environ.get("PATH_INFO", "")
        accepted = environ.get("HTTP_AUTHORIZATION") == f"Bearer {self.key}"
        with self._lock:
            self.log.append((method, path, accepted))
            status, body = (401, {"error": "invalid api key"}) if not accepted else self._route(environ, method, path)
        data = json.dumps(body).encode()
        start_response(f"{status} {'OK' if status < 400 else 'Error'}",
                       [("Content-Type", "application/json"), ("Content-Length", str(len(data)))])
        return [data]

    def _route(self, environ: dict[str, Any], method: str, path: str) -> tuple[int, Any]:
        if method == "GET" and path == "/me":
            return 200, {"account": "acct_1"}
        if method == "GET" and path.startswith("/things/"):
            thing = self.things.get(path.removeprefix("/things/"))
            return (200, thing) if thing is not None else (404, {"error": "no such thing"})
        if method == "GET" and path == "/changes" and self.changes_status is not None:
            return self.changes_status, {"error": "the API is down"}
        if method == "GET" and path == "/changes":
            after = int(parse_qs(environ.get("QUERY_STRING", "")).get("after", ["0"])[0])
            page: dict[str, Any] = {"changes": self.changes[after:], "cursor": str(len(self.changes))}
            if self.warnings is not None:
                page["warnings"] = self.warnings
            return 200, page
        if method == "POST" and path == "/records":
            length = int(environ.get("CONTENT_LENGTH") or 0)
            self.records.append(json.loads(environ["wsgi.input"].read(length)))
            return 200, {"id": f"rec_{len(self.records)}"}
        return 404, {"error": f"no route {method} {path}"}

    def refused(self) -> int:
        """How many requests were answered 401."""
        return sum(1 for _, _, ok in self.log if not ok)
