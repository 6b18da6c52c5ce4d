"""Stripe's HTTP API over an :class:`~.business.Account`: auth, limits, idempotency, routes.

- Every ``/v1`` request needs ``Authorization: Bearer sk_test_…`` (or HTTP Basic with the
  key as user name, as Stripe accepts); otherwise 401 ``invalid_request_error``
  (https://docs.stripe.com/api/authentication).
- At most ``requests_per_second`` requests (test mode: 25) in any second per key; over it,
  429 ``rate_limit`` (https://docs.stripe.com/rate-limits), which changes nothing.
- A POST with ``Idempotency-Key`` (https://docs.stripe.com/api/idempotent_requests): the same
  key with the same parameters replays the stored answer with ``Idempotent-Replayed: true``;
  with other parameters, 400 ``idempotency_error``. Answers to requests refused before
  they ran (auth, rate limit, unknown parameters) are not stored, as Stripe stores none.
- Parameters are form-encoded (:mod:`.wire`); an unknown one is refused.
"""

from __future__ import annotations

import base64
import re
from collections.abc import Callable
from typing import Any

from ledgerlink.testing.sandbox import IdempotencyKeys, RateWindow, Reply

from . import wire
from .business import Account
from .store import Store

Obj = dict[str, Any]
Handler = Callable[[Account, list[str], Obj], Any]

META = ("metadata", "description")
LIST = ("limit", "starting_after", "ending_before", "created")


def _page(kind: str, filters: tuple[str, ...] = (),
          keep: Callable[[Account, Obj], Callable[[Obj], bool]] | None = None) -> Handler:
    def handler(account: Account, args: list[str], params: Obj) -> Obj:
        wire.check(params, LIST + filters)
        return account.store.page(kind, params, f"/v1/{_PLURAL[kind]}",
                                  keep(account, params) if keep else lambda obj: True)
    return handler


def _retrieve(kind: str) -> Handler:
    def handler(account: Account, args: list[str], params: Obj) -> Obj:
        wire.check(params, ())
        return account.store.served(account.store.get(kind, args[0]))
    return handler


def _equal(*names: str) -> Callable[[Account, Obj], Callable[[Obj], bool]]:
    def keep(account: Account, params: Obj) -> Callable[[Obj], bool]:
        wanted = {name: params[name] for name in names if name in params}
        return lambda obj: all(obj.get(name) == value for name, value in wanted.items())
    return keep


def _one_of(name: str, values: tuple[str, ...],
            keep: Callable[[Account, Obj], Callable[[Obj], bool]]) -> Callable[[Account, Obj], Callable[[Obj], bool]]:
    """``keep``, after refusing a ``name`` outside ``values`` as Stripe refuses an enum."""
    def checked(account: Account, params: Obj) -> Callable[[Obj], bool]:
        if name in params and params[name] not in values:
            raise wire.invalid(f"Invalid {name}: must be one of {', '.join(values[:-1])}, or {values[-1]}",
                               name)
        return keep(account, params)
    return checked


def _active(account: Account, params: Obj) -> Callable[[Obj], bool]:
    active = wire.boolean(params, "active")
    return lambda obj: active is None or obj["active"] is active


#: an invoice's statuses (docs.stripe.com/api/invoices/list#list_invoices-status)
INVOICE_STATUSES = ("draft", "open", "paid", "uncollectible", "void")


def _txn_filter(account: Account, params: Obj) -> Callable[[Obj], bool]:
    payout = params.get("payout")
    members = account.ledger.in_payout(payout) if payout else None
    if payout and payout not in account.store.objects["payout"]:
        raise wire.missing("payout", payout, "payout")
    if payout and account.store.objects["payout"][payout].get("automatic") is False:
        # Stripe itemizes automatic payouts only (docs.stripe.com/api/balance_transactions/list#balance_transaction_list-payout)
        raise wire.invalid("Balance transaction history can only be filtered on automatic transfers, "
                           "not manual.", "payout")
    simple = _equal("type", "source", "currency")(account, params)
    return lambda obj: simple(obj) and (members is None or obj["id"] in members)


#: Stripe lists and retrieves the events of the last 30 days (https://docs.stripe.com/api/events
#: /list); an older ``created[gte]`` is not refused, the list just starts 30 days back
EVENT_RETENTION = 30 * 86400


def _kept(account: Account, event: Obj) -> bool:
    return event["created"] >= account.store.now() - EVENT_RETENTION


def _event_filter(account: Account, params: Obj) -> Callable[[Obj], bool]:
    kind, kinds = params.get("type"), params.get("types")
    if kind and kinds:
        raise wire.invalid("You cannot specify both type and types.", "types")
    if kinds is not None and (not isinstance(kinds, list) or len(kinds) > 20):
        raise wire.invalid("Invalid array: types must be an array of at most 20 event types.", "types")
    success = wire.boolean(params, "delivery_success")
    def matches(name: str, pattern: str) -> bool:
        return re.fullmatch(re.escape(pattern).replace(r"\*", ".*"), name) is not None
    def keep(obj: Obj) -> bool:
        if not _kept(account, obj):
            return False
        if kind and not matches(obj["type"], kind):
            return False
        if kinds and obj["type"] not in kinds:
            return False
        if success is not None and (account.store.event_pending(obj) == 0) != success:
            return False
        return True
    return keep


