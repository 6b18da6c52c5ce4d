"""Views of connections: webhook deliveries, each connection's state, the OAuth callback."""

from __future__ import annotations

import time
from typing import Any

from flask import Response as FlaskResponse, request

from ledgerlink.engine.connection_states import headroom, state as connection_state
from ledgerlink.engine.runtime import Runtime
from ledgerlink.errors import LedgerlinkError
from ledgerlink.io import keys
from ledgerlink.store.polls import poll_name
from ledgerlink.web.responses import json_response, runtime
from ledgerlink.web.routes import ApiBlueprint
from ledgerlink.web.webhooks import accept

api = ApiBlueprint("connections", __name__, operation_prefix="")


@api.operation("/webhooks/<connection>", ("POST",), "Receive a webhook; answered 2xx only once stored.",
               admin=False,
               responses={200: "stored (or a duplicate); an empty body when the connector's webhooks ask for one",
                          401: "signature does not verify", 400: "unusable body",
                          404: "unknown connection", 413: "body too large",
                          415: "not a media type the connector's webhooks are sent as (JSON unless it says)"})
def webhook(connection: str) -> FlaskResponse:
    answer = accept(runtime(), connection, request.content_length, (request.mimetype or "").lower(),
                    request.stream.read, request.headers)
    return FlaskResponse(answer.body, status=answer.status, content_type=answer.content_type)


def poll_states(rt: Runtime) -> dict[str, dict[str, Any]]:
    """Each polled connection's poll: ``last_polled_at`` (its last success, None before the
    first), ``cursor_age_seconds`` (since that success stored the cursor), ``next_due_at``,
    ``error`` (of a failed or waiting poll since) and ``warnings`` (of the last success;
    cleared by a poll without warnings). :func:`connection_rows` adds ``waiting_for_new_key``."""
    rows = {row["name"]: row for row in rt.store.polls()}
    now = time.time()
    states = {}
    for name in rt.connections.polled():
        row = rows.get(poll_name(name)) or {}
        last = row["updated_at"] if row.get("value") else None
        states[name] = {"interval_seconds": rt.config.poll_seconds(name), "last_polled_at": last,
                        "cursor_age_seconds": None if last is None else max(0.0, now - last),
                        "next_due_at": row.get("due_at"), "error": row.get("last_error"),
                        "warnings": row.get("warnings", [])}
    return states


def token_expiry(rt: Runtime, owner: str) -> dict[str, float | None] | None:
    """When the stored tokens of token set ``owner`` expire: ``access`` and ``refresh`` (Unix
    seconds, None when the vendor did not say); None when no tokens are stored or readable."""
    box = rt.connections.secret_box
    try:
        stored = box.get(owner) if box.enabled else {}
    except (LedgerlinkError, ValueError):  # a key that does not open them: the status says so
        return None
    if not stored.get("access_token"):
        return None
    def seconds(key: str) -> float | None:
        value = stored.get(key)
        return None if value is None else float(value)

    return {"access": seconds("access_expires_at"), "refresh": seconds("refresh_expires_at")}


def connection_rows(rt: Runtime) -> list[dict[str, Any]]:
    """Every connection with its state: ok, needs_reauth, not_connected (OAuth), needs_new_key
    (a key the vendor refused) or configured; the runs and fetches waiting for it; for an
    OAuth connection, ``token_set``: the connection whose stored tokens it uses (itself, or
    the one it shares a consent with) and ``shares_with``: the others on that set; and, for
    a polled connection, its poll (:func:`poll_states`), else None; ``headroom``, what is left
of its rate limit, ``state``: ok, needs_reauth, not_connected or paused
(:mod:`ledgerlink.engine.connection_states`); and ``expires``: for an OAuth connection whose
tokens are stored, when its access token and its refresh token expire (Unix seconds, None
when the vendor did not say), never the tokens themselves."""
    from ledgerlink.io.oauth import sharing, token_set

    statuses = rt.store.connection_statuses()
    names = sorted(set(rt.config.connections) | set(statuses))
    polls = poll_states(rt)
    rows = []
    for name in names:
        try:
            connection = rt.connections.connection(name)
        except LedgerlinkError:
            continue
        connector = rt.catalog.connectors[connection.connector]
        shared: dict[str, Any] = {"token_set": None, "shares_with": []}
        if connector.oauth is None:
            state: tuple[str, float | None] = keys.status(rt.connections, name) or ("configured", None)
        else:
            owner = token_set(rt.connections, name)
            state = statuses.get(owner, ("not_connected", None))
            shared = {"token_set": owner, "shares_with": [n for n in sharing(rt.connections, name) if n != name]}
        poll = polls.get(name)
        if poll is not None:  # a key connection whose key was refused is not polled until connect
            poll["waiting_for_new_key"] = state[0] == keys.NEEDS_NEW_KEY
        row = {"name": name, "connector": connection.connector, "status": state[0],
               "oauth": connector.oauth is not None, "updated_at": state[1], **shared,
               "paused_runs": rt.store.count_paused(name),
               "paused_fetches": rt.store.count_paused_fetches(name), "poll": poll}
        row["expires"] = token_expiry(rt, shared["token_set"]) if connector.oauth is not None else None
        row["headroom"] = limit = headroom(rt, name)
        row["state"] = connection_state(row, limit)
        rows.append(row)
    return rows


@api.operation("/api/connections", ("GET",), "Connections and their status (ok, needs_reauth, not_connected, needs_new_key, "
               "configured), their state as the console shows it (ok, needs_reauth, not_connected, paused), "
               "what waits for them, their rate-limit headroom, and each polled connection's poll.",
               responses={200: "every connection"})
def list_connections() -> FlaskResponse:
    return json_response({"connections": connection_rows(runtime())})


@api.operation("/oauth/callback", ("GET",),
               "Where the vendor's consent screen sends the person back; stores the tokens.",
               admin=False, query={"code": ("the authorization code", {"type": "string"}),
                                   "state": ("the state ledgerlink issued", {"type": "string"}),
                                   "error": ("why consent was not given", {"type": "string"})},
               responses={200: "connected", 400: "unknown or expired state, consent refused, or "
                                                 "several tenants and none chosen",
                          502: "the vendor refused to exchange the code or to name the tenant"})
def oauth_callback() -> FlaskResponse:
    """The whole query goes to the connector's ``learn_tenant`` step, which reads what its
    vendor adds to the redirect (a company id, say)."""
    from ledgerlink.io.oauth import complete

    rt = runtime()
    name = complete(rt.connections, request.args.to_dict())
    rt.connections.forget(name)
    return json_response({"connected": name, "status": "ok"})
