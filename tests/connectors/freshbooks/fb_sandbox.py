"""What the FreshBooks sandbox's tests share: a sandbox on loopback with a simulated clock, and
requests to it as FreshBooks' clients send them. Not a test module."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import httpx

from ledgerlink.testing.sandbox import Loopback, running
from ledgerlink_sandboxes.freshbooks import DEFAULT_ACCESS_TOKEN, DEFAULT_ACCOUNT_ID, create_sandbox

ACCOUNT = DEFAULT_ACCOUNT_ID
TOKEN = DEFAULT_ACCESS_TOKEN
#: the wall clock's start: 2026-11-30 00:00:00 UTC
WALL_START = 1_795_996_800.0


class Clock:
    """A clock a test moves by hand (the sandbox reads it for limits, expiry and stamps)."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now

    def wall(self) -> float:
        return WALL_START + self.now


@contextmanager
def served(**options: Any) -> Iterator[tuple[Loopback, Clock]]:
    """The sandbox on loopback, on a clock of the test's own."""
    clock = Clock()
    with running(create_sandbox(clock=clock, wall_clock=clock.wall, **options)) as loop:
        yield loop, clock


def call(loop: Loopback, method: str, path: str, body: Any = None, *, token: str | None = TOKEN,
         account: str = ACCOUNT, family: str = "accounting", params: Any = None) -> httpx.Response:
    """``method /<family>/account/<account>/<path>`` with a JSON body, as the SDKs send it."""
    headers = {"Accept": "application/json"}
    if token is not None:
        headers["Authorization"] = f"Bearer {token}"
    content = None
    if body is not None:
        content = json.dumps(body)
        headers["Content-Type"] = "application/json"
    return httpx.request(method, f"{loop.url}/{family}/account/{account}/{path}", content=content,
                         headers=headers, params=params)


def result(answer: httpx.Response) -> dict[str, Any]:
    """The ``response.result`` of a 200 answer."""
    assert answer.status_code == 200, answer.text
    return answer.json()["response"]["result"]


def shape_of(value: Any) -> Any:
    """The keys (recursively) and JSON types of ``value``, to compare with a recorded answer."""
    if isinstance(value, dict):
        return {key: shape_of(item) for key, item in value.items()}
    if isinstance(value, list):
        return [shape_of(value[0])] if value else []
    return type(value).__name__ if value is not None else None


__all__ = ["ACCOUNT", "Clock", "TOKEN", "WALL_START", "call", "result", "served", "shape_of"]