_PLURAL = {"customer": "customers", "invoice": "invoices", "invoiceitem": "invoiceitems",
           "charge": "charges", "payment_intent": "payment_intents", "refund": "refunds",
           "dispute": "disputes", "balance_transaction": "balance_transactions",
           "payout": "payouts", "credit_note": "credit_notes", "event": "events", "product": "products"}


def _post(allowed: tuple[str, ...], act: Callable[[Account, list[str], Obj], Obj],
          required: tuple[str, ...] = ()) -> Handler:
    def handler(account: Account, args: list[str], params: Obj) -> Obj:
        wire.check(params, allowed, required)
        if "metadata" in params:
            params = {**params, "metadata": wire.metadata(params)}
        return act(account, args, params)
    return handler


def _pay(account: Account, args: list[str], params: Obj) -> Obj:
    return account.pay_invoice(args[0], bool(wire.boolean(params, "paid_out_of_band")))


def _event(account: Account, args: list[str], params: Obj) -> Obj:
    wire.check(params, ())
    event = account.store.get("event", args[0])
    if not _kept(account, event):
        raise wire.missing("event", args[0])
    return account.store.served(event)


def _balance(account: Account, args: list[str], params: Obj) -> Obj:
    wire.check(params, ())
    return account.ledger.balance()


#: (method, path pattern) -> handler; ``*`` is an id
ROUTES: dict[tuple[str, str], Handler] = {
    ("GET", "balance"): _balance,
    ("POST", "customers"): _post(("name", "email", "phone") + META,
                                 lambda a, _, p: a.create_customer(p)),
    ("POST", "customers/*"): _post(("name", "email") + META,
                                   lambda a, args, p: a.update_customer(args[0], p)),
    ("POST", "products"): _post(("name", "active") + META, lambda a, _, p: a.create_product(p)),
    ("POST", "products/*"): _post(("name", "active") + META,
                                  lambda a, args, p: a.update_product(args[0], p)),
    ("POST", "invoiceitems"): _post(("customer", "invoice", "amount", "currency") + META,
                                    lambda a, _, p: a.create_invoice_item(p), ("customer",)),
    ("POST", "invoices"): _post(("customer", "currency", "collection_method", "auto_advance",
                                 "pending_invoice_items_behavior", "days_until_due") + META,
                                lambda a, _, p: a.create_invoice(p), ("customer",)),
    ("POST", "invoices/*"): _post(META, lambda a, args, p: a.update_invoice(args[0], p)),
    ("POST", "invoices/*/finalize"): _post(("auto_advance",),
                                           lambda a, args, p: a.finalize_invoice(args[0])),
    ("POST", "invoices/*/pay"): _post(("paid_out_of_band", "payment_method", "source",
                                       "forgive", "off_session"), _pay),
    ("POST", "invoices/*/void"): _post((), lambda a, args, p: a.void_invoice(args[0])),
    ("POST", "invoices/*/mark_uncollectible"): _post(
        (), lambda a, args, p: a.mark_uncollectible(args[0])),
    ("POST", "payment_intents"): _post(("amount", "currency", "customer", "confirm",
                                        "payment_method", "payment_method_types") + META,
                                       lambda a, _, p: a.create_payment_intent(p), ("amount", "currency")),
    ("POST", "charges"): _post(("amount", "currency", "customer", "source") + META,
                               lambda a, _, p: a.create_charge(p), ("amount", "currency")),
    ("POST", "refunds"): _post(("charge", "amount", "reason") + META,
                               lambda a, _, p: a.refund(p), ("charge",)),
    ("POST", "credit_notes"): _post(("invoice", "amount", "reason", "memo") + ("metadata",),
                                    lambda a, _, p: a.create_credit_note(p), ("invoice", "amount")),
    ("POST", "payouts"): _post(("amount", "currency") + META,
                               lambda a, _, p: a.ledger.payout(p, automatic=False), ("amount",)),
    ("GET", "customers"): _page("customer", ("email",), _equal("email")),
    ("GET", "products"): _page("product", ("active",), _active),
    ("GET", "invoices"): _page("invoice", ("customer", "status", "collection_method"),
                               _one_of("status", INVOICE_STATUSES,
                                       _equal("customer", "status", "collection_method"))),
    ("GET", "charges"): _page("charge", ("customer", "payment_intent"),
                              _equal("customer", "payment_intent")),
    ("GET", "payment_intents"): _page("payment_intent", ("customer",), _equal("customer")),
    ("GET", "refunds"): _page("refund", ("charge", "payment_intent"),
                              _equal("charge", "payment_intent")),
    ("GET", "disputes"): _page("dispute", ("charge", "payment_intent"),
                               _equal("charge", "payment_intent")),
    ("GET", "balance_transactions"): _page("balance_transaction",
                                           ("payout", "type", "source", "currency"), _txn_filter),
    ("GET", "balance/history"): _page("balance_transaction",
                                      ("payout", "type", "source", "currency"), _txn_filter),
    ("GET", "payouts"): _page("payout", ("status",), _equal("status")),
    ("GET", "credit_notes"): _page("credit_note", ("invoice", "customer"),
                                   _equal("invoice", "customer")),
    ("GET", "events"): _page("event", ("type", "types", "delivery_success"), _event_filter),
}
for _kind, _plural in _PLURAL.items():
    if _kind != "invoiceitem":
        ROUTES[("GET", f"{_plural}/*")] = _event if _kind == "event" else _retrieve(_kind)


