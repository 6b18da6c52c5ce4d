"""The sandbox's state and its request pipeline, independent of any web framework.

:class:`Sandbox` holds every company, token, counter and scripted fault in memory behind
one lock, so the many worker threads of waitress may call it at once. The Flask app in
:mod:`.app` only translates HTTP to :meth:`Sandbox.handle_v3`,
:meth:`Sandbox.token_endpoint` and the inspection methods, and back.

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

import copy
import datetime as dt
import logging
import threading
import time
import uuid
from collections import deque
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from ledgerlink import jsonio
from ledgerlink.testing.sandbox import (FaultScript, IdempotencyKeys, RateWindow, Reply,
                                        SandboxClock, seconds)
from ledgerlink.testing.sandbox_oauth import OAuthServer, bearer
from ledgerlink.testing.sandbox_webhooks import WebhookEmitter

from . import faults, notify, query as qbo_query
from .company import KINDS, VOIDABLE, Company
from .faults import QboFault, ScriptedAnswer

logger = logging.getLogger("ledgerlink_sandboxes.quickbooks")

DEFAULT_REALM = "9130350000000000"
DEFAULT_ACCESS_TOKEN = "sandbox-access-token"
#: an authorization code the token endpoint always accepts (issued codes are single-use)
DEFAULT_CODE = "sandbox-code"
DEFAULT_CLIENT_ID = "sandbox-client"
DEFAULT_CLIENT_SECRET = "sandbox-secret"
#: seconds an access token lives, and a refresh token (Intuit's OAuth 2.0 FAQ: 1 h, ~100 days)
ACCESS_TOKEN_SECONDS = 3600
REFRESH_TOKEN_SECONDS = 8726400
#: the request log keeps this many of the latest requests
LOG_SIZE = 1000

#: the lowest minor version QBO serves: since August 2025 it ignores ``minorversion`` 1–74
#: and serves a request without one, or with one of those, as 75 (blogs.intuit.com
#: 2025-01-21 "Changes to our Accounting API"); the sandbox counts such requests
LOWEST_MINORVERSION = 75


def _tuple(value: Any, what: str) -> tuple[str, ...]:
    items = (value,) if isinstance(value, str) else tuple(value)
    if not all(isinstance(v, str) and v.strip() for v in items):
        raise ValueError(f"{what} must be non-empty strings, got {value!r}")
    return items


def _count(value: Any, what: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ValueError(f"{what} must be an integer of at least 1, got {value!r}")
    return value


class Sandbox:
    """An imitation of QuickBooks Online's Accounting API v3 and OAuth token endpoint.

    Build it through :func:`ledgerlink_sandboxes.quickbooks.create_sandbox`, which documents
    the options. Every public method is thread-safe.
    """

    def __init__(self, *, rate_limit: bool = True, requests_per_window: int = 500,
                 window_seconds: float = 60.0, concurrent: int = 10,
                 retry_after: float | None = None, realms: Iterable[str] = (DEFAULT_REALM,),
                 access_tokens: Iterable[str] = (DEFAULT_ACCESS_TOKEN,),
                 client_id: str = DEFAULT_CLIENT_ID, client_secret: str = DEFAULT_CLIENT_SECRET,
                 latency: float = 0.0, clock: Callable[[], float] = time.monotonic,
                 wall_clock: Callable[[], float] = time.time, webhook_url: str | None = None,
                 webhook_verifier_token: str | None = None, webhook_format: str = "legacy",
                 webhook_retry_seconds: Any = None) -> None:
        if not isinstance(rate_limit, bool):
            raise ValueError(f"rate_limit must be true or false, got {rate_limit!r}")
        self.retry_after = seconds(retry_after, "retry_after", allow_none=True)
        self.realms = _tuple(realms, "realms")
        if not self.realms:
            raise ValueError("realms must name at least one company (realm id)")
        self.latency = seconds(latency, "latency")
        self.clock = SandboxClock(clock, wall_clock)
        self.rates = RateWindow(self.clock, _count(requests_per_window, "requests_per_window"),
                                seconds(window_seconds, "window_seconds", positive=True) or 0.0,
                                _count(concurrent, "concurrent"), enforce=rate_limit)
        #: QBO replays a ``requestid``'s first answer whatever the body sent with it again
        self.requestids = IdempotencyKeys(compare_bodies=False)
        self.faults: FaultScript[ScriptedAnswer] = FaultScript()
        self.oauth = OAuthServer(self.clock, _tuple(client_id, "client_id")[0],
                                 _tuple(client_secret, "client_secret")[0],
                                 static_tokens=_tuple(access_tokens, "access_tokens"),
                                 standing_code=DEFAULT_CODE, access_seconds=ACCESS_TOKEN_SECONDS,
                                 refresh_seconds=REFRESH_TOKEN_SECONDS,
                                 token_fields={"x_refresh_token_expires_in": REFRESH_TOKEN_SECONDS})
        self._lock = threading.RLock()
        self._emitter: WebhookEmitter[notify.Change] | None = None
        self._webhook_format = "legacy"
        self.reset()
        if webhook_url:
            self.webhooks(webhook_url, webhook_verifier_token, webhook_format, webhook_retry_seconds)

    @property
    def client_id(self) -> str:
        return self.oauth.client_id

    # --- clocks ---------------------------------------------------------------------
    def now(self) -> float:
        """The sandbox clock (``clock`` + :meth:`advance`): rate windows and token expiry."""
        return self.clock.now()

    def wall(self) -> float:
        """Unix time (``wall_clock`` + :meth:`advance`): timestamps in bodies and the log."""
        return self.clock.wall()

    def _stamp(self, ms: bool = False) -> str:
        when = dt.datetime.fromtimestamp(self.wall(), tz=dt.timezone.utc)
        return when.isoformat(timespec="milliseconds" if ms else "seconds")

    def _today(self) -> str:
        return dt.datetime.fromtimestamp(self.wall(), tz=dt.timezone.utc).date().isoformat()

    def advance(self, seconds: float) -> None:
        """Move both clocks forward by ``seconds``: expire tokens, slide rate windows."""
        self.clock.advance(seconds)

    # --- inspection and control (tests only) -----------------------------------------
    def reset(self, *, tokens: bool = False) -> None:
        """Back to the seeded companies; stats, log, scripted faults, ``requestid`` answers
        and rate windows cleared. Issued tokens survive unless ``tokens=True``."""
        with self._lock:
            stamp = self._stamp()
            self._companies = {realm: self._company(realm, stamp) for realm in self.realms}
            self.rates.reset()
            self.requestids.reset()
            self.faults.reset()
            self._log: deque[dict[str, Any]] = deque(maxlen=LOG_SIZE)
            self._stats: dict[str, Any] = {
                "requests": 0, "by_status": {},
                "missing_minorversion": 0, "ignored_minorversion": 0,
                "created": {realm: {} for realm in self.realms},
                "updated": {realm: {} for realm in self.realms},
                "voided": {realm: {} for realm in self.realms},
            }
            if tokens:
                self.oauth.reset()

    def _company(self, realm: str, stamp: str) -> Company:
        company = Company(realm, stamp)
        company.listener = self._notify
        return company

    def _notify(self, change: notify.Change) -> None:
        emitter = self._emitter
        if emitter is not None:
            emitter.notify(change)

    def webhooks(self, url: str | None, verifier_token: str | None = None, format: str = "legacy",
                 retry_seconds: Any = None, batch: int = 30) -> dict[str, Any]:
        """Send webhook notifications of every later change to ``url`` (None: stop), signed
        with ``verifier_token``, in the ``legacy`` or ``cloudevents`` format, retried on
        ``retry_seconds`` (QBO's schedule by default). Returns the emitter's stats."""
        with self._lock:
            old, self._emitter = self._emitter, None
        if old is not None:
            old.stop()
        if not url:
            return {"webhooks": None}
        if not verifier_token:
            raise ValueError("webhooks need a verifier_token to sign with")
        schedule = notify.RETRY_SCHEDULE if retry_seconds is None else tuple(
            seconds(v, "retry_seconds") or 0.0
            for v in (retry_seconds if isinstance(retry_seconds, (list, tuple)) else [retry_seconds]))
        emitter = notify.emitter(url, verifier_token, format, batch=batch, retry_schedule=schedule)
        with self._lock:
            self._emitter, self._webhook_format = emitter, format
        return self.webhook_stats()

    def webhook_stats(self) -> dict[str, Any]:
        """The emitter's counters (posts, acknowledged, failed_attempts, notified, pending)."""
        emitter = self._emitter
        if emitter is None:
            return {"webhooks": None}
        return {"webhooks": emitter.url, "format": self._webhook_format, **emitter.stats,
                "pending": emitter.pending()}

    def add_realm(self, realm: str) -> None:
        """Add a seeded company (no-op when it exists)."""
        realm = _tuple(realm, "realm")[0]
        with self._lock:
            if realm in self._companies:
                return
            self.realms = self.realms + (realm,)
            self._companies[realm] = self._company(realm, self._stamp())
            self._stats["created"][realm] = {}
            self._stats["updated"][realm] = {}
            self._stats["voided"][realm] = {}

    def stats(self) -> dict[str, Any]:
        """Counters since the last reset, as a copy.

        ``requests`` (``/v3`` and token endpoint), ``by_status`` (``{"200": n, …}``),
        ``throttled`` (429s from the sandbox's own limits; scripted ones are only in
        ``by_status``), ``max_concurrent_seen`` and ``per_window_max`` (``{realm: n}``,
        measured even when ``rate_limit`` is off), ``missing_minorversion``,
        ``ignored_minorversion`` (below 75 or not a number; both served as 75),
        ``created``, ``updated`` and ``voided`` (``{realm: {entity: n}}``, entity lower-case
        as in the URL; a second void of the same entity is not counted), ``replayed``
        (``requestid`` replays), ``faults_injected``, ``faults_pending`` and ``in_progress``
        (``{realm: n}``).
        """
        rates, in_progress = self.rates, self.rates.in_progress()
        with self._lock:
            out = copy.deepcopy(self._stats)
            out.update({
                "throttled": rates.throttled,
                "max_concurrent_seen": {r: rates.max_concurrent_seen.get(r, 0) for r in self.realms},
                "per_window_max": {r: rates.per_window_max.get(r, 0) for r in self.realms},
                "replayed": self.requestids.replayed,
                "faults_injected": self.faults.injected,
                "faults_pending": len(self.faults.pending()),
                "in_progress": {r: in_progress.get(r, 0) for r in self.realms},
            })
            return out

    def requests(self) -> list[dict[str, Any]]:
        """The latest requests (at most ``LOG_SIZE``), oldest first: method, path, realm,
        entity, requestid, minorversion, status, fault, replayed, time."""
        with self._lock:
            return [dict(entry) for entry in self._log]

    def entities(self, realm: str, entity: str) -> list[dict[str, Any]]:
        """Every ``entity`` (endpoint name, any case) of ``realm``, seeded ones included,
        in creation order; copies. Raises ``KeyError`` for an unknown realm or entity."""
        name = entity.lower()
        with self._lock:
            company = self._companies.get(realm)
            if company is None:
                raise KeyError(f"no company (realm) {realm!r}; the sandbox has "
                               f"{', '.join(self.realms)}")
            if name not in KINDS:
                raise KeyError(f"no entity {entity!r}; the sandbox keeps {', '.join(KINDS)}")
            return copy.deepcopy(company.all(name))

    def script(self, faults_: Any) -> int:
        """Queue scripted faults (see :func:`.faults.parse_script`); returns how many are
        queued now. Raises ``ValueError`` on a bad spec, queueing none of them."""
        return self.faults.add(faults.parse_script(faults_))

    def pending_faults(self) -> list[dict[str, Any]]:
        """The scripted faults not yet consumed, as given."""
        return self.faults.pending()

    def clear_faults(self) -> None:
        self.faults.clear()

    # --- OAuth ----------------------------------------------------------------------
    def authorize(self, realm: str | None = None, redirect_uri: str | None = None) -> str:
        """Issue a single-use authorization code for ``realm`` (default: the first), as
        Intuit's consent screen would; ``redirect_uri``, when given, must be sent again
        with the code. Tokens are good for every realm of the sandbox."""
        realm = realm or self.realms[0]
        if realm not in self._companies:
            raise KeyError(f"no company (realm) {realm!r}")
        return self.oauth.authorize(redirect_uri)

    def revoke(self, token: str, *, grant: bool = False) -> bool:
        """Invalidate an issued refresh or access token (with ``grant=True``: every token of
        the same authorization). Static access tokens cannot be revoked. True if found."""
        return self.oauth.revoke(token, grant=grant)

    def userinfo(self, authorization: str | None) -> dict[str, str] | None:
        """What ``GET /v1/openid_connect/userinfo`` answers for ``Authorization: Bearer …``:
        ``{"sub": <the authorization's id>}``, or None when the token is refused as a
        ``/v3`` call would refuse it. (Tokens are good for every realm, so none is named.)"""
        token = bearer(authorization)
        grant = self.oauth.grant_of(token) if token is not None else None
        return None if grant is None else {"sub": grant}

    def client_ok(self, authorization: str | None) -> bool:
        """True when ``authorization`` is HTTP Basic with this sandbox's client id and secret."""
        return self.oauth.client_ok(authorization)

    def token_endpoint(self, form: Mapping[str, str], authorization: str | None) -> Reply:
        """``POST /oauth2/v1/tokens/bearer``: the authorization-code and refresh grants
        (:class:`~ledgerlink.testing.sandbox_oauth.OAuthServer`), counted and logged."""
        reply = self.oauth.token_endpoint(form, authorization)
        with self._lock:
            self._stats["requests"] += 1
            self._finish({"time": self._stamp(ms=True), "method": "POST",
                          "path": "/oauth2/v1/tokens/bearer", "realm": None,
                          "entity": "oauth2", "requestid": None, "minorversion": None,
                          "fault": None, "replayed": False,
                          "grant_type": form.get("grant_type")}, reply)
        return reply

    # --- /v3 --------------------------------------------------------------------------
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
        kind = KINDS.get(entity)
        if kind is None:
            return self._fault(faults.unsupported(f"/v3/company/{company.realm}/{path}"))
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
                result = qbo_query.run(parsed, rows)
                return self._json(200, {"QueryResponse": result, "time": self._stamp(ms=True)})
        except QboFault as fault:
            return self._fault(fault)

    # --- replies ----------------------------------------------------------------------
    def _json(self, status: int, body: Any, headers: Mapping[str, str] | None = None) -> Reply:
        return Reply.json(status, body, headers)

    def _fault(self, fault: QboFault) -> Reply:
        return self._json(fault.status, fault.body(self._stamp(ms=True)), fault.headers)


__all__ = ["DEFAULT_ACCESS_TOKEN", "DEFAULT_CLIENT_ID", "DEFAULT_CLIENT_SECRET", "DEFAULT_CODE",
           "DEFAULT_REALM", "Sandbox"]
