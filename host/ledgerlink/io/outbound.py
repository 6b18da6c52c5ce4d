"""Turning an action's :class:`~ledgerlink.connectors.catalog.Request` into the exact HTTP request.

:func:`prepare` builds it (the address as httpx normalises it, every header, the body);
dry-run shows it with secrets redacted (:func:`describe`), live runs send the same request
on the process's pool of kept-alive connections (:mod:`ledgerlink.io.http_pool`);
:func:`build` gives it as an httpx request for those who send it with httpx.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from functools import lru_cache
from time import perf_counter
from typing import Any
from urllib.parse import urlencode

import httpx

from ledgerlink import __version__, jsonio
from ledgerlink.contract import Request, Response
from ledgerlink.errors import ActionError, NotSent, OutcomeUnknown
from ledgerlink.io import http_pool
from ledgerlink.io.http_pool import HttpPool

REDACTED = "[REDACTED]"
USER_AGENT = f"ledgerlink/{__version__}"


FORM = "application/x-www-form-urlencoded"


#: ``sign(body) -> headers``: the headers that sign a request's exact body (a connector's
#: ``sign_request`` bound to the connection's secrets)
Signer = Callable[[bytes], Mapping[str, str]]


class Prepared:
    """One request exactly as it goes on the wire: the address (``url``, and its parts the
    connection is made to), every header in order (``wire``: names as given, the Host header
    first), the body bytes; ``headers`` is what dry-run and the run log show of them
    (lower-case names, as httpx shows a request's headers)."""

    __slots__ = ("method", "url", "scheme", "host", "port", "target", "wire", "headers", "content")

    def __init__(self, method: str, url: str, scheme: str, host: str, port: int | None, target: str,
                 wire: list[tuple[str, str]], content: bytes) -> None:
        self.method = method
        self.url = url
        self.scheme = scheme
        self.host = host
        self.port = port
        self.target = target
        self.wire = wire
        self.content = content
        headers: dict[str, str] = {}
        for name, value in wire:
            key = name.lower()
            headers[key] = f"{headers[key]}, {value}" if key in headers else value
        self.headers = headers


@lru_cache(maxsize=1024)
def _address(url: str) -> tuple[str, str, str, int | None, str, str]:
    """``url`` as httpx normalises it (scheme and host lower case, IDNA, the path
    percent-encoded, a default port dropped): (url, scheme, host to connect to, port,
    request target, Host header). Kept per address: an action sends to few."""
    parsed = httpx.URL(url)
    return (str(parsed), parsed.scheme, parsed.raw_host.decode("ascii"), parsed.port,
            parsed.raw_path.decode("ascii"), parsed.netloc.decode("ascii"))


def _located(url: str, params: Mapping[str, Any]) -> tuple[str, str, str, int | None, str, str]:
    """:func:`_address` of ``url`` with ``params`` as its query, as httpx builds it."""
    if "?" not in url and "#" not in url and all(isinstance(v, str) for v in params.values()):
        shown, scheme, host, port, target, netloc = _address(url)
        if params:
            query = urlencode(list(params.items()))
            shown, target = f"{shown}?{query}", f"{target}?{query}"
        return shown, scheme, host, port, target, netloc
    parsed = httpx.Request("GET", url, params=dict(params)).url  # a query of its own, or values to convert
    return (str(parsed), parsed.scheme, parsed.raw_host.decode("ascii"), parsed.port,
            parsed.raw_path.decode("ascii"), parsed.netloc.decode("ascii"))


def prepare(request: Request, auth_headers: Mapping[str, str] | None = None,
            sign: Signer | None = None) -> Prepared:
    """The exact request for an action's request: query encoded, body as exact JSON or as a
    form (``Request.form``, its pairs in order); ``sign`` adds the headers signing the body
    exactly as it is sent. The headers are the ones httpx would send for it, in its order."""
    headers = {"User-Agent": USER_AGENT, **dict(request.headers), **dict(auth_headers or {})}
    content = None
    if request.json is not None and request.form is not None:
        raise ActionError(f"{request.method} {request.url}: a request has a JSON body or a form, not both")
    if request.json is not None:
        content = jsonio.dumpb(request.json)
        headers.setdefault("Content-Type", "application/json")
    elif request.form is not None:
        content = urlencode(list(request.form)).encode("ascii")
        headers.setdefault("Content-Type", FORM)
    if sign is not None:
        headers.update(sign(content or b""))
    url, scheme, host, port, target, netloc = _located(request.url, request.params)
    given = {name.lower() for name in headers}
    wire = [] if "host" in given else [("Host", netloc)]
    if not content and "content-length" not in given and "transfer-encoding" not in given \
            and request.method in ("POST", "PUT", "PATCH"):
        wire.append(("Content-Length", "0"))
    wire.extend(headers.items())
    if content and "content-length" not in given:
        wire.append(("Content-Length", str(len(content))))
    return Prepared(request.method, url, scheme, host, port, target, wire, content or b"")


def build(request: Request, auth_headers: Mapping[str, str] | None = None,
          sign: Signer | None = None) -> httpx.Request:
    """The request :func:`prepare` makes, as an httpx request (dry-run, a connector's tests)."""
    prepared = prepare(request, auth_headers, sign)
    return httpx.Request(prepared.method, prepared.url, headers=prepared.wire, content=prepared.content)


def redact(text: str, secrets: Iterable[str]) -> str:
    """``text`` with every secret value replaced by ``[REDACTED]``."""
    return _redacted(text, _longest_first(secrets))


def _longest_first(secrets: Iterable[str]) -> list[str]:
    """The secret values to redact, longest first (a secret holding another goes whole)."""
    return sorted((s for s in secrets if s), key=len, reverse=True)


def _redacted(text: str, ordered: list[str]) -> str:
    for secret in ordered:
        if secret in text:
            text = text.replace(secret, REDACTED)
    return text


def shown_body(request: Request) -> Any:
    """A request's body as dry-run and the run log show it: the JSON value, or the form
    exactly as sent (``a=1&expand%5B%5D=b``)."""
    if request.form is not None:
        return urlencode(list(request.form))
    return request.json


def describe(http: httpx.Request | Prepared, body: Any, secret_headers: Iterable[str] = (),
             secrets: Iterable[str] = ()) -> dict[str, Any]:
    """The request as dry-run and the run log show it: secrets redacted."""
    hidden = {h.lower() for h in secret_headers} | {"authorization", "proxy-authorization", "cookie"}
    ordered = _longest_first(secrets)
    headers = {}
    for name, value in http.headers.items():
        if name.lower() in hidden:
            scheme, _, rest = value.partition(" ")
            value = f"{scheme} {REDACTED}" if rest else REDACTED
        headers[name] = _redacted(value, ordered)
    return {"kind": "http", "method": http.method, "url": _redacted(str(http.url), ordered),
            "headers": headers, "body": body}


# --- sending -----------------------------------------------------------------------------

def new_client(connect_timeout: float = 5.0, read_timeout: float = 30.0, max_connections: int = 100) -> httpx.Client:
    """The process's httpx client for what is not an action's request (an OAuth token
    endpoint's form): timeouts, pool, no redirects, no environment proxies."""
    return httpx.Client(
        timeout=httpx.Timeout(read_timeout, connect=connect_timeout, pool=read_timeout),
        limits=httpx.Limits(max_connections=max_connections, max_keepalive_connections=max_connections),
        follow_redirects=False, trust_env=False)


def new_pool(connect_timeout: float = 5.0, read_timeout: float = 30.0, max_connections: int = 100) -> HttpPool:
    """The process's pool the actions' requests go out on (:mod:`ledgerlink.io.http_pool`)."""
    return HttpPool(connect_timeout, read_timeout, max_connections)


class Sent:
    """What one send produced, for the run log."""

    __slots__ = ("request", "status", "body_text", "elapsed")

    def __init__(self, request: dict[str, Any], status: int | None, body_text: str | None, elapsed: float):
        self.request = request
        self.status = status
        self.body_text = body_text
        self.elapsed = elapsed


def send(pool: HttpPool, request: Request, auth_headers: Mapping[str, str],
         secrets: Iterable[str], sign: Signer | None = None,
         signed_headers: Iterable[str] = ()) -> tuple[Response, Sent]:
    """Send one action request (its body signed by ``sign``, whose ``signed_headers`` are
    redacted like the auth headers); returns (catalog Response, what to log). Raises
    NotSent (nothing reached the vendor) or OutcomeUnknown (the request may have, its answer
    did not come back whole)."""
    prepared = prepare(request, auth_headers, sign)
    secrets = [s for s in secrets if isinstance(s, str) and s]
    logged = describe(prepared, shown_body(request), secret_headers=[*auth_headers.keys(), *signed_headers],
                      secrets=secrets)
    started = perf_counter()
    try:
        raw = pool.request(prepared.method, prepared.scheme, prepared.host, prepared.port, prepared.target,
                           prepared.wire, prepared.content)
    except http_pool.NotSent as exc:
        raise NotSent(redact(str(exc), secrets), Sent(logged, None, None, perf_counter() - started)) from None
    except http_pool.AnswerLost as exc:
        raise OutcomeUnknown(redact(f"{exc.kind} after the request was sent: {exc.detail}", secrets),
                             Sent(logged, None, None, perf_counter() - started)) from None
    elapsed = perf_counter() - started
    text = raw.text
    try:
        body = jsonio.loads(text) if text and "json" in raw.headers.get("content-type", "") else None
    except (jsonio.JSONDecodeError, UnicodeDecodeError):
        body = None
    response = Response(status=raw.status, headers=raw.headers, json=body, text=text)
    return response, Sent(logged, raw.status, redact(text, secrets), elapsed)
