"""``filedrop``: a small connector whose actions write files through the host's file effects.

Used by the file-effect tests, in this process and in a worker process that is killed.
``filedrop.append_line`` appends one line to a file of the connection's ``folder``, then,
when the connection sets ``notify_url``, tells that URL (a second request of the same step:
the place where a crash falls after the write and before the step is acknowledged).
"""

from __future__ import annotations

from collections.abc import Generator, Mapping
from typing import Any

from ledgerlink import hookimpl
from ledgerlink.contract import (Action, ActionContext, AppendFile, Connector, FileResult, Request,
                                 Response, WriteFile)
from ledgerlink.errors import VendorError

LINE_INPUT = {"type": "object", "required": ["path", "line"], "additionalProperties": False,
              "properties": {"path": {"type": "string"}, "line": {"type": "string"},
                             "encoding": {"type": "string"}}}
OUTPUT = {"type": "object", "properties": {"path": {"type": "string"}, "bytes": {"type": "integer"},
                                           "status": {"type": "string"}}}


def append_line(value: Mapping[str, Any], ctx: ActionContext) -> Generator[Any, Any, dict[str, Any]]:
    result: FileResult = yield AppendFile(value["path"], value["line"] + "\n", ctx.idempotency_key,
                                          encoding=value.get("encoding", "utf-8"))
    notify = ctx.connection.settings.get("notify_url")
    if notify:
        answer: Response = yield Request("POST", notify, json={"path": result.path, "event": ctx.event_id})
        if answer.status != 200:
            raise VendorError(f"notify answered {answer.status}", kind="retry")
    return {"path": result.path, "bytes": result.bytes_written, "status": result.status}


def write_file(value: Mapping[str, Any], ctx: ActionContext) -> Generator[Any, Any, dict[str, Any]]:
    result: FileResult = yield WriteFile(value["path"], value["line"], ctx.idempotency_key,
                                         encoding=value.get("encoding", "utf-8"))
    return {"path": result.path, "bytes": result.bytes_written, "status": result.status}


class FileDrop:
    """The plugin: one connector, two actions."""

    @hookimpl
    def ledgerlink_register_connectors(self, register):
        register(Connector(
            name="filedrop", summary="Files in a folder (tests)",
            settings_schema={"type": "object", "required": ["folder"],
                             "properties": {"folder": {"type": "string"}, "notify_url": {"type": "string"},
                                            "api_key": {"type": "string"}}},
            secret_settings=("api_key",)))

    @hookimpl
    def ledgerlink_register_actions(self, register):
        sample = {"path": "ledger.csv", "line": "evt_1,10.00"}
        register(Action(name="filedrop.append_line", summary="Appends one line to a file",
                        input_schema=LINE_INPUT, output_schema=OUTPUT, sample=sample, perform=append_line))
        register(Action(name="filedrop.write_file", summary="Replaces a whole file",
                        input_schema=LINE_INPUT, output_schema=OUTPUT, sample=sample, perform=write_file))


def catalog():
    """The built-in connectors plus filedrop."""
    from ledgerlink.connectors.manager import build_plugin_manager, load_catalog

    return load_catalog(build_plugin_manager(extra=[("filedrop", FileDrop())]))


def recipe(action: str = "filedrop.append_line", path: Any = "books/ledger.csv") -> dict[str, Any]:
    """A recipe: a paid Stripe invoice appends ``event id,amount`` to ``path``."""
    return {
        "id": "invoice-paid-to-file", "version": 1, "description": "Paid invoices, one line each.",
        "trigger": {"event": "stripe.invoice.paid", "connection": "stripe"},
        "steps": [{"id": "line", "action": action, "connection": "files",
                   "input": {"path": path,
                             "line": {"$concat": [{"$path": "$.event.id"}, ",",
                                                  {"$path": "$.event.data.object.amount_paid", "$as": "string"}]}}}],
    }
