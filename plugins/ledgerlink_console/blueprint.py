"""The console's blueprint, its sign-in (the admin token, or a user's name and password) and
sign-out pages, and its static files.

Every view but the login page and the files under ``/console/static/`` is guarded by
:func:`ledgerlink_console.session.guard` (the host's :class:`~ledgerlink.web.routes.PageBlueprint`
calls it before each view); every answer gets :func:`ledgerlink_console.session.finish`'s headers.
"""

from __future__ import annotations

from typing import Any

from flask import Response, redirect, request

from ledgerlink.web.operator import operator
from ledgerlink.web.routes import PageBlueprint
from ledgerlink_console import session, users
from ledgerlink_console.render import page

console = PageBlueprint("console", __name__, url_prefix=session.PATH, guard=session.guard,
                        open_views=("login", "login_post", "consent_landing"), static_folder="static",
                        static_url_path="/static")
console.after_request(session.finish)

#: the most characters of a token the login form reads
MAX_TOKEN = 500
#: the most characters of a user's name the login form reads
MAX_NAME = 64
#: the answer to a name that is no user's and to a wrong password alike
WRONG_PASSWORD = ("that name and password do not match a console user; check both, or ask whoever keeps "
                  "ledgerlink.toml to set your password ([console.users])")


def _login_page(status: int = 200, **context: Any) -> Response:
    has_users = bool(users.configured(operator().settings("console")))
    return page("login.html", status, users=has_users, **context)


@console.get("/login")
def login() -> Response:
    if session.signed_in() is not None:
        return redirect(session.safe_next(request.args.get("next")), 303)
    return _login_page(next=session.safe_next(request.args.get("next")))


@console.post("/login")
def login_post() -> Response:
    if not operator().admin_token:
        return _login_page(401, next=session.PATH + "/",
                           problem="the console is disabled: set LEDGERLINK_ADMIN_TOKEN on the server")
    if not session.csrf_ok():
        return session.refused_csrf()
    target = session.safe_next(request.form.get("next"))
    if "user" in request.form:  # the name and password form
        name = request.form.get("user", "").strip()[:MAX_NAME]
        password = request.form.get("password", "")[:users.MAX_PASSWORD + 1]
        try:
            known = users.check(users.configured(operator().settings("console")), name, password)
        except users.Busy as exc:
            return _login_page(429, next=target, given_user=name, problem=str(exc))
        if not known:
            return _login_page(401, next=target, given_user=name, problem=WRONG_PASSWORD)
        return session.sign_in(redirect(target, 303), user=name)
    token = request.form.get("token", "")[:MAX_TOKEN]
    if not operator().is_admin_token(token):
        return _login_page(401, next=target,
                           problem="that is not the admin token (LEDGERLINK_ADMIN_TOKEN of the server)")
    return session.sign_in(redirect(target, 303))


@console.post("/logout")
def logout() -> Response:
    return session.sign_out(redirect(f"{session.PATH}/login", 303))
