"""Signing in to the console: the admin token for a session cookie, CSRF tokens, headers.

A person signs in with the admin token (compared in constant time), or as one of the users of
``[console.users]`` with their password (:mod:`ledgerlink_console.users`). The console answers with
a session cookie: HttpOnly, SameSite=Strict, Secure when the request came over TLS, scoped to
``/console``, signed (:mod:`itsdangerous`) with a key derived from the admin token, so a new
admin token ends every session, and valid for ``[console] session_hours`` (default 12). The
cookie holds no secret: who signed in (a user's name and a fingerprint of their hash, so a new
password or a removed user ends the session), and the session's CSRF token. Every POST carries that
token in a hidden ``csrf`` field and is refused without it (403). The login form has one of
its own, in a cookie set when the form is shown (a login CSRF cannot sign a browser into
another session).

Every console answer has a Content-Security-Policy without ``unsafe-inline`` (no inline
script or style: every asset is a file the console serves), ``frame-ancestors 'none'``,
``X-Frame-Options: DENY``, ``nosniff`` and ``Referrer-Policy: no-referrer``. A page whose
form is answered by a redirect to another site (the connections page's Connect button, to the
vendor's consent page) names that site with :func:`allow_form_target`: browsers check
``form-action`` on the redirect too.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from typing import Any
from urllib.parse import quote

from flask import Response, g, redirect, request
from itsdangerous import BadSignature, URLSafeTimedSerializer

from ledgerlink.web.operator import operator
from ledgerlink.web.responses import error
from ledgerlink_console import users

COOKIE = "ledgerlink_console"
#: who a session signed in with the admin token is
ADMIN = "admin"
PATH = "/console"
#: how long a sign-in lasts unless ``[console] session_hours`` says otherwise
DEFAULT_HOURS = 12.0
#: how long a login form may stay open before its CSRF token is stale
LOGIN_FORM_SECONDS = 3600
CSP = ("default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; "
       "form-action 'self'; frame-ancestors 'none'; base-uri 'none'")


def _serializer() -> URLSafeTimedSerializer:
    key = hmac.new(operator().admin_token.encode(), b"ledgerlink console session", hashlib.sha256).digest()
    return URLSafeTimedSerializer(key, salt="ledgerlink-console")


def session_hours() -> float:
    value = operator().settings("console").get("session_hours", DEFAULT_HOURS)
    return float(value)


def read_cookie() -> dict[str, Any] | None:
    """The console cookie's content when its signature and age are good; else None."""
    raw = request.cookies.get(COOKIE)
    if not raw or not operator().admin_token:
        return None
    try:
        data = _serializer().loads(raw, max_age=int(session_hours() * 3600))
    except BadSignature:  # SignatureExpired is one
        return None
    return data if isinstance(data, dict) and isinstance(data.get("csrf"), str) else None


def set_cookie(response: Response, data: dict[str, Any], max_age: int) -> Response:
    response.set_cookie(COOKIE, _serializer().dumps(data), max_age=max_age, path=PATH, httponly=True,
                        samesite="Strict", secure=request.is_secure)
    return response


def signed_in() -> dict[str, Any] | None:
    """The session of this request when it is signed in (a user's: while the user is still
    in ``[console.users]`` with the same password hash)."""
    data = read_cookie()
    if not data or data.get("signed_in") is not True:
        return None
    if "user" in data:
        stored = users.configured(operator().settings("console")).get(str(data.get("by")))
        if stored is None or not hmac.compare_digest(users.fingerprint(stored), str(data["user"])):
            return None
    return data


def who() -> str | None:
    """Who is signed in: a user's name, ``admin`` for the admin token; None when no one."""
    data = signed_in()
    return None if data is None else str(data.get("by", ADMIN))


def actor() -> str:
    """The name recorded as who approved or rejected a run: the signed-in user's, or
    ``console`` for the admin token."""
    data = signed_in() or {}
    return str(data["by"]) if "user" in data else "console"


def csrf_token() -> str:
    """The CSRF token the forms of this page carry (a new one for a login form)."""
    data = getattr(g, "console_cookie", None) or read_cookie()
    if data is None:
        data = {"csrf": secrets.token_urlsafe(24), "signed_in": False}
        g.console_new_cookie = data
    g.console_cookie = data
    return data["csrf"]


def csrf_ok() -> bool:
    """Whether this POST carries the CSRF token of its cookie."""
    data = read_cookie()
    given = request.form.get("csrf", "")
    return data is not None and bool(given) and hmac.compare_digest(given.encode(), data["csrf"].encode())


def refused_csrf() -> Response:
    return error(403, "csrf_failed", "the form's CSRF token is missing or stale; reload the page and submit "
                                     "the form again")


def guard() -> Response | None:
    """Every guarded console view: signed in, and every POST with its CSRF token."""
    if not operator().admin_token:
        return error(401, "unauthorized", "the console is disabled: set LEDGERLINK_ADMIN_TOKEN on the server")
    if signed_in() is None:
        if request.method == "POST":
            return error(401, "unauthorized", "sign in to the console first (/console/login)")
        target = request.full_path.rstrip("?")
        return redirect(f"{PATH}/login?next={quote(target, safe='/')}", 303)
    if request.method == "POST" and not csrf_ok():
        return refused_csrf()
    return None


def sign_in(response: Response, user: str | None = None) -> Response:
    """``response`` with a new signed-in session (a new CSRF token too): the admin token's,
    or ``user``'s (who signed in with a password), tied to their hash's fingerprint."""
    data: dict[str, Any] = {"csrf": secrets.token_urlsafe(24), "signed_in": True, "by": user or ADMIN}
    if user is not None:
        data["user"] = users.fingerprint(users.configured(operator().settings("console"))[user])
    return set_cookie(response, data, int(session_hours() * 3600))


def sign_out(response: Response) -> Response:
    response.delete_cookie(COOKIE, path=PATH, httponly=True, samesite="Strict", secure=request.is_secure)
    return response


def allow_form_target(origin: str) -> None:
    """Let this page's forms be redirected to ``origin`` (``scheme://host[:port]``)."""
    g.console_form_targets = getattr(g, "console_form_targets", set()) | {origin}


def csp() -> str:
    """This answer's Content-Security-Policy: :data:`CSP`, with the form targets the page allowed."""
    targets = sorted(getattr(g, "console_form_targets", ()))
    return CSP.replace("form-action 'self'", " ".join(["form-action 'self'", *targets])) if targets else CSP


def finish(response: Response) -> Response:
    """Every console answer: the security headers, and the login form's cookie when a page
    made one."""
    new = getattr(g, "console_new_cookie", None)
    if new is not None:
        set_cookie(response, new, LOGIN_FORM_SECONDS)
    response.headers["Content-Security-Policy"] = csp()
    response.headers["X-Frame-Options"] = "DENY"
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Referrer-Policy"] = "no-referrer"
    return response


def safe_next(target: str | None) -> str:
    """Where to go after signing in: a console path, never another site."""
    if target and target.startswith(PATH + "/") and not target.startswith("//") and "\\" not in target:
        return target
    return PATH + "/"