def route(method: str, path: str) -> tuple[Handler, list[str]] | None:
    """The handler of ``method path`` (below ``/v1/``) and the ids in the path."""
    parts = path.strip("/").split("/")
    for (want, pattern), handler in ROUTES.items():
        shape = pattern.split("/")
        if want == method and len(shape) == len(parts) and all(
                s == "*" or s == p for s, p in zip(shape, parts)):
            return handler, [p for s, p in zip(shape, parts) if s == "*"]
    return None


class Api:
    """Serves ``/v1`` requests of one account."""

    def __init__(self, account: Account, keys: tuple[str, ...], rate: RateWindow) -> None:
        self.account = account
        self.keys = keys
        self.rate = rate
        self.idempotency = IdempotencyKeys(compare_bodies=True)
        self.requests = 0

    def _key(self, authorization: str | None) -> str:
        if authorization and authorization.startswith("Bearer "):
            key = authorization[7:].strip()
        elif authorization and authorization.startswith("Basic "):
            try:
                key = base64.b64decode(authorization[6:]).decode("utf-8").split(":", 1)[0]
            except ValueError:
                key = ""
        else:
            raise wire.StripeError(401, "invalid_request_error",
                                   "You did not provide an API key. You need to provide your API "
                                   "key in the Authorization header, using Bearer auth.")
        if key not in self.keys:
            shown = key[:8] + "*" * max(0, len(key) - 12) + key[-4:] if len(key) > 12 else key
            raise wire.StripeError(401, "invalid_request_error", f"Invalid API Key provided: {shown}",
                                   "api_key_invalid" if key.startswith("sk_") else None)
        return key

    def handle(self, method: str, path: str, query: str, body: bytes,
               headers: dict[str, str]) -> Reply:
        store: Store = self.account.store
        request_id = store.new_id("req")
        try:
            key = self._key(headers.get("Authorization"))
        except wire.StripeError as error:
            return error.reply(request_id)
        if not self.rate.admit(key):
            return wire.StripeError(429, "invalid_request_error", "Request rate limit exceeded. "
                                    "Learn more about rate limits here https://stripe.com/docs/"
                                    "rate-limits.", "rate_limit").reply(request_id)
        try:
            with store.lock:  # a key's lookup, run and storing happen as one
                return self._idempotent(key, method, path, query, body, headers, request_id)
        finally:
            self.rate.release(key)

    def _idempotent(self, key: str, method: str, path: str, query: str, body: bytes,
                    headers: dict[str, str], request_id: str) -> Reply:
        """Replay a known key's answer, refuse it with other parameters, or run and keep."""
        idem = headers.get("Idempotency-Key") if method == "POST" else None
        signature = body + b"?" + query.encode() + b"#" + path.encode()
        with self.idempotency.held(key, idem or None):  # a retry sent meanwhile waits, then is replayed
            if idem:
                found = self.idempotency.lookup(key, idem, signature)
                if found is not None and found.conflict:
                    return wire.StripeError(
                        400, "idempotency_error", "Keys for idempotent requests can only be used "
                        "with the same parameters they were first used with. Try using a key other "
                        f"than '{idem}' if you meant to execute a different request."
                    ).reply(request_id)
                if found is not None and found.reply is not None:
                    found.reply.headers.update({"Idempotent-Replayed": "true",
                                                "Original-Request": found.reply.headers.get(
                                                    "Request-Id", "")})
                    found.reply.headers["Request-Id"] = request_id
                    return found.reply
            reply = self._run(method, path, query, body, request_id, idem)
            if idem and (reply.status < 400 or reply.status == 402):
                self.idempotency.remember(key, idem, signature, reply)
                reply.headers["Idempotency-Key"] = idem
            return reply

    def _run(self, method: str, path: str, query: str, body: bytes, request_id: str,
             idem: str | None) -> Reply:
        store = self.account.store
        try:
            found = route(method, path)
            if found is None:
                raise wire.StripeError(404, "invalid_request_error",
                                       f"Unrecognized request URL ({method}: /v1/{path}).")
            handler, args = found
            params = wire.decode(query if method == "GET" else body.decode("utf-8", "replace"))
            with store.lock:
                self.requests += 1
                store.request = (request_id, idem)
                try:
                    result = handler(self.account, args, params)
                    result = store.expand(store.served(result) if "object" in result and "id" in result
                                          else result, wire.expansions(params))
                finally:
                    store.request = (None, None)
            return Reply.json(200, result, {"Request-Id": request_id, "Stripe-Version": "2023-08-16"})
        except wire.StripeError as error:
            return error.reply(request_id)


__all__ = ["Api", "ROUTES", "route"]
