"""FreshBooks' callbacks API: the subscriptions ``ledgerlink webhooks register`` makes.

FreshBooks' Events API (https://www.freshbooks.com/api/webhooks), under
``{api_base}/events/account/{account_id}/events/callbacks``:

- ``GET`` lists the callbacks, ``{"response": {"result": {"callbacks": [{"callbackid",
  "event", "uri", "verified", "updated_at"}], "page", "pages", "per_page", "total"}}}``,
  100 at most a page;
- ``POST {"callback": {"event": "payment.create", "uri": "https://…"}}`` creates one,
  unverified; FreshBooks then POSTs its verification code to the URI (:mod:`.webhook`);
- ``PUT …/callbacks/{id} {"callback": {"verifier": "…"}}`` confirms it (``verified`` true),
  ``{"callback": {"resend": true}}`` asks for the code again.

Errors of this API come as ``{"errno": 422, "message": "…", "details": […]}`` (read by
:mod:`.errors`).
"""

from __future__ import annotations

from collections.abc import Generator, Mapping
from typing import Any

from ledgerlink.contract import ActionContext, Request, Response, Subscription, Subscriptions
from ledgerlink.errors import VendorError

from .errors import classify
from .reads import business

#: FreshBooks lists at most this many a page
PAGE_SIZE = 100
#: trigger → the FreshBooks event its callback is created for
EVENTS: dict[str, str] = {
    "freshbooks.payment.created": "payment.create",
    "freshbooks.invoice.created": "invoice.create",
    "freshbooks.invoice.updated": "invoice.update",
    "freshbooks.client.created": "client.create",
    "freshbooks.client.updated": "client.update",
}


def base(ctx: ActionContext) -> str:
    """``{api_base}/events/account/{account_id}/events/callbacks`` of the connection."""
    root, account = business(ctx)
    return f"{root}/events/account/{account}/events/callbacks"


def _result(response: Response, what: str) -> Mapping[str, Any]:
    error = classify(response)
    if error is not None:
        raise error
    result = (response.json or {}).get("response", {}).get("result") if isinstance(response.json, Mapping) else None
    if not isinstance(result, Mapping):
        raise VendorError(f"FreshBooks answered the {what} without response.result", kind="permanent",
                          status=response.status)
    return result


def _subscription(item: Any) -> Subscription:
    if not isinstance(item, Mapping) or "callbackid" not in item:
        raise VendorError("FreshBooks described a callback without its callbackid", kind="permanent")
    return Subscription(id=str(item["callbackid"]), event=str(item.get("event", "")),
                        url=str(item.get("uri", "")), verified=bool(item.get("verified")))


def list_callbacks(ctx: ActionContext) -> Generator[Request, Response, list[Subscription]]:
    """Every callback of the connection's business, page after page."""
    found: list[Subscription] = []
    page = 1
    while True:
        response = yield Request("GET", base(ctx), params={"page": str(page), "per_page": str(PAGE_SIZE)})
        result = _result(response, "list of callbacks")
        found += [_subscription(item) for item in result.get("callbacks") or []]
        if page >= int(result.get("pages") or 1):
            return found
        page += 1


def create_callback(event: str, url: str, ctx: ActionContext) -> Generator[Request, Response, Subscription]:
    """Subscribe ``url`` to ``event``; FreshBooks then sends the verification code there."""
    response = yield Request("POST", base(ctx), json={"callback": {"event": event, "uri": url}})
    return _subscription(_result(response, "creation of a callback").get("callback"))


def confirm_callback(subscription: Subscription, verifier: str,
                     ctx: ActionContext) -> Generator[Request, Response, Subscription]:
    """Send the verification code back; the callback as FreshBooks now has it."""
    response = yield Request("PUT", f"{base(ctx)}/{subscription.id}", json={"callback": {"verifier": verifier}})
    return _subscription(_result(response, "verification of a callback").get("callback"))


def resend_verification(subscription: Subscription, ctx: ActionContext) -> Generator[Request, Response, None]:
    """Ask FreshBooks to POST the callback's verification code again."""
    response = yield Request("PUT", f"{base(ctx)}/{subscription.id}", json={"callback": {"resend": True}})
    _result(response, "resending of a verification code")


SUBSCRIPTIONS = Subscriptions(events=EVENTS, list=list_callbacks, create=create_callback,
                              confirm=confirm_callback, resend=resend_verification)
