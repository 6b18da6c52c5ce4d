"""The sandbox's HTTP face: a thin Flask app over a :class:`~.state.Sandbox`.

Routes imitating Intuit:

- ``GET|POST /v3/company/<realm>/<entity>[/<id>]`` and ``…/query`` → :meth:`Sandbox.handle_v3`
- ``POST /oauth2/v1/tokens/bearer`` → :meth:`Sandbox.token_endpoint`
- ``POST /v2/oauth2/tokens/revoke`` (Basic client auth; JSON or form ``token``): revokes
  the whole authorization the token belongs to, answering 200 as Intuit does
- ``GET /connect/oauth2?client_id&redirect_uri&response_type=code&state[&realm_id]``: the
  consent screen, already consented: 302 to ``redirect_uri?code=…&state=…&realmId=…``; with
  ``sandbox.consent_page`` set, a page whose Connect button (``POST /connect/oauth2``, the
  query as form fields and ``decision=allow``) redirects so, and whose Cancel redirects with
  ``error=access_denied``
- ``GET /.well-known/openid_sandbox_configuration`` (and ``openid_configuration``, with or
  without a trailing slash): the OAuth/OpenID discovery document, as Intuit serves it,
  naming this sandbox's own endpoints; Intuit's ``intuit-oauth`` client takes its URL as
  its ``environment`` (:func:`discovery_document`)
- ``GET /op/v1/jwks`` (no keys: the sandbox issues no ID tokens) and ``GET
  /v1/openid_connect/userinfo`` (Bearer token → ``{"sub"}``), which the
  discovery document names

Routes for tests only, never authenticated or rate-limited (``/__sandbox/…``):
``GET stats``, ``GET requests``, ``GET entities/<realm>/<entity>``, ``GET|POST|DELETE
faults``, ``POST reset`` (``{"tokens": true}`` also forgets issued tokens), ``POST
authorize`` (``{"realm_id", "redirect_uri", "state"}`` → ``{"code", "realmId", "state"}``),
``POST revoke`` (``{"token"}`` → ``{"revoked": bool}``), ``POST advance``
(``{"seconds"}``: move the sandbox clocks forward), ``GET|POST preferences``
(``{"realm_id", "multicurrency", "book_close_date"}``: a company's settings).
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from flask import Flask, Response, redirect, request
from markupsafe import escape

from ledgerlink.testing.sandbox_flask import add_clock_routes, json_response as _json, response as _send

from .state import Sandbox


#: the query of the consent page that its form sends back
CONSENT_FIELDS = ("client_id", "response_type", "redirect_uri", "state", "scope", "realm_id")


def consent_html(args: Any) -> str:
    """The sandbox's consent page: the app asks to reach the company; Connect or Cancel."""
    hidden = "".join(f'<input type="hidden" name="{name}" value="{escape(args[name])}">'
                     for name in CONSENT_FIELDS if args.get(name) is not None)
    return ("<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><link rel=\"icon\" href=\"data:,\">"
            "<title>Connect to QuickBooks "
            "(sandbox)</title></head><body><h1>Connect to QuickBooks (sandbox)</h1>"
            f"<p>The app <b>{escape(args.get('client_id', ''))}</b> asks to reach your company's books "
            f"({escape(args.get('scope', ''))}).</p>"
            f'<form method="post" action="/connect/oauth2">{hidden}'
            '<button type="submit" name="decision" value="allow" id="allow">Connect</button> '
            '<button type="submit" name="decision" value="deny" id="deny">Cancel</button></form></body></html>')


def _input() -> dict[str, Any]:
    """The JSON object (or form) a ``/__sandbox`` POST carries; {} when empty."""
    if request.form:
        return request.form.to_dict()
    data = request.get_json(silent=True, force=True)
    return data if isinstance(data, dict) else {}


#: Intuit's discovery document paths (intuit-oauth's ``config.DISCOVERY_URL``)
DISCOVERY_PATHS = ("/.well-known/openid_sandbox_configuration",
                   "/.well-known/openid_configuration")


