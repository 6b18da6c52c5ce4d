"""The Accounting API's door: authentication, tenant, limits, idempotency, then the entity.

Every ``/api.xro/2.0/…`` request passes, in order (https://developer.xero.com/documentation/
guides/oauth2/limits/, …/guides/idempotent-requests/idempotency/):

1. ``Authorization: Bearer`` → else 401 (:func:`.errors.unauthorized`);
2. ``xero-tenant-id`` naming a tenant the token reaches → else 403;
3. the limits: 10,000 a minute for the app, 5,000 a day (sliding 24 h here; Xero's day is
   fixed), 60 a minute and 5 in progress per tenant → else 429 with ``X-Rate-Limit-Problem``
   (``appminute``, ``day``, ``minute``, ``concurrent``) and, for minute and day, ``Retry-After``
   (seconds until a slot frees). A refused request creates nothing. Every answer, a 429 too,
   carries ``X-MinLimit-Remaining``, ``X-DayLimit-Remaining`` and ``X-AppMinLimit-Remaining``;
4. ``Idempotency-Key`` on PUT/POST (ignored on GET): the same key with the same method, URL
   and body within six minutes on the sandbox clock gets the first answer again, errors
   included, and creates nothing; with another method, URL or body → 400. Replays count
   against the limits, as Xero counts them;
5. the entity's handler (:mod:`.entities`, or a report of :mod:`.reports`); its answer is
   checked against Xero's strict spec
   (:mod:`.spec`) before it leaves — an answer that does not validate is the sandbox's bug and
   becomes a 500 naming the problems, so tests cannot miss it;
6. a 200 envelope then carries what every Xero answer carries around its collection (the
   response examples of Xero's OpenAPI, e.g. getInvoices): ``Id`` (the answer's own uuid),
   ``Status`` ``OK``, ``ProviderName`` (the app's name) and ``DateTimeUTC`` (Xero's clock,
   ``/Date(ms)/``) — fields the spec's envelope schemas do not declare, so they are checked
   here (:func:`envelope_problems`) and the collection against the spec.
"""

from __future__ import annotations

import re
import time
import uuid
from collections.abc import Mapping
from typing import Any

from ledgerlink.testing.sandbox import Reply, retry_after_header

from . import banking, contacts, credit_notes, entities, errors, invoices, journals, payments, reports, settings, spec
from .state import Sandbox

#: the collections served (each module registers its own with :mod:`.entities`)
COLLECTIONS = (contacts.CONTACTS, settings.ACCOUNTS, settings.CURRENCIES, settings.TAX_RATES, settings.ITEMS,
               invoices.INVOICES, payments.PAYMENTS, journals.MANUAL_JOURNALS, banking.BANK_TRANSACTIONS,
               banking.BANK_TRANSFERS, credit_notes.CREDIT_NOTES)

#: the response schema of each collection's envelope, and of one of its elements
SINGULAR = {"Accounts": "Account", "Contacts": "Contact", "Currencies": "Currency", "Invoices": "Invoice",
            "Items": "Item", "Payments": "Payment", "TaxRates": "TaxRate", "Organisations": "Organisation",
            "ManualJournals": "ManualJournal", "CreditNotes": "CreditNote",
            "BankTransactions": "BankTransaction", "BankTransfers": "BankTransfer"}
#: the schema of an answer that is not a collection's envelope, by its one key
ANSWERS = {"Reports": reports.SCHEMA}


#: what Xero writes around every collection it answers (its examples: ``Id``, ``Status``,
#: ``ProviderName``, ``DateTimeUTC``), in that order
ENVELOPE_FIELDS = ("Id", "Status", "ProviderName", "DateTimeUTC")
#: the app's name Xero puts in ``ProviderName``
PROVIDER_NAME = "ledgerlink sandbox app"
_UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")
#: ``DateTimeUTC`` as Xero writes it in an envelope: milliseconds, no offset
_MS_DATE_TIME = re.compile(r"^/Date\(\d+\)/$")


def envelope_problems(body: dict[str, Any]) -> list[str]:
    """Why the envelope fields of ``body`` are not as Xero writes them ([] when they are)."""
    found = []
    if not isinstance(body.get("Id"), str) or not _UUID.match(body["Id"]):
        found.append(f"Id: {body.get('Id')!r} is not a uuid")
    if body.get("Status") != "OK":
        found.append(f"Status: {body.get('Status')!r} is not 'OK'")
    if not isinstance(body.get("ProviderName"), str) or not body["ProviderName"]:
        found.append(f"ProviderName: {body.get('ProviderName')!r} is not the app's name")
    if not isinstance(body.get("DateTimeUTC"), str) or not _MS_DATE_TIME.match(body["DateTimeUTC"]):
        found.append(f"DateTimeUTC: {body.get('DateTimeUTC')!r} is not /Date(ms)/")
    return found


def _enveloped(sandbox: Sandbox, reply: Reply) -> Reply:
    """``reply`` with Xero's envelope fields around its collection, when it is a 200 envelope."""
    if reply.status != 200 or not reply.content_type.startswith("application/json") or not reply.body:
        return reply
    body = reply.parsed()
    if not isinstance(body, dict) or not any(key in SINGULAR or key == "Allocations" for key in body):
        return reply
    wrapped = {"Id": str(uuid.uuid4()), "Status": "OK", "ProviderName": PROVIDER_NAME,
               "DateTimeUTC": f"/Date({int(sandbox.clock.wall() * 1000)})/", **body}
    return Reply.json(200, wrapped, {k: v for k, v in reply.headers.items() if k.lower() != "content-type"})


