"""The console's blueprint, its sign-in and sign-out pages, and its static files.

Every view but the login page and the files under ``/console/static/`` is guarded by
:func:`ledgerlink_console.session.guard` (the host's :class:`~ledgerlink.web.routes.PageBlueprint`
calls it before each view); every answer gets :func:`ledgerlink_console.session.finish`'s headers.
"""

from __future__ import annotations

from flask import Response, redirect, request

from ledgerlink.web.operator import operator
from ledgerlink.web.routes import PageBlueprint
from ledgerlink_console import session
from ledgerlink_console.render import page

console = PageBlueprint("console", __name__, url_prefix=session.PATH, guard=session.guard,
                        open_views=("login", "login_post", "consent_landing"), static_folder="static",
                        static_url_path="/static")
console.after_request(session.finish)

#: the most characters of a token the login form reads
MAX_TOKEN = 500


@console.get("/login")
def login() -> Response:
    if session.signed_in() is not None:
        return redirect(session.safe_next(request.args.get("next")), 303)
    return page("login.html", next=session.safe_next(request.args.get("next")))


@console.post("/login")
def login_post() -> Response:
    if not operator().admin_token:
        return page("login.html", 401, next=session.PATH + "/",
                    problem="the console is disabled: set LEDGERLINK_ADMIN_TOKEN on the server")
    if not session.csrf_ok():
        return session.refused_csrf()
    token = request.form.get("token", "")[:MAX_TOKEN]
    if not operator().is_admin_token(token):
        return page("login.html", 401, next=session.safe_next(request.form.get("next")),
                    problem="that is not the admin token (LEDGERLINK_ADMIN_TOKEN of the server)")
    return session.sign_in(redirect(session.safe_next(request.form.get("next")), 303))


@console.post("/logout")
def logout() -> Response:
    return session.sign_out(redirect(f"{session.PATH}/login", 303))