def discovery_document(base_url: str) -> dict[str, Any]:
    """Intuit's OAuth 2.0 / OpenID Connect discovery document with this sandbox's URLs.

    The keys and values are those of Intuit's own document
    (developer.intuit.com/.well-known/openid_sandbox_configuration; doc: …/authentication-
    and-authorization/oauth-openid-discovery-doc); each Intuit host is replaced by
    ``base_url``, paths kept (the authorization endpoint is appcenter's ``/connect/oauth2``,
    the revocation endpoint developer.api's ``/v2/oauth2/tokens/revoke``). One difference:
    the token endpoint authenticates clients by HTTP Basic only, so only
    ``client_secret_basic`` is listed (Intuit also lists ``client_secret_post``).
    """
    base = base_url.rstrip("/")
    return {
        "issuer": f"{base}/op/v1",
        "authorization_endpoint": f"{base}/connect/oauth2",
        "token_endpoint": f"{base}/oauth2/v1/tokens/bearer",
        "userinfo_endpoint": f"{base}/v1/openid_connect/userinfo",
        "revocation_endpoint": f"{base}/v2/oauth2/tokens/revoke",
        "jwks_uri": f"{base}/op/v1/jwks",
        "response_types_supported": ["code"],
        "subject_types_supported": ["public"],
        "id_token_signing_alg_values_supported": ["RS256"],
        "scopes_supported": ["openid", "email", "profile", "address", "phone"],
        "token_endpoint_auth_methods_supported": ["client_secret_basic"],
        "claims_supported": ["aud", "exp", "iat", "iss", "realmid", "sub"],
    }


