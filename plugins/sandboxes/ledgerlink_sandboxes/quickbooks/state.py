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

import base64
import binascii
import copy
import datetime as dt
import logging
import math
import secrets
import threading
import time
import uuid
from collections import deque
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from ledgerlink import jsonio

from . import faults, notify, query as qbo_query
from .company import KINDS, VOIDABLE, Company, Stored
from .faults import QboFault, Scripted

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

JSON_TYPE = "application/json;charset=UTF-8"
#: the lowest minor version QBO serves: since August 2025 it ignores ``minorversion`` 1–74
#: and serves a request without one, or with one of those, as 75 (blogs.intuit.com
#: 2025-01-21 "Changes to our Accounting API"); the sandbox counts such requests
LOWEST_MINORVERSION = 75


@dataclass
class Reply:
    """An HTTP answer: status, body bytes, content type and extra headers."""

    status: int
    body: bytes
    content_type: str = JSON_TYPE
    headers: dict[str, str] = field(default_factory=dict)

    def json(self) -> Any:
        """The body parsed (numbers as Decimal), for in-process callers."""
        return jsonio.loads(self.body) if self.body else None


@dataclass
class _Token:
    expires_at: float | None  # on the sandbox clock; None = never
    grant: str


@dataclass
class _Code:
    redirect_uri: str | None
    realm: str


@dataclass
class _Limits:
    """One realm's sliding window (times of admitted requests) and requests in progress."""

    window: deque = field(default_factory=deque)
    in_progress: int = 0


def _tuple(value: Any, what: str) -> tuple[str, ...]:
    items = (value,) if isinstance(value, str) else tuple(value)
    if not all(isinstance(v, str) and v.strip() for v in items):
        raise ValueError(f"{what} must be non-empty strings, got {value!r}")
    return items


def _seconds(value: Any, what: str, *, allow_none: bool = False, positive: bool = False) -> float | None:
    """A number of seconds; a Decimal (``ledgerlink sandbox --set latency=0.05``) is fine."""
    if value is None and allow_none:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float, Decimal)) or not (
            math.isfinite(value)) or value < 0 or (positive and value == 0):
        raise ValueError(f"{what} must be a {'positive' if positive else 'non-negative'} number "
                         f"of seconds, got {value!r}")
    return float(value)


