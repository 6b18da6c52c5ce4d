"""The connections page: each connection's state and why, what waits for it, its rate-limit
headroom and when its tokens expire (never the tokens), and the buttons that connect it.

- **Connect / Reconnect** POSTs (with its CSRF token) and the console does what ``ledgerlink
  connect`` does: for an OAuth connection connected in a browser it answers with a redirect to
  the vendor's consent page (the state kept ten minutes), which is the confirmation; the vendor
  sends the person back to :func:`consent_landing`, which stores the tokens and returns to this
  page with a notice. A client-credentials connection fetches its token, a key connection has
  its key checked, both at once.
- **Resume paused runs** opens a confirmation page whose form POSTs to the same address.

The consent page's site is named in this page's ``form-action`` (:func:`session.allow_form_target`):
browsers check it on the redirect a form's answer makes. The vendor sends the person back to
``[console] oauth_redirect_uri``, else ``/console/oauth/callback`` of the address the console
was reached at: register that address on the vendor's app.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from flask import Response, redirect, request

from ledgerlink.errors import LedgerlinkError
from ledgerlink.web.operator import operator
from ledgerlink_console import session
from ledgerlink_console.blueprint import console
from ledgerlink_console.render import page

#: what each state says, and what to do about it
EXPLAINED = {
    "ok": "Connected: runs reach it.",
    "needs_reauth": "The vendor refused its consent or key: connect it again. Runs that need it wait, paused.",
    "not_connected": "Never connected: connect it before runs can reach it.",
    "paused": "Connected, but runs or notifications wait on it: resume them, or wait for the vendor's pause to end.",
}
#: the label of the button that connects a connection in each state
BUTTON = {"ok": "Reconnect", "paused": "Reconnect", "needs_reauth": "Reconnect", "not_connected": "Connect"}


def redirect_uri() -> str:
    """Where the vendor's consent page sends the person back."""
    configured = operator().settings("console").get("oauth_redirect_uri")
    return str(configured) if configured else f"{request.url_root.rstrip('/')}{session.PATH}/oauth/callback"


def _rows() -> list[dict[str, Any]]:
    op = operator()
    rows = op.connections()
    for row in rows:
        row["why"] = EXPLAINED[row["state"]]
        row["button"] = BUTTON[row["state"]]
        row["consent_origin"] = op.consent_origin(row["name"]) if row["oauth"] else None
    return rows


def _page(status: int = 200, **extra: Any) -> Response:
    rows = _rows()
    for row in rows:
        if row["consent_origin"]:
            session.allow_form_target(row["consent_origin"])
    return page("connections.html", status, rows=rows, **extra)


def _known(name: str) -> dict[str, Any] | None:
    return next((row for row in operator().connections() if row["name"] == name), None)


@console.get("/connections")
def connections_page() -> Response:
    names = {row["name"] for row in operator().connections()}
    connected, resumed = request.args.get("connected", ""), request.args.get("resumed", "")
    notice = None
    if connected in names:
        notice = f"{connected} is connected: its tokens are stored, its paused runs resumed."
    elif resumed in names:
        notice = f"The paused runs and notifications of {resumed} are resumed; a worker runs them now."
    return _page(notice=notice)


@console.post("/connections/<name>/connect")
def connect(name: str) -> Response:
    if _known(name) is None:
        return _page(404, problem=f"there is no connection {name!r}; connections are set in ledgerlink.toml")
    try:
        answer = operator().connect(name, redirect_uri())
    except LedgerlinkError as exc:
        return _page(exc.status, problem=f"{name} was not connected: {exc}")
    if isinstance(answer, str):  # the vendor's consent page
        return redirect(answer, 303)
    return redirect(f"{session.PATH}/connections?connected={quote(name)}", 303)


@console.get("/oauth/callback")
def consent_landing() -> Response:
    """Where the vendor sends the person back: open (the OAuth state is the proof), so it works
    whether or not the browser sends the console's cookie on a redirect from another site.
    It then loads the connections page itself (a same-site load: the cookie is sent)."""
    try:
        name = operator().complete_consent(request.args.to_dict())
    except LedgerlinkError as exc:
        return page("consent_landing.html", exc.status, name=None,
                    problem=f"not connected: {exc}")
    return page("consent_landing.html", name=name, then=f"{session.PATH}/connections?connected={quote(name)}")


@console.get("/connections/<name>/resume")
def confirm_resume(name: str) -> Response:
    row = _known(name)
    if row is None:
        return _page(404, problem=f"there is no connection {name!r}")
    return page("resume_confirm.html", row=row)


@console.post("/connections/<name>/resume")
def resume(name: str) -> Response:
    if _known(name) is None:
        return _page(404, problem=f"there is no connection {name!r}")
    operator().resume(name)
    return redirect(f"{session.PATH}/connections?resumed={quote(name)}", 303)
