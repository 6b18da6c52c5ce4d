"""Views of the server itself: the catalog, health, metrics and the API description."""

from __future__ import annotations

import sqlalchemy as sa
from flask import Response as FlaskResponse, current_app

from ledgerlink import __version__
from ledgerlink.engine.runtime import Runtime
from ledgerlink.web.auth import bearer_is
from ledgerlink.web.connections import connection_rows
from ledgerlink.web.metrics import render
from ledgerlink.web.openapi import openapi_document
from ledgerlink.web.responses import error, json_response, runtime
from ledgerlink.web.routes import ApiBlueprint, mounted

api = ApiBlueprint("system", __name__, operation_prefix="")


@api.operation("/api/connectors", ("GET",), "The catalog: connectors, triggers, actions, transforms with schemas.",
               responses={200: "the catalog"})
def connectors() -> FlaskResponse:
    return json_response(runtime().catalog.as_json())


@api.operation("/healthz", ("GET",), "Up or down: whether the store takes a write; the details with the admin token.",
               admin=False, responses={200: "up (with the admin token: version, store, runs, recipes and warnings)",
                                       503: "down: the store cannot take a write (with the admin token: why)"})
def healthz() -> FlaskResponse:
    rt = runtime()
    health = rt.store.health()
    if not bearer_is("LEDGERLINK_ADMIN_TOKEN"):  # anyone may ask; only up or down is said
        if not health.writable:
            return error(503, "unhealthy", "down: the store cannot take a write")
        return json_response({"status": "ok"})
    store = {"writable": health.writable, "error": health.error, "since": health.since}
    if not health.writable:
        return error(503, "unhealthy", f"down: the store cannot take a write: {health.error}",
                     {"version": __version__, "store": store})
    try:
        counts: dict[str, int] | None = rt.store.counts()
    except sa.exc.DBAPIError:
        counts = None
    idle = rt.registry.idle_reason()
    warnings = ([idle] if idle else []) + connection_warnings(rt)
    return json_response({"status": "ok", "version": __version__, "store": store, "runs": counts,
                          "recipes": len(rt.registry.active()), "warnings": warnings})


def connection_warnings(rt: Runtime) -> list[str]:
    """One line per connection whose credentials were refused, saying what to do, and one
    per warning or error of a connection's poll."""
    try:
        rows = connection_rows(rt)
    except sa.exc.DBAPIError:
        return []
    advice = {"needs_reauth": "connect it again (`ledgerlink connect {name}`)",
              "needs_new_key": "replace its key in the environment, then run `ledgerlink connect {name}`"}
    lines = []
    for row in rows:
        if row["status"] in advice:
            waiting = f", {row['paused_fetches']} notification(s) waiting" if row["paused_fetches"] else ""
            lines.append(f"connection {row['name']!r} is {row['status']} ({row['paused_runs']} run(s) paused"
                         f"{waiting}): " + advice[row["status"]].format(name=row["name"]))
        poll = row["poll"] or {}
        if poll.get("error"):
            lines.append(f"the poll of connection {row['name']!r} did not run: {poll['error']}")
        lines += [f"the poll of connection {row['name']!r} warns: {w}" for w in poll.get("warnings", [])]
    return lines


@api.operation("/metrics", ("GET",), "Prometheus metrics (text exposition format); Bearer $LEDGERLINK_METRICS_TOKEN "
               "or the admin token (serve --metrics-listen also serves them on an address of their own).",
               admin=False, media_type="text/plain",
               responses={200: "the metrics", 401: "missing or wrong metrics token"})
def metrics() -> FlaskResponse:
    if not bearer_is("LEDGERLINK_METRICS_TOKEN", "LEDGERLINK_ADMIN_TOKEN"):
        return error(401, "unauthorized", "send LEDGERLINK_METRICS_TOKEN (or the admin token) as "
                                          "Authorization: Bearer <token>, or scrape serve's --metrics-listen address")
    body, content_type = render(runtime())
    return FlaskResponse(body, status=200, content_type=content_type)


@api.operation("/openapi.json", ("GET",), "This API described in OpenAPI 3.1.", admin=False, uses_store=False)
def openapi() -> FlaskResponse:
    return json_response(openapi_document(mounted(current_app).routes))