def _count(value: Any, what: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ValueError(f"{what} must be an integer of at least 1, got {value!r}")
    return value


def _bearer(header: str | None) -> str | None:
    if not header:
        return None
    scheme, _, token = header.strip().partition(" ")
    if scheme.lower() != "bearer":
        return None
    return token.strip() or None


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
        self.rate_limit = rate_limit
        self.requests_per_window = _count(requests_per_window, "requests_per_window")
        self.window_seconds = _seconds(window_seconds, "window_seconds", positive=True)
        self.concurrent = _count(concurrent, "concurrent")
        self.retry_after = _seconds(retry_after, "retry_after", allow_none=True)
        self.realms = _tuple(realms, "realms")
        if not self.realms:
            raise ValueError("realms must name at least one company (realm id)")
        self.static_tokens = frozenset(_tuple(access_tokens, "access_tokens"))
        self.client_id = _tuple(client_id, "client_id")[0]
        self.client_secret = _tuple(client_secret, "client_secret")[0]
        self.latency = _seconds(latency, "latency")
        if not callable(clock) or not callable(wall_clock):
            raise ValueError("clock and wall_clock must be functions returning seconds")
        self._clock = clock
        self._wall_clock = wall_clock
        self._offset = 0.0
        self._lock = threading.RLock()
        self._access: dict[str, _Token] = {}
        self._refresh: dict[str, _Token] = {}
        self._codes: dict[str, _Code] = {}
        self._emitter: notify.Emitter | None = None
        self.reset()
        if webhook_url:
            self.webhooks(webhook_url, webhook_verifier_token, webhook_format, webhook_retry_seconds)

    # --- clocks ---------------------------------------------------------------------
    def now(self) -> float:
        """The sandbox clock (``clock`` + :meth:`advance`): rate windows and token expiry."""
        return self._clock() + self._offset

    def wall(self) -> float:
        """Unix time (``wall_clock`` + :meth:`advance`): timestamps in bodies and the log."""
        return self._wall_clock() + self._offset

    def _stamp(self, ms: bool = False) -> str:
        when = dt.datetime.fromtimestamp(self.wall(), tz=dt.timezone.utc)
        return when.isoformat(timespec="milliseconds" if ms else "seconds")

    def _today(self) -> str:
        return dt.datetime.fromtimestamp(self.wall(), tz=dt.timezone.utc).date().isoformat()

    def advance(self, seconds: float) -> None:
        """Move both clocks forward by ``seconds``: expire tokens, slide rate windows."""
        seconds = _seconds(seconds, "seconds")
        with self._lock:
            self._offset += seconds

    # --- inspection and control (tests only) -----------------------------------------
    def reset(self, *, tokens: bool = False) -> None:
        """Back to the seeded companies; stats, log, scripted faults, ``requestid`` answers
        and rate windows cleared. Issued tokens survive unless ``tokens=True``."""
        with self._lock:
            stamp = self._stamp()
            self._companies = {realm: self._company(realm, stamp) for realm in self.realms}
            self._limits = {realm: _Limits() for realm in self.realms}
            self._faults: list[Scripted] = []
            self._log: deque[dict[str, Any]] = deque(maxlen=LOG_SIZE)
            self._stats: dict[str, Any] = {
                "requests": 0, "by_status": {}, "throttled": 0,
                "max_concurrent_seen": {realm: 0 for realm in self.realms},
                "per_window_max": {realm: 0 for realm in self.realms},
                "missing_minorversion": 0, "ignored_minorversion": 0,
                "created": {realm: {} for realm in self.realms},
                "updated": {realm: {} for realm in self.realms},
                "voided": {realm: {} for realm in self.realms},
                "replayed": 0, "faults_injected": 0,
            }
            if tokens:
                self._access.clear()
                self._refresh.clear()
                self._codes.clear()

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
            _seconds(v, "retry_seconds") for v in (retry_seconds if isinstance(retry_seconds, (list, tuple))
                                                   else [retry_seconds]))
        emitter = notify.Emitter(url, verifier_token, format, batch=batch, retry_schedule=schedule)
        with self._lock:
            self._emitter = emitter
        return self.webhook_stats()

    def webhook_stats(self) -> dict[str, Any]:
        """The emitter's counters (posts, acknowledged, failed_attempts, notified, pending)."""
        emitter = self._emitter
        if emitter is None:
            return {"webhooks": None}
        return {"webhooks": emitter.url, "format": emitter.format, **emitter.stats, "pending": emitter.pending()}

    def add_realm(self, realm: str) -> None:
        """Add a seeded company (no-op when it exists)."""
        realm = _tuple(realm, "realm")[0]
        with self._lock:
            if realm in self._companies:
                return
            self.realms = self.realms + (realm,)
            self._companies[realm] = self._company(realm, self._stamp())
            self._limits[realm] = _Limits()
            for key in ("max_concurrent_seen", "per_window_max"):
                self._stats[key][realm] = 0
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
        with self._lock:
            out = copy.deepcopy(self._stats)
            out["faults_pending"] = len(self._faults)
            out["in_progress"] = {realm: lim.in_progress for realm, lim in self._limits.items()}
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
        parsed = faults.parse_script(faults_)
        with self._lock:
            self._faults.extend(parsed)
            return len(self._faults)

    def pending_faults(self) -> list[dict[str, Any]]:
        """The scripted faults not yet consumed, as given."""
        with self._lock:
            return [dict(f.spec) for f in self._faults]

    def clear_faults(self) -> None:
        with self._lock:
            self._faults.clear()

    # --- OAuth ----------------------------------------------------------------------
    def authorize(self, realm: str | None = None, redirect_uri: str | None = None) -> str:
        """Issue a single-use authorization code for ``realm`` (default: the first), as
        Intuit's consent screen would; ``redirect_uri``, when given, must be sent again
        with the code."""
        with self._lock:
            realm = realm or self.realms[0]
            if realm not in self._companies:
                raise KeyError(f"no company (realm) {realm!r}")
            code = "sandbox-code-" + secrets.token_urlsafe(18)
            self._codes[code] = _Code(redirect_uri, realm)
            return code

    def revoke(self, token: str, *, grant: bool = False) -> bool:
        """Invalidate an issued refresh or access token (with ``grant=True``: every token of
        the same authorization). Static access tokens cannot be revoked. True if found."""
        with self._lock:
            found = self._refresh.get(token) or self._access.get(token)
            if found is None:
                return False
            if grant:
                for table in (self._refresh, self._access):
                    for key in [k for k, v in table.items() if v.grant == found.grant]:
                        del table[key]
            else:
                self._refresh.pop(token, None)
                self._access.pop(token, None)
            return True

    def userinfo(self, authorization: str | None) -> dict[str, str] | None:
        """What ``GET /v1/openid_connect/userinfo`` answers for ``Authorization: Bearer …``:
        ``{"sub": <the authorization's id>}``, or None when the token is refused as a
        ``/v3`` call would refuse it. (Tokens are good for every realm, so none is named.)"""
        token = _bearer(authorization)
        with self._lock:
            if self._access_problem(token) is not None:
                return None
            issued = self._access.get(token)
            return {"sub": issued.grant if issued is not None else "static"}

    def client_ok(self, authorization: str | None) -> bool:
        """True when ``authorization`` is HTTP Basic with this sandbox's client id and secret."""
        if not authorization:
            return False
        scheme, _, encoded = authorization.strip().partition(" ")
        if scheme.lower() != "basic":
            return False
        try:
            decoded = base64.b64decode(encoded.strip(), validate=True).decode("utf-8")
        except (binascii.Error, UnicodeDecodeError):
            return False
        client_id, _, client_secret = decoded.partition(":")
        return (secrets.compare_digest(client_id, self.client_id)
                and secrets.compare_digest(client_secret, self.client_secret))

    def _issue(self, grant: str) -> Reply:
        now = self.now()
        access = "sandbox-at-" + secrets.token_urlsafe(24)
        refresh = "sandbox-rt-" + secrets.token_urlsafe(24)
        self._access[access] = _Token(now + ACCESS_TOKEN_SECONDS, grant)
        self._refresh[refresh] = _Token(now + REFRESH_TOKEN_SECONDS, grant)
        return self._json(200, {"token_type": "bearer", "access_token": access,
                                "refresh_token": refresh, "expires_in": ACCESS_TOKEN_SECONDS,
                                "x_refresh_token_expires_in": REFRESH_TOKEN_SECONDS},
                          {"Cache-Control": "no-store", "Pragma": "no-cache"})

    def _oauth_error(self, status: int, error: str) -> Reply:
        headers = {"Cache-Control": "no-store"}
        if status == 401:
            headers["WWW-Authenticate"] = 'Basic realm="oauth"'
        return self._json(status, {"error": error}, headers)

    def token_endpoint(self, form: Mapping[str, str], authorization: str | None) -> Reply:
        """``POST /oauth2/v1/tokens/bearer``: the authorization-code and refresh grants.

        The client authenticates with HTTP Basic (``client_id:client_secret``) → else 401
        ``invalid_client``. Every refresh rotates the refresh token: the one sent is
        invalid afterwards (→ 400 ``invalid_grant``), as are revoked and expired ones.
        """
        with self._lock:
            self._stats["requests"] += 1
            reply = self._token(form, authorization)
            self._finish({"time": self._stamp(ms=True), "method": "POST",
                          "path": "/oauth2/v1/tokens/bearer", "realm": None,
                          "entity": "oauth2", "requestid": None, "minorversion": None,
                          "fault": None, "replayed": False,
                          "grant_type": form.get("grant_type")}, reply)
            return reply

    def _token(self, form: Mapping[str, str], authorization: str | None) -> Reply:
        if not self.client_ok(authorization):
            return self._oauth_error(401, "invalid_client")
        grant_type = form.get("grant_type")
        if grant_type == "authorization_code":
            code, redirect_uri = form.get("code"), form.get("redirect_uri")
            if not code or not redirect_uri:
                return self._oauth_error(400, "invalid_request")
            if code != DEFAULT_CODE:
                issued = self._codes.pop(code, None)
                if issued is None or (issued.redirect_uri and issued.redirect_uri != redirect_uri):
                    return self._oauth_error(400, "invalid_grant")
            return self._issue(uuid.uuid4().hex)
        if grant_type == "refresh_token":
            token = form.get("refresh_token")
            if not token:
                return self._oauth_error(400, "invalid_request")
            found = self._refresh.pop(token, None)  # rotation: never valid twice
            if found is None or (found.expires_at is not None and found.expires_at <= self.now()):
                return self._oauth_error(400, "invalid_grant")
            return self._issue(found.grant)
        return self._oauth_error(400, "unsupported_grant_type")

    def _access_problem(self, token: str | None) -> str | None:
        """Why ``token`` is refused (the 401's Detail), or None when it is good."""
        if token is None:
            return "No bearer token in the Authorization header"
        if token in self.static_tokens:
            return None
        issued = self._access.get(token)
        if issued is None:
            return "Token unknown or revoked"
        if issued.expires_at is not None and issued.expires_at <= self.now():
            del self._access[token]
            return "Token expired"
        return None

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
        with self._lock:
            problem = self._access_problem(_bearer(authorization))
            if problem is not None:
                return self._fault(faults.authentication(problem))
            company = self._companies.get(realm)
            if company is None:
                return self._fault(faults.authorization(realm))
            limits = self._limits[realm]
            if self._throttled(realm, limits):
                record["fault"] = "throttled"
                return self._fault(faults.throttle(self.retry_after))
        try:
            if self.latency:
                time.sleep(self.latency)
            with self._lock:
                scripted = self._take_fault(method, record["entity"], realm)
                if scripted is not None:
                    record["fault"] = f"scripted {scripted.spec}"
                    self._stats["faults_injected"] += 1
                if scripted is not None and scripted.timeout is None and scripted.spoil is None:
                    return self._scripted(scripted, company, method, parts, args)
            reply = self._dispatch(method, company, parts, args, body, record)
            if scripted is not None and scripted.timeout is not None:
                time.sleep(scripted.timeout)  # committed already: the answer comes too late
            if scripted is not None and scripted.spoil is not None:
                # committed already: the answer is spoiled on the wire, the requestid keeps it whole
                status, garbled, content_type = scripted.garble(reply.status, reply.body, reply.content_type)
                return Reply(status, garbled, content_type, dict(reply.headers))
            return reply
        finally:
            with self._lock:
                limits.in_progress -= 1

    def _throttled(self, realm: str, limits: _Limits) -> bool:
        """Admit the request into the realm's window and concurrency count, or say no."""
        now = self.now()
        cutoff = now - self.window_seconds
        while limits.window and limits.window[0] <= cutoff:
            limits.window.popleft()
        if self.rate_limit and (limits.in_progress >= self.concurrent
                                or len(limits.window) >= self.requests_per_window):
            self._stats["throttled"] += 1
            return True
        limits.window.append(now)
        limits.in_progress += 1
        stats = self._stats
        stats["max_concurrent_seen"][realm] = max(stats["max_concurrent_seen"].get(realm, 0),
                                                  limits.in_progress)
        stats["per_window_max"][realm] = max(stats["per_window_max"].get(realm, 0),
                                             len(limits.window))
        return False

    def _take_fault(self, method: str, entity: str, realm: str) -> Scripted | None:
        for index, scripted in enumerate(self._faults):
            if scripted.matches(method, entity, realm):
                return self._faults.pop(index)
        return None

    def _scripted(self, scripted: Scripted, company: Company, method: str, parts: list[str],
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
                and len(parts) == 1 and parts[0].lower() in KINDS
                and request_id not in company.requestids):
            company.requestids[request_id] = Stored(reply.status, reply.body, reply.content_type,
                                                    dict(reply.headers))
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
                stored = company.requestids.get(request_id)
                if stored is not None:
                    self._stats["replayed"] += 1
                    record["replayed"] = True
                    return Reply(stored.status, stored.body, stored.content_type,
                                 dict(stored.headers))
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
                company.requestids[request_id] = Stored(reply.status, reply.body,
                                                        reply.content_type, dict(reply.headers))
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
        return Reply(status, jsonio.dumps(body).encode("utf-8"), JSON_TYPE, dict(headers or {}))

    def _fault(self, fault: QboFault) -> Reply:
        return self._json(fault.status, fault.body(self._stamp(ms=True)), fault.headers)


__all__ = ["DEFAULT_ACCESS_TOKEN", "DEFAULT_CLIENT_ID", "DEFAULT_CLIENT_SECRET", "DEFAULT_CODE",
           "DEFAULT_REALM", "Reply", "Sandbox"]