def create_app(sandbox: Sandbox) -> Flask:
    """The WSGI app serving ``sandbox``; ``app.sandbox`` is ``sandbox``."""
    app = Flask("ledgerlink_sandboxes.quickbooks")
    app.sandbox = sandbox  # type: ignore[attr-defined]

    # --- Intuit's endpoints -----------------------------------------------------------
    @app.route("/v3/company/<realm>/<path:rest>", methods=["GET", "POST"])
    def v3(realm: str, rest: str) -> Response:
        return _send(sandbox.handle_v3(request.method, realm, rest, request.args.to_dict(),
                                       dict(request.headers), request.get_data()))

    @app.post("/oauth2/v1/tokens/bearer")
    def token() -> Response:
        return _send(sandbox.token_endpoint(request.form.to_dict(),
                                            request.headers.get("Authorization")))

    @app.post("/v2/oauth2/tokens/revoke")
    def revoke_grant() -> Response:
        if not sandbox.client_ok(request.headers.get("Authorization")):
            return _json({"error": "invalid_client"}, 401)
        token_value = _input().get("token")
        if not isinstance(token_value, str) or not token_value:
            return _json({"error": "invalid_request"}, 400)
        sandbox.revoke(token_value, grant=True)
        return Response(b"", status=200)

    @app.get("/connect/oauth2")
    def consent() -> Response:
        problem = _consent_problem(request.args)
        if problem is not None:
            return problem
        if sandbox.consent_page:  # a person answers it: Connect or Cancel
            return Response(consent_html(request.args), mimetype="text/html")
        return _consent_redirect(request.args, allowed=True)

    @app.post("/connect/oauth2")
    def consent_answer() -> Response:
        problem = _consent_problem(request.form)
        if problem is not None:
            return problem
        return _consent_redirect(request.form, allowed=request.form.get("decision") == "allow")

    def _consent_problem(args: Any) -> Response | None:
        if args.get("client_id") != sandbox.client_id:
            return _json({"error": "invalid_client"}, 400)
        if args.get("response_type") != "code":
            return _json({"error": "unsupported_response_type"}, 400)
        if not args.get("redirect_uri"):
            return _json({"error": "invalid_request", "error_description": "redirect_uri"}, 400)
        return None

    def _consent_redirect(args: Any, allowed: bool) -> Response:
        redirect_uri = args["redirect_uri"]
        realm = args.get("realm_id") or sandbox.realms[0]
        if allowed:
            try:
                code = sandbox.authorize(realm, redirect_uri)
            except KeyError as exc:
                return _json({"error": "invalid_request", "error_description": str(exc)}, 400)
            query = {"code": code, "realmId": realm}
        else:  # RFC 6749 §4.1.2.1: the person said no
            query = {"error": "access_denied"}
        if args.get("state") is not None:
            query["state"] = args["state"]
        separator = "&" if "?" in redirect_uri else "?"
        return redirect(f"{redirect_uri}{separator}{urlencode(query)}", code=302)

    def discovery() -> Response:
        return _json(discovery_document(request.host_url))

    for index, path in enumerate(DISCOVERY_PATHS):
        for slash in ("", "/"):  # intuit-oauth's own constants end in a slash
            app.add_url_rule(path + slash, f"discovery_{index}{slash and '_slash'}", discovery,
                             methods=["GET"])

    @app.get("/op/v1/jwks")
    def jwks() -> Response:
        return _json({"keys": []})

    @app.get("/v1/openid_connect/userinfo")
    def userinfo() -> Response:
        info = sandbox.userinfo(request.headers.get("Authorization"))
        if info is None:
            response = _json({"error": "invalid_token"}, 401)
            response.headers["WWW-Authenticate"] = 'Bearer error="invalid_token"'
            return response
        return _json(info)

    # --- tests only ---------------------------------------------------------------------
    @app.get("/")
    @app.get("/__sandbox")
    def index() -> Response:
        return _json({
            "sandbox": "QuickBooks Online (Accounting API v3) loopback sandbox",
            "realms": list(sandbox.realms),
            "api": "/v3/company/<realm>/<entity>?minorversion=75",
            "token_endpoint": "/oauth2/v1/tokens/bearer",
            "authorize": "/connect/oauth2",
            "discovery": DISCOVERY_PATHS[0],
            "test_only": ["/__sandbox/stats", "/__sandbox/requests",
                          "/__sandbox/entities/<realm>/<entity>", "/__sandbox/faults",
                          "/__sandbox/reset", "/__sandbox/authorize", "/__sandbox/revoke",
                          "/__sandbox/advance", "/__sandbox/webhooks",
                          "/__sandbox/preferences"],
        })

    @app.get("/__sandbox/stats")
    def stats() -> Response:
        return _json(sandbox.stats())

    @app.get("/__sandbox/requests")
    def requests_log() -> Response:
        return _json(sandbox.requests())

    @app.get("/__sandbox/entities/<realm>/<entity>")
    def entities(realm: str, entity: str) -> Response:
        try:
            return _json(sandbox.entities(realm, entity))
        except KeyError as exc:
            return _json({"error": exc.args[0]}, 404)

    @app.route("/__sandbox/faults", methods=["GET", "POST", "DELETE"])
    def scripted_faults() -> Response:
        if request.method == "GET":
            return _json(sandbox.pending_faults())
        if request.method == "DELETE":
            sandbox.clear_faults()
            return _json({"pending": 0})
        data = request.get_json(silent=True, force=True)
        try:
            pending = sandbox.script(data)
        except ValueError as exc:
            return _json({"error": str(exc)}, 400)
        return _json({"pending": pending})

    @app.route("/__sandbox/webhooks", methods=["GET", "POST", "DELETE"])
    def webhooks() -> Response:
        """POST {"url", "verifier_token", "format": "legacy"|"cloudevents", "retry_seconds"}:
        notify every later change there; DELETE: stop; GET: the emitter's counters."""
        if request.method == "GET":
            return _json(sandbox.webhook_stats())
        if request.method == "DELETE":
            return _json(sandbox.webhooks(None))
        data = _input()
        try:
            return _json(sandbox.webhooks(data.get("url"), data.get("verifier_token"),
                                          data.get("format", "legacy"), data.get("retry_seconds")))
        except ValueError as exc:
            return _json({"error": str(exc)}, 400)

    @app.route("/__sandbox/preferences", methods=["GET", "POST"])
    def preferences() -> Response:
        """POST {"realm_id", "home_currency", "multicurrency": true, "book_close_date":
        "YYYY-MM-DD" | null}:
        change a company's Preferences; GET ?realm_id: read them. Answers the entity."""
        data = _input() if request.method == "POST" else request.args.to_dict()
        changes: dict[str, Any] = {}
        for key in ("multicurrency", "home_currency"):
            if key in data:
                changes[key] = data[key]
        if "book_close_date" in data:
            changes["book_close_date"] = data["book_close_date"] or None
        try:
            return _json(sandbox.preferences(data.get("realm_id"), **changes))
        except KeyError as exc:
            return _json({"error": exc.args[0]}, 404)
        except ValueError as exc:
            return _json({"error": str(exc)}, 400)

    @app.post("/__sandbox/authorize")
    def authorize() -> Response:
        data = _input()
        realm = data.get("realm_id") or data.get("realmId") or sandbox.realms[0]
        try:
            code = sandbox.authorize(realm, data.get("redirect_uri"))
        except KeyError as exc:
            return _json({"error": exc.args[0]}, 404)
        out = {"code": code, "realmId": realm}
        if data.get("state") is not None:
            out["state"] = data["state"]
        return _json(out)

    @app.post("/__sandbox/revoke")
    def revoke() -> Response:
        token_value = _input().get("token")
        if not isinstance(token_value, str) or not token_value:
            return _json({"error": "give the token to revoke as {\"token\": \"...\"}"}, 400)
        return _json({"revoked": sandbox.revoke(token_value)})

    def advance(seconds: Any) -> dict[str, float]:
        sandbox.advance(float(seconds) if isinstance(seconds, (int, float, str)) else seconds)
        return {"advanced": float(seconds)}

    add_clock_routes(app, advance, lambda tokens: sandbox.reset(tokens=tokens))

    @app.errorhandler(404)
    def not_found(_exc: Exception) -> Response:
        return _json({"error": f"the QuickBooks sandbox serves no {request.path}; "
                               f"see GET /__sandbox for its routes"}, 404)

    @app.errorhandler(405)
    def not_allowed(_exc: Exception) -> Response:
        return _json({"error": f"{request.method} is not allowed on {request.path}"}, 405)

    return app


__all__ = ["DISCOVERY_PATHS", "create_app", "discovery_document"]
