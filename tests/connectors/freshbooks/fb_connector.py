"""What the connector's tests against the FreshBooks sandbox share: the sandbox on loopback, a
step's context pointed at it, and a sender that holds every request to FreshBooks'
description before it leaves. Not a test module."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import httpx

from fb_sandbox import ACCOUNT, TOKEN, Clock, served
from freshbooks_openapi_requests import problems
from ledgerlink.contract import ActionContext, Connection, Request
from ledgerlink.testing import HttpSender
from ledgerlink.testing.sandbox import Loopback


def checked(request: Request) -> None:
    """Fail the test when FreshBooks' description refuses ``request``."""
    found = problems(request)
    if found:
        raise AssertionError(f"FreshBooks would refuse {request.method} {request.url}: {found}")


def context(loop: Loopback, key: str = "run-1-step", **settings: Any) -> ActionContext:
    return ActionContext(connection=Connection("books", "freshbooks", {"api_base": loop.url, "account_id": ACCOUNT,
                                                                       **settings}),
                         idempotency_key=key)


@contextmanager
def sandbox(**options: Any) -> Iterator[tuple[Loopback, Clock, HttpSender]]:
    """The FreshBooks sandbox, and a sender to it with the sandbox's bearer token."""
    with served(**options) as (loop, clock), httpx.Client(timeout=10.0) as client:
        yield loop, clock, HttpSender(client, {"Authorization": f"Bearer {TOKEN}"}, check=checked)


def objects(loop: Loopback, collection: str) -> list[dict[str, Any]]:
    """Every object of ``collection`` the sandbox's business keeps, deleted ones too."""
    business = loop.sandbox.business(ACCOUNT)
    return list(business.objects[collection].values())
