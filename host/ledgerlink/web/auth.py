"""Who may call a route: the admin token, the metrics token, compared in constant time."""

from __future__ import annotations

import functools
import hmac
from collections.abc import Callable

from flask import current_app, request
from flask import Response as FlaskResponse
from flask.typing import ResponseReturnValue

from ledgerlink.web.responses import error


def bearer_is(*names: str) -> bool:
    """True when the request's Bearer token is the one configured under any of ``names``
    (app config keys); compared in constant time, and never true for an unset token."""
    header = request.headers.get("Authorization", "")
    scheme, _, given = header.partition(" ")
    if scheme.lower() != "bearer":
        return False
    matches = [hmac.compare_digest(given.encode(), expected.encode())
               for expected in (current_app.config.get(name) or "" for name in names) if expected]
    return any(matches)


def require_admin() -> FlaskResponse | None:
    """The 401 answer when the request lacks the admin token; None when it is allowed."""
    challenge = {"WWW-Authenticate": "Bearer"}
    if not current_app.config.get("LEDGERLINK_ADMIN_TOKEN"):
        return error(401, "unauthorized", "admin routes are disabled: set LEDGERLINK_ADMIN_TOKEN on the server",
                     headers=challenge)
    if not bearer_is("LEDGERLINK_ADMIN_TOKEN"):
        return error(401, "unauthorized", "send the admin token as Authorization: Bearer <token>",
                     headers=challenge)
    return None


def admin_only(view: Callable[..., ResponseReturnValue]) -> Callable[..., ResponseReturnValue]:
    """``view`` answered only with the admin token (checked inside the view, so Flask's own
    answers to HEAD and OPTIONS, and its 404 and 405, are given as for any route)."""

    @functools.wraps(view)
    def wrapped(*args: object, **kwargs: object) -> ResponseReturnValue:
        denied = require_admin()
        if denied is not None:
            return denied
        return view(*args, **kwargs)

    return wrapped
