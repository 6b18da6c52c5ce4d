"""The ``/v3`` request pipeline of the sandbox: authentication to the answer.

A ``/v3`` request goes through these steps; the first that answers ends it:

1. ``Authorization: Bearer <token>``: a static token, or one issued by the token endpoint
   and neither expired nor revoked → else 401 ``AuthenticationFault`` (3200);
2. the realm must be one of the sandbox's companies → else 403 ``AuthorizationFault``;
3. the rate limits of the realm (when ``rate_limit``) → else 429 throttle fault; the
   request then holds one of the realm's concurrency slots until it is answered;
4. ``latency`` seconds of sleep;
5. the first scripted fault matching the request, if any, is taken: a status or
   validation fault answers now; a timeout lets the request run and delays its answer; an
   ``answer`` fault lets it run and spoils its answer (JSON cut short, an HTML page 200);
6. the request itself: create/update or void (with ``requestid`` replay), delete, read or
   query. A query of a list entity (Customer, Item, Account, Vendor, TaxCode) whose WHERE
   names no ``Active`` answers active ones only, as QBO does (``SELECT * FROM Customer``
   "retrieves all active customers"); ``Active IN (true, false)`` or ``Active = false``
   reach the inactive ones.
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
import time
import uuid
from collections import deque
from collections.abc import Callable, Mapping
from typing import Any

from ledgerlink import jsonio
from ledgerlink.testing.sandbox import FaultScript, IdempotencyKeys, RateWindow, Reply, SandboxClock
from ledgerlink.testing.sandbox_oauth import OAuthServer, bearer

from . import faults, notify, query as qbo_query, query_eval
from .company import Company
from .entities import KINDS, VOIDABLE
from .faults import QboFault, ScriptedAnswer
from .reports import REPORTS

logger = logging.getLogger("ledgerlink_sandboxes.quickbooks")

#: the lowest minor version QBO serves: since August 2025 it ignores ``minorversion`` 1–74
#: and serves a request without one, or with one of those, as 75 (blogs.intuit.com
#: 2025-01-21 "Changes to our Accounting API"); the sandbox counts such requests
LOWEST_MINORVERSION = 75


class V3Api:
    """``/v3/company/<realm>/…``: the part of :class:`~.state.Sandbox` that answers the
    Accounting API. It reads the sandbox's state through the attributes below, which the
    sandbox sets up, and holds ``_lock`` whenever it touches a company, the stats or the log."""

    clock: SandboxClock
    oauth: OAuthServer
    rates: RateWindow
    faults: FaultScript[ScriptedAnswer]
    requestids: IdempotencyKeys
    latency: float | None
    retry_after: float | None
    _lock: threading.RLock
    _companies: dict[str, Company]
    _stats: dict[str, Any]
    _log: deque[dict[str, Any]]

    def _stamp(self, ms: bool = False) -> str:
        """Now on the sandbox's wall clock, as QBO stamps ``time`` and ``MetaData``."""
        when = dt.datetime.fromtimestamp(self.clock.wall(), tz=dt.timezone.utc)
        return when.isoformat(timespec="milliseconds" if ms else "seconds")

    def _today(self) -> str:
        return dt.datetime.fromtimestamp(self.clock.wall(), tz=dt.timezone.utc).date().isoformat()

    def handle_v3(self, method: str, realm: str, rest: str, args: Mapping[str, str],
                  headers: Mapping[str, str], body: bytes) -> Reply:
        """Answer ``METHOD /v3/company/<realm>/<rest>?<args>`` (see the module docstring).

        ``headers`` is looked up for ``Authorization`` (any case), ``body`` is the raw
        request body. Blocks for ``latency`` and scripted timeouts.
        """
        method = method.upper()
        parts = [p for p in rest.split("/") if p]
        entity = parts[0].lower() if parts else ""
        minorversion = args.get("minorversion")
        request_id = args.get("requestid")
        record = {"time": self._stamp(ms=True), "method": method,
                  "path": f"/v3/company/{realm}/{rest}", "realm": realm, "entity": entity,
                  "requestid": request_id, "minorversion": minorversion, "fault": None,
                  "replayed": False}
        with self._lock:
            self._stats["requests"] += 1
            if minorversion is None:
                self._stats["missing_minorversion"] += 1
            elif not minorversion.strip().isdigit() or int(minorversion) < LOWEST_MINORVERSION:
                self._stats["ignored_minorversion"] += 1  # served as 75, as QBO does
        authorization = next((v for k, v in headers.items() if k.lower() == "authorization"), None)
        reply = self._serve_v3(method, realm, parts, args, authorization, body, record)
        reply.headers.setdefault("intuit_tid", uuid.uuid4().hex)
        with self._lock:
            self._finish(record, reply)
        return reply

    def _finish(self, record: dict[str, Any], reply: Reply) -> None:
        record["status"] = reply.status
        key = str(reply.status)
        self._stats["by_status"][key] = self._stats["by_status"].get(key, 0) + 1
        self._log.append(record)
        logger.info("%s %s -> %d%s", record["method"], record["path"], reply.status,
                    f" ({record['fault']})" if record.get("fault") else "")

    def _serve_v3(self, method: str, realm: str, parts: list[str], args: Mapping[str, str],
                  authorization: str | None, body: bytes, record: dict[str, Any]) -> Reply:
        problem = self.oauth.access_problem(bearer(authorization))
        if problem is not None:
            return self._fault(faults.authentication(problem))
        with self._lock:
            company = self._companies.get(realm)
        if company is None:
            return self._fault(faults.authorization(realm))
        if not self.rates.admit(realm):
            record["fault"] = "throttled"
            return self._fault(faults.throttle(self.retry_after))
        try:
            if self.latency:
                time.sleep(self.latency)
            scripted = self.faults.take({"method": method, "entity": record["entity"], "realm": realm})
            if scripted is not None:
                record["fault"] = f"scripted {dict(scripted.spec)}"
                answer = scripted.answer
                if answer.timeout is None and answer.spoil is None:
                    return self._scripted(answer, method, realm, parts, args)
            reply = self._dispatch(method, company, parts, args, body, record)
            if scripted is not None and scripted.answer.timeout is not None:
                time.sleep(scripted.answer.timeout)  # committed already: the answer comes too late
            if scripted is not None and scripted.answer.spoil is not None:
                # committed already: the answer is spoiled on the wire, the requestid keeps it whole
                status, garbled, content_type = scripted.answer.garble(reply.status, reply.body,
                                                                       reply.content_type)
                return Reply(status, garbled, content_type, dict(reply.headers))
            return reply
        finally:
            self.rates.release(realm)

    def _scripted(self, scripted: ScriptedAnswer, method: str, realm: str, parts: list[str],
                  args: Mapping[str, str]) -> Reply:
        answer = scripted.answer(self.retry_after)
        if isinstance(answer, tuple):  # a gateway's HTML page
            status, page = answer
            headers = {}
            if scripted.gateway_retry_after is not None:
                headers["Retry-After"] = scripted.gateway_retry_after
            return Reply(status, page.encode("utf-8"), "text/html; charset=utf-8", headers)
        reply = self._fault(answer)
        request_id = args.get("requestid")
        if (scripted.fault == "validation" and request_id is not None and method == "POST"
                and len(parts) == 1 and parts[0].lower() in KINDS):
            self.requestids.remember(realm, request_id, b"", reply)  # a refusal is kept as QBO keeps it
        return reply

    def _dispatch(self, method: str, company: Company, parts: list[str],
                  args: Mapping[str, str], body: bytes, record: dict[str, Any]) -> Reply:
        path = "/".join(parts)
        entity = parts[0].lower() if parts else ""
        if entity == "cdc" and len(parts) == 1 and method == "GET":
            with self._lock:
                try:
                    body = notify.cdc(company, company.changes, args.get("entities"), args.get("changedSince"),
                                      dt.datetime.fromtimestamp(self.wall(), tz=dt.timezone.utc), KINDS)
                except QboFault as fault:
                    return self._fault(fault)
                return self._json(200, {**body, "time": self._stamp(ms=True)})
        if entity == "query" and len(parts) == 1 and method in ("GET", "POST"):
            text = args.get("query")
            if text is None and method == "POST":
                text = body.decode("utf-8", errors="replace")
            return self._query(company, text or "")
        if entity == "reports" and len(parts) == 2 and method == "GET" and parts[1] in REPORTS:
            with self._lock:
                try:
                    report = REPORTS[parts[1]](company.ledger, company.tables["account"], args,
                                               self._stamp(), self._today())
                except QboFault as fault:
                    return self._fault(fault)
                return self._json(200, report)
        kind = KINDS.get(entity)
        if kind is None:
            return self._fault(faults.unsupported(f"/v3/company/{company.realm}/{path}"))
        if entity == "preferences" and len(parts) == 1 and method == "GET":
            with self._lock:
                return self._json(200, {"Preferences": company.get(entity, "1"),
                                        "time": self._stamp(ms=True)})
        if method == "GET" and len(parts) == 2:
            with self._lock:
                found = company.get(entity, parts[1])
                if found is None:
                    return self._fault(faults.not_found(kind.name, parts[1]))
                return self._json(200, {kind.name: found, "time": self._stamp(ms=True)})
        operation = args.get("operation")
        if (method == "POST" and len(parts) == 1 and kind.writable
                and operation in (None, "update")):
            return self._write(company, entity, args.get("requestid"), body, record)
        if method == "POST" and len(parts) == 1 and kind.writable and operation == "delete":
            return self._delete(company, entity, body)
        if method == "POST" and len(parts) == 1 and entity in VOIDABLE and operation == "void":
            return self._void(company, entity, args.get("requestid"), body, record)
        return self._fault(faults.unsupported(f"/v3/company/{company.realm}/{path}"
                                              + (f"?operation={operation}" if operation else "")))

    def _replayed(self, company: Company, request_id: str | None, body: bytes, record: dict[str, Any],
                  apply: Callable[[Any], Reply]) -> Reply:
        """A write under ``requestid``: the first answer replayed byte for byte, errors too;
        otherwise ``apply(parsed body)`` (a QboFault becomes the answer) and its answer kept."""
        with self._lock:
            if request_id is not None:
                stored = self.requestids.lookup(company.realm, request_id, body)
                if stored is not None and stored.reply is not None:
                    record["replayed"] = True
                    return stored.reply
            try:
                try:
                    parsed = jsonio.loads(body)
                except (jsonio.JSONDecodeError, UnicodeDecodeError) as exc:
                    raise faults.validation(
                        "Request has invalid or unsupported property", "2010",
                        f"Property Name:{exc} specified is unsupported or invalid", "") from None
                reply = apply(parsed)
            except QboFault as fault:
                reply = self._fault(fault)
            if request_id is not None:
                self.requestids.remember(company.realm, request_id, body, reply)
            return reply

    def _write(self, company: Company, entity: str, request_id: str | None, body: bytes,
               record: dict[str, Any]) -> Reply:
        def write(parsed: Any) -> Reply:
            stored_entity, created = company.write(entity, parsed, self._stamp(), self._today())
            counts = self._stats["created" if created else "updated"].setdefault(company.realm, {})
            counts[entity] = counts.get(entity, 0) + 1
            return self._json(200, {KINDS[entity].name: stored_entity, "time": self._stamp(ms=True)})

        return self._replayed(company, request_id, body, record, write)

    def _void(self, company: Company, entity: str, request_id: str | None, body: bytes,
              record: dict[str, Any]) -> Reply:
        def void(parsed: Any) -> Reply:
            before = company.get(entity, str(parsed.get("Id"))) if isinstance(parsed, dict) else None
            token = before["SyncToken"] if before else None
            voided = company.void(entity, parsed, self._stamp())
            if voided["SyncToken"] != token:
                counts = self._stats["voided"].setdefault(company.realm, {})
                counts[entity] = counts.get(entity, 0) + 1
            return self._json(200, {KINDS[entity].name: voided, "time": self._stamp(ms=True)})

        return self._replayed(company, request_id, body, record, void)

    def _delete(self, company: Company, entity: str, body: bytes) -> Reply:
        with self._lock:
            try:
                try:
                    parsed = jsonio.loads(body)
                except (jsonio.JSONDecodeError, UnicodeDecodeError):
                    parsed = None
                deleted = company.delete(entity, parsed, self._stamp())
                counts = self._stats.setdefault("deleted", {}).setdefault(company.realm, {})
                counts[entity] = counts.get(entity, 0) + 1
                return self._json(200, {KINDS[entity].name: deleted, "time": self._stamp(ms=True)})
            except QboFault as fault:
                return self._fault(fault)

    def _query(self, company: Company, text: str) -> Reply:
        try:
            parsed = qbo_query.parse(text)
            kind = KINDS.get(parsed.entity.lower())
            if kind is None:
                raise faults.query_invalid(f"{parsed.entity} is not a queryable entity; the "
                                           f"sandbox serves {', '.join(k.name for k in KINDS.values())}")
            parsed.entity = kind.name
            with self._lock:
                rows = company.all(kind.name.lower())
                if not kind.transaction and not any(
                        condition.path[-1].lower() == "active" for condition in parsed.where):
                    rows = [row for row in rows if row.get("Active") is not False]
                result = query_eval.run(parsed, rows)
                return self._json(200, {"QueryResponse": result, "time": self._stamp(ms=True)})
        except QboFault as fault:
            return self._fault(fault)

    # --- replies ----------------------------------------------------------------------
    def _json(self, status: int, body: Any, headers: Mapping[str, str] | None = None) -> Reply:
        return Reply.json(status, body, headers)

    def _fault(self, fault: QboFault) -> Reply:
        return self._json(fault.status, fault.body(self._stamp(ms=True)), fault.headers)


__all__ = ["LOWEST_MINORVERSION", "V3Api"]
