"""Turning an action's :class:`~ledgerlink.connectors.catalog.Request` into the exact HTTP request.

This is the one place httpx is configured. Dry-run shows the request built here, with
secrets redacted; live runs send the same request.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Any
from urllib.parse import urlencode

import httpx

from ledgerlink import __version__, jsonio
from ledgerlink.contract import Request
from ledgerlink.errors import ActionError, NotSent, OutcomeUnknown

REDACTED = "[REDACTED]"
USER_AGENT = f"ledgerlink/{__version__}"


FORM = "application/x-www-form-urlencoded"


#: ``sign(body) -> headers``: the headers that sign a request's exact body (a connector's
#: ``sign_request`` bound to the connection's secrets)
Signer = Callable[[bytes], Mapping[str, str]]


def build(request: Request, auth_headers: Mapping[str, str] | None = None,
          sign: Signer | None = None) -> httpx.Request:
    """The httpx request for an action's request: query encoded, body as exact JSON or as a
    form (``Request.form``, its pairs in order); ``sign`` adds the headers signing the body
    exactly as it is sent."""
    headers = {"User-Agent": USER_AGENT, **dict(request.headers), **dict(auth_headers or {})}
    content = None
    if request.json is not None and request.form is not None:
        raise ActionError(f"{request.method} {request.url}: a request has a JSON body or a form, not both")
    if request.json is not None:
        content = jsonio.dumps(request.json).encode("utf-8")
        headers.setdefault("Content-Type", "application/json")
    elif request.form is not None:
        content = urlencode(list(request.form)).encode("ascii")
        headers.setdefault("Content-Type", FORM)
    if sign is not None:
        headers.update(sign(content or b""))
    return httpx.Request(request.method, request.url, params=dict(request.params),
                         headers=headers, content=content)


def redact(text: str, secrets: Iterable[str]) -> str:
    """``text`` with every secret value replaced by ``[REDACTED]``."""
    for secret in sorted((s for s in secrets if s), key=len, reverse=True):
        text = text.replace(secret, REDACTED)
    return text


def shown_body(request: Request) -> Any:
    """A request's body as dry-run and the run log show it: the JSON value, or the form
    exactly as sent (``a=1&expand%5B%5D=b``)."""
    if request.form is not None:
        return urlencode(list(request.form))
    return request.json


def describe(http: httpx.Request, body: Any, secret_headers: Iterable[str] = (),
             secrets: Iterable[str] = ()) -> dict[str, Any]:
    """The request as dry-run and the run log show it: secrets redacted."""
    hidden = {h.lower() for h in secret_headers} | {"authorization", "proxy-authorization", "cookie"}
    secrets = list(secrets)
    headers = {}
    for name, value in http.headers.items():
        if name.lower() in hidden:
            scheme, _, rest = value.partition(" ")
            value = f"{scheme} {REDACTED}" if rest else REDACTED
        headers[name] = redact(value, secrets)
    return {"kind": "http", "method": http.method, "url": redact(str(http.url), secrets),
            "headers": headers, "body": body}


# --- sending -----------------------------------------------------------------------------

def new_client(connect_timeout: float = 5.0, read_timeout: float = 30.0, max_connections: int = 100) -> httpx.Client:
    """The one HTTP client of a process: timeouts, pool, no redirects, no environment proxies."""
    return httpx.Client(
        timeout=httpx.Timeout(read_timeout, connect=connect_timeout, pool=read_timeout),
        limits=httpx.Limits(max_connections=max_connections, max_keepalive_connections=max_connections),
        follow_redirects=False, trust_env=False)


class Sent:
    """What one send produced, for the run log."""

    __slots__ = ("request", "status", "body_text", "elapsed")

    def __init__(self, request: dict[str, Any], status: int | None, body_text: str | None, elapsed: float):
        self.request = request
        self.status = status
        self.body_text = body_text
        self.elapsed = elapsed


def send(client: httpx.Client, request: Request, auth_headers: Mapping[str, str],
         secrets: Iterable[str], sign: Signer | None = None,
         signed_headers: Iterable[str] = ()) -> tuple[Any, Sent]:
    """Send one action request (its body signed by ``sign``, whose ``signed_headers`` are
    redacted like the auth headers); returns (catalog Response, what to log). Raises
    NotSent/OutcomeUnknown."""
    from time import perf_counter

    from ledgerlink.contract import Response

    http = build(request, auth_headers, sign)
    secrets = [s for s in secrets if isinstance(s, str) and s]
    logged = describe(http, shown_body(request), secret_headers=[*auth_headers.keys(), *signed_headers],
                      secrets=secrets)
    started = perf_counter()
    try:
        raw = client.send(http)
    except (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout) as exc:
        raise NotSent(redact(f"{type(exc).__name__}: {exc}", secrets),
                      Sent(logged, None, None, perf_counter() - started)) from None
    except (httpx.ReadTimeout, httpx.WriteTimeout, httpx.RemoteProtocolError, httpx.ReadError) as exc:
        raise OutcomeUnknown(redact(f"{type(exc).__name__} after the request was sent: {exc}", secrets),
                             Sent(logged, None, None, perf_counter() - started)) from None
    elapsed = perf_counter() - started
    text = raw.text
    try:
        body = jsonio.loads(text) if text and "json" in raw.headers.get("content-type", "") else None
    except (jsonio.JSONDecodeError, UnicodeDecodeError):
        body = None
    response = Response(status=raw.status_code, headers=dict(raw.headers), json=body, text=text)
    return response, Sent(logged, raw.status_code, redact(text, secrets), elapsed)
