"""The FreshBooks sandbox's HTTP face: a thin Flask app over a :class:`~.state.Sandbox`.

FreshBooks' hosts are one here (``auth.freshbooks.com``, ``api.freshbooks.com``), paths kept:

- ``GET /service/auth/oauth/authorize?client_id&response_type=code&redirect_uri[&state]`` (also
  at ``/oauth/authorize``, where FreshBooks' SDK builds it): the consent screen, already
  agreed to: 302 to ``redirect_uri?code=…&state=…``;
- ``POST /auth/oauth/token``: the token endpoint; ``GET /auth/api/v1/users/me``: the user and
  their businesses (:mod:`.identity`);
- ``GET|POST|PUT|DELETE /accounting/account/<account_id>/<path>``: the Accounting API, and
  ``/events/account/<account_id>/events/callbacks[/<id>]``: callbacks (:mod:`.api`).

Routes for tests only, never authenticated or rate-limited (``/__sandbox/…``): ``GET stats``,
``GET requests``, ``GET objects/<account_id>/<collection>`` (deleted ones too),
``GET balances/<account_id>`` (:mod:`.ledger`), ``GET|POST|DELETE faults`` (scripted
faults, :mod:`.faults`), ``GET callbacks/<id>/verifier`` (the code a
receiver was sent), ``POST reset`` (``{"tokens": true}`` also forgets issued tokens),
``POST advance`` (``{"seconds"}``: move the sandbox clocks). Every answer carries a ``Date``
header of the sandbox's wall clock.
"""

from __future__ import annotations

import email.utils
from typing import Any

from flask import Flask, Response, redirect, request

from ledgerlink import jsonio
from ledgerlink.errors import LedgerlinkError
from ledgerlink.testing.sandbox_flask import add_clock_routes, json_response as _json, response as _send

from . import api, faults, ledger
from .identity import identity_error
from .state import Sandbox


def _input() -> dict[str, Any]:
    try:
        data = jsonio.loads(request.get_data()) if request.get_data() else {}
    except (ValueError, LedgerlinkError):
        data = {}
    return data if isinstance(data, dict) else {}


def create_app(sandbox: Sandbox) -> Flask:
    """The WSGI app serving ``sandbox``; ``app.sandbox`` is ``sandbox``."""
    app = Flask("ledgerlink_sandboxes.freshbooks")
    app.sandbox = sandbox  # type: ignore[attr-defined]

    @app.after_request
    def dated(response: Response) -> Response:
        # every answer is dated by the sandbox's wall clock, as a server dates by its own:
        # a client that asks for changes since a day reads FreshBooks' day from it
        response.headers["Date"] = email.utils.formatdate(sandbox.clock.wall(), usegmt=True)
        return response

    @app.get("/service/auth/oauth/authorize")
    @app.get("/oauth/authorize")
    def consent() -> Response:
        status, target = sandbox.identity.consent(request.args.to_dict())
        if status != 302:
            return _send(identity_error(status, target))
        return redirect(target, code=302)

    @app.post("/auth/oauth/token")
    def token() -> Response:
        sandbox.count("token")
        data: dict[str, Any] = request.form.to_dict() if request.form else _input()
        return _send(sandbox.identity.token_endpoint(data, request.headers.get("Authorization")))

    @app.get("/auth/api/v1/users/me")
    def me() -> Response:
        sandbox.count("users/me")
        return _send(sandbox.identity.me(request.headers.get("Authorization")))

    @app.route("/<any(accounting, events):family>/account/<account_id>/<path:rest>",
               methods=["GET", "POST", "PUT", "DELETE"])
    def accounting(family: str, account_id: str, rest: str) -> Response:
        headers = {name.lower(): value for name, value in request.headers.items()}
        return _send(api.handle(sandbox, request.method, family, account_id, rest,
                                request.args.to_dict(flat=False), headers, request.get_data()))

    # --- tests only ---------------------------------------------------------------------
    @app.get("/")
    @app.get("/__sandbox")
    def index() -> Response:
        return _json({"sandbox": "FreshBooks API loopback sandbox",
                      "accounts": {account_id: {"business_id": b.business_id, "classic": b.classic}
                                   for account_id, b in sandbox.businesses.items()},
                      "accounting": "/accounting/account/<account_id>/<path>",
                      "callbacks": "/events/account/<account_id>/events/callbacks",
                      "token_endpoint": "/auth/oauth/token", "me": "/auth/api/v1/users/me",
                      "authorize": "/service/auth/oauth/authorize",
                      "test_only": ["/__sandbox/stats", "/__sandbox/requests",
                                    "/__sandbox/objects/<account_id>/<collection>",
                                    "/__sandbox/balances/<account_id>", "/__sandbox/callbacks/<id>/verifier",
                                    "/__sandbox/faults", "/__sandbox/reset", "/__sandbox/advance"]})

    @app.get("/__sandbox/stats")
    def stats() -> Response:
        return _json(sandbox.stats())

    @app.get("/__sandbox/requests")
    def requests_log() -> Response:
        return _json(sandbox.requests())

    @app.get("/__sandbox/objects/<account_id>/<collection>")
    def objects(account_id: str, collection: str) -> Response:
        business = sandbox.business(account_id)
        if business is None or collection not in business.objects:
            return _json({"error": f"no {collection} for account {account_id}"}, 404)
        return _json(business.all(collection))

    @app.get("/__sandbox/balances/<account_id>")
    def balances(account_id: str) -> Response:
        business = sandbox.business(account_id)
        if business is None:
            return _json({"error": f"no account {account_id}"}, 404)
        return _json(ledger.balances(business))

    @app.get("/__sandbox/callbacks/<int:number>/verifier")
    def verifier(number: int) -> Response:
        code = sandbox.callbacks.verifier(number)
        return _json({"verifier": code}) if code else _json({"error": f"no callback {number}"}, 404)

    @app.route("/__sandbox/faults", methods=["GET", "POST", "DELETE"])
    def scripted_faults() -> Response:
        if request.method == "GET":
            return _json(sandbox.faults.pending())
        if request.method == "DELETE":
            sandbox.faults.clear()
            return _json({"cleared": True})
        try:
            queued = sandbox.faults.add(faults.parse(jsonio.loads(request.get_data() or b"[]")))
        except (ValueError, LedgerlinkError) as exc:
            return _json({"error": str(exc)}, 400)
        return _json({"queued": queued})

    def advance(seconds: Any) -> dict[str, bool]:
        sandbox.clock.advance(seconds)
        return {"advanced": True}

    add_clock_routes(app, advance, lambda tokens: sandbox.reset(tokens=tokens))

    return app


__all__ = ["create_app"]
