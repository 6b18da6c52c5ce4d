"""Turning an action's :class:`~ledgerlink.catalog.Request` into the exact HTTP request.

This is the one place httpx is configured. Dry-run shows the request built here, with
secrets redacted; live runs send the same request.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import httpx

from . import __version__, jsonio
from .catalog import Request

REDACTED = "[REDACTED]"
USER_AGENT = f"ledgerlink/{__version__}"


def build(request: Request, auth_headers: Mapping[str, str] | None = None) -> httpx.Request:
    """The httpx request for an action's request: query encoded, body as exact JSON."""
    headers = {"User-Agent": USER_AGENT, **dict(request.headers), **dict(auth_headers or {})}
    content = None
    if request.json is not None:
        content = jsonio.dumps(request.json).encode("utf-8")
        headers.setdefault("Content-Type", "application/json")
    return httpx.Request(request.method, request.url, params=dict(request.params),
                         headers=headers, content=content)


def redact(text: str, secrets: Iterable[str]) -> str:
    """``text`` with every secret value replaced by ``[REDACTED]``."""
    for secret in sorted((s for s in secrets if s), key=len, reverse=True):
        text = text.replace(secret, REDACTED)
    return text


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
    return {"method": http.method, "url": redact(str(http.url), secrets), "headers": headers,
            "body": body}
