"""What the connector's tests against the FreshBooks sandbox share: the sandbox on loopback, a
step's context pointed at it, a sender that holds every request to FreshBooks' description
before it leaves, and a recipe to run through the host. Not a test module."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import httpx
from flask import Flask, Response, request

from fb_sandbox import ACCOUNT, TOKEN, Clock, served
from freshbooks_openapi_requests import problems
from ledgerlink.contract import ActionContext, Connection, Request
from ledgerlink.testing import HttpSender
from ledgerlink.testing.sandbox import Loopback


#: a paid Stripe invoice as a FreshBooks client, invoice and payment: the recipe the tests that
#: run through the host deliver events to
RECIPE = {
    "id": "stripe-invoice-paid-to-freshbooks-test", "version": 1,
    "description": "A paid Stripe invoice as a FreshBooks client, invoice and payment (test).",
    "trigger": {"event": "stripe.invoice.paid", "connection": "stripe"},
    "steps": [
        {"id": "client", "action": "freshbooks.find_or_create_client", "connection": "freshbooks",
         "input": {"source_id": {"$path": "$.event.data.object.customer"},
                   "organization": {"$path": "$.event.data.object.customer_email", "$default": "Stripe customer"}}},
        {"id": "invoice", "action": "freshbooks.create_invoice", "connection": "freshbooks",
         "input": {"source_id": {"$path": "$.event.data.object.id"}, "customerid": {"$path": "$.steps.client.id"},
                   "create_date": {"$path": "$.event.data.object.created", "$as": "date"},
                   "currency_code": {"$path": "$.event.data.object.currency", "$as": "upper"},
                   "lines": [{"name": "Stripe invoice",
                              "unit_cost": {"$path": "$.event.data.object.amount_paid", "$as": "stripe.money",
                                            "currency": {"$path": "$.event.data.object.currency"}}}]}},
        {"id": "payment", "action": "freshbooks.create_payment", "connection": "freshbooks",
         "input": {"source_id": {"$concat": ["paid:", {"$path": "$.event.data.object.id"}]},
                   "invoice_source_id": {"$path": "$.event.data.object.id"},
                   "amount": {"$path": "$.event.data.object.amount_paid", "$as": "stripe.money",
                              "currency": {"$path": "$.event.data.object.currency"}},
                   "currency_code": {"$path": "$.event.data.object.currency", "$as": "upper"},
                   "date": {"$path": "$.event.data.object.created", "$as": "date"}}},
    ],
}


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


class LossyTokens:
    """FreshBooks' token endpoint behind a link that counts the refreshes and loses the next
    ``drop`` answers after FreshBooks has acted on them (a timeout after the token rotated)."""

    def __init__(self, upstream: str) -> None:
        self.upstream = upstream
        self.drop = 0
        self.refreshes = 0
        self.app = Flask("lossy")
        self.app.add_url_rule("/auth/oauth/token", view_func=self.token, methods=["POST"])

    def token(self):
        form = request.form.to_dict()
        self.refreshes += form.get("grant_type") == "refresh_token"
        answer = httpx.post(self.upstream, data=form)
        if self.drop:
            self.drop -= 1
            return Response("upstream timed out", status=504)
        return Response(answer.content, status=answer.status_code, content_type="application/json")
