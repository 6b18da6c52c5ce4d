"""The Xero sandbox's HTTP face: a thin Flask app over a :class:`~.state.Sandbox`.

Xero's hosts are one here (``login.xero.com``, ``identity.xero.com``, ``api.xero.com``), paths
kept:

- ``GET /identity/connect/authorize?response_type=code&client_id&redirect_uri&scope&state
  [&code_challenge&code_challenge_method=S256]``: the consent screen, already consented: 302
  to ``redirect_uri?code=…&scope=…&state=…``;
- ``POST /connect/token``: the token endpoint (:mod:`.identity`);
- ``GET /connections``: the tenants of the bearer token;
- ``GET|PUT|POST /api.xro/2.0/<path>``: the Accounting API (:mod:`.api`).

Routes for tests only, never authenticated or rate-limited (``/__sandbox/…``): ``GET stats``,
``GET requests``, ``GET entities/<tenant>/<collection>``, ``GET balances/<tenant>`` (:mod:`.ledger`), ``POST reset`` (``{"tokens": true}``
also forgets issued tokens), ``POST advance`` (``{"seconds"}``: move the sandbox clocks),
``POST organisation`` (``{"tenant", "PeriodLockDate", "EndOfYearLockDate"}``: lock dates),
``POST usage`` (``{"tenant", "day", "minute", "seconds_ago"}``: calls another installation of
the app already made on the organisation, counted against its limits),
``POST webhooks`` (``{"url", "key", "retry_seconds"}``: send every change there, signed; no url
stops), ``POST webhooks/intent`` (``{"url", "key"}``: run Intent to Receive, answer its result).
"""

from __future__ import annotations

from typing import Any

from flask import Flask, Response, redirect, request

from ledgerlink import jsonio
from ledgerlink.testing.sandbox_flask import add_clock_routes, json_response as _json, response as _send

from . import api, errors
from .ledger import balances
from .webhooks import intent_to_receive
from .state import Sandbox


def _input() -> dict[str, Any]:
    data = jsonio.loads(request.get_data()) if request.get_data() else {}
    return data if isinstance(data, dict) else {}


def create_app(sandbox: Sandbox) -> Flask:
    """The WSGI app serving ``sandbox``; ``app.sandbox`` is ``sandbox``."""
    app = Flask("ledgerlink_sandboxes.xero")
    app.sandbox = sandbox  # type: ignore[attr-defined]

    @app.get("/identity/connect/authorize")
    def consent() -> Response:
        status, target = sandbox.identity.consent(request.args.to_dict())
        if status != 302:
            return _json({"error": target}, status)
        return redirect(target, code=302)

    @app.post("/connect/token")
    def token() -> Response:
        return _send(sandbox.token_endpoint(request.form.to_dict(), request.headers.get("Authorization")))

    @app.get("/connections")
    def connections() -> Response:
        reply = sandbox.identity.connections(request.headers.get("Authorization"))
        return _send(reply if reply is not None else errors.unauthorized())

    @app.route("/api.xro/2.0/<path:rest>", methods=["GET", "PUT", "POST", "DELETE"])
    def accounting(rest: str) -> Response:
        return _send(api.handle(sandbox, request.method, rest, request.args.to_dict(),
                                {name.lower(): value for name, value in request.headers.items()},
                                request.get_data(), request.full_path))

    # --- tests only ---------------------------------------------------------------------
    @app.get("/")
    @app.get("/__sandbox")
    def index() -> Response:
        return _json({"sandbox": "Xero Accounting API loopback sandbox", "tenants": list(sandbox.orgs),
                      "api": "/api.xro/2.0/<Collection>", "token_endpoint": "/connect/token",
                      "authorize": "/identity/connect/authorize", "connections": "/connections",
                      "test_only": ["/__sandbox/stats", "/__sandbox/requests",
                                    "/__sandbox/entities/<tenant>/<collection>", "/__sandbox/balances/<tenant>",
                                    "/__sandbox/webhooks", "/__sandbox/webhooks/intent", "/__sandbox/reset",
                                    "/__sandbox/advance", "/__sandbox/organisation"]})

    @app.get("/__sandbox/stats")
    def stats() -> Response:
        return _json(sandbox.stats())

    @app.get("/__sandbox/requests")
    def requests_log() -> Response:
        return _json(sandbox.requests())

    @app.get("/__sandbox/entities/<tenant>/<collection>")
    def entities(tenant: str, collection: str) -> Response:
        org = sandbox.orgs.get(tenant)
        if org is None or collection not in org.entities:
            return _json({"error": f"no {collection} for tenant {tenant}"}, 404)
        return _json(org.all(collection))

    @app.get("/__sandbox/balances/<tenant>")
    def account_balances(tenant: str) -> Response:
        org = sandbox.orgs.get(tenant)
        if org is None:
            return _json({"error": f"no tenant {tenant}"}, 404)
        return _json(balances(org))

    @app.post("/__sandbox/webhooks")
    def webhooks() -> Response:
        data = _input()
        try:
            schedule = tuple(float(n) for n in data.get("retry_seconds") or (1.0, 5.0, 30.0))
            sandbox.set_webhooks(data.get("url"), data.get("key"), schedule)
        except (TypeError, ValueError) as exc:
            return _json({"error": str(exc)}, 400)
        return _json({"webhooks": bool(sandbox.notifier)})

    @app.post("/__sandbox/webhooks/intent")
    def intent() -> Response:
        data = _input()
        if not data.get("url") or not data.get("key"):
            return _json({"error": "url and key are required"}, 400)
        return _json(intent_to_receive(str(data["url"]), str(data["key"])))

    def advance(seconds: Any) -> dict[str, bool]:
        sandbox.clock.advance(seconds)
        return {"advanced": True}

    add_clock_routes(app, advance, lambda tokens: sandbox.reset(tokens=tokens))

    @app.post("/__sandbox/usage")
    def usage() -> Response:
        data = _input()
        try:
            sandbox.used_elsewhere(str(data.get("tenant") or next(iter(sandbox.orgs))), day=data.get("day", 0),
                                   minute=data.get("minute", 0), seconds_ago=data.get("seconds_ago", 0.0))
        except ValueError as exc:
            return _json({"error": str(exc)}, 400)
        return _json({"recorded": True})

    @app.post("/__sandbox/organisation")
    def organisation() -> Response:
        data = _input()
        org = sandbox.orgs.get(str(data.get("tenant") or next(iter(sandbox.orgs))))
        if org is None:
            return _json({"error": "unknown tenant"}, 404)
        try:
            org.set_lock_dates(data.get("PeriodLockDate"), data.get("EndOfYearLockDate"))
        except ValueError as exc:
            return _json({"error": str(exc)}, 400)
        return _json(org.organisation())

    return app


__all__ = ["create_app"]