def _throttled(sandbox: Sandbox, tenant: str) -> Reply | None:
    """None when the request is admitted by every window (then released by :func:`_release`),
    else Xero's 429."""
    if not sandbox.app_minute.admit("app"):
        return errors.too_many("appminute", retry_after_header(sandbox.app_minute.retry_in("app")))
    if not sandbox.day.admit(tenant):
        sandbox.app_minute.release("app")
        return errors.too_many("day", retry_after_header(sandbox.day.retry_in(tenant)))
    busy = sandbox.minute.in_progress().get(tenant, 0) >= sandbox.minute.concurrent
    if not sandbox.minute.admit(tenant):
        sandbox.app_minute.release("app")
        sandbox.day.release(tenant)
        if busy:
            return errors.too_many("concurrent", None)
        return errors.too_many("minute", retry_after_header(sandbox.minute.retry_in(tenant)))
    return None


def _remaining(sandbox: Sandbox, tenant: str) -> dict[str, str]:
    """What is left of each limit, as every answer of Xero's says it
    (https://developer.xero.com/faq/limits: "Each API response you receive will include…")."""
    return {"X-MinLimit-Remaining": str(sandbox.minute.remaining(tenant)),
            "X-DayLimit-Remaining": str(sandbox.day.remaining(tenant)),
            "X-AppMinLimit-Remaining": str(sandbox.app_minute.remaining("app"))}


def _release(sandbox: Sandbox, tenant: str) -> None:
    sandbox.minute.release(tenant)
    sandbox.day.release(tenant)
    sandbox.app_minute.release("app")


def _checked(reply: Reply) -> Reply:
    """``reply`` when its JSON body is what Xero's strict spec says it is, else a 500."""
    if not reply.content_type.startswith("application/json") or not reply.body:
        return reply
    body = reply.parsed()
    found: list[str] = []
    if reply.status == 400 and isinstance(body, dict) and body.get("Type") == "ValidationException":
        found = spec.problems("Error", {**body, "Elements": []})
        kind = reply.headers.get("X-Sandbox-Element", "")
        for element in body.get("Elements") or []:  # echoed as sent: a required field may be absent
            found += [problem for problem in (spec.problems(kind, element) if kind else [])
                      if not problem.endswith("is a required property")]
    elif reply.status == 200 and isinstance(body, dict):  # an envelope: {"<Collection>": [...]}
        collections = [key for key in body if key != "pagination"]
        if len(collections) == 1:
            found = spec.problems(ANSWERS.get(collections[0], collections[0]), body)
    reply.headers.pop("X-Sandbox-Element", None)
    if found:
        return Reply.json(500, {"sandbox_error": "answer does not match Xero's spec", "problems": found})
    return reply


def handle(sandbox: Sandbox, method: str, path: str, args: Mapping[str, str], headers: Mapping[str, str],
           body: bytes, full_path: str) -> Reply:
    """The answer to ``method /api.xro/2.0/<path>`` (``headers`` with lower-case names)."""
    entry: dict[str, Any] = {"method": method, "path": "/" + path, "query": dict(args)}
    reached = sandbox.identity.tenants_of(headers.get("authorization"))
    tenant = headers.get("xero-tenant-id", "").strip().lower()
    entry["tenant"] = tenant or None
    if reached is None:
        reply = errors.unauthorized()
    elif not tenant or tenant not in {t.tenant_id for t in reached} or tenant not in sandbox.orgs:
        reply = errors.forbidden()
    else:
        reply = _admitted(sandbox, tenant, method, path, args, headers, body, full_path, entry)
    entry["status"] = reply.status
    sandbox.log(entry)
    sandbox.count(f"{method} {path.split('/')[0]}")
    return reply


def _admitted(sandbox: Sandbox, tenant: str, method: str, path: str, args: Mapping[str, str],
              headers: Mapping[str, str], body: bytes, full_path: str, entry: dict[str, Any]) -> Reply:
    refused = _throttled(sandbox, tenant)
    if refused is not None:  # Xero's every answer says what is left, a 429's too
        refused.headers.update(_remaining(sandbox, tenant))
        return refused
    try:
        key = headers.get("idempotency-key") if method in ("PUT", "POST") else None
        material = f"{method} {full_path}\n".encode() + body
        with sandbox.keys.held(tenant, key):  # a retry sent meanwhile waits, then is replayed
            kept = sandbox.keys.lookup(tenant, key, material) if key is not None else None
            if key is not None:
                entry["idempotency_key"] = key
            if kept is not None and kept.conflict:
                reply = errors.bad_request(f"Idempotency Key: {key} is used with a different request")
            elif kept is not None and kept.reply is not None:
                entry["replayed"] = True
                reply = kept.reply
            else:
                if sandbox.latency:  # the time Xero takes to handle a request
                    time.sleep(sandbox.latency)
                reply = _enveloped(sandbox, _checked(entities.dispatch(sandbox.orgs[tenant], method, path, args,
                                                                       body, headers)))
                if key is not None:
                    sandbox.keys.remember(tenant, key, material, reply)
        reply = reply.copy()
        reply.headers.update(_remaining(sandbox, tenant))
        reply.headers.setdefault("Xero-Correlation-Id", str(uuid.uuid4()))
        return reply
    finally:
        _release(sandbox, tenant)


__all__ = ["ENVELOPE_FIELDS", "PROVIDER_NAME", "SINGULAR", "envelope_problems", "handle"]
