"""The sandbox's state, independent of any web framework.

:class:`Sandbox` holds every company, token, counter and scripted fault in memory behind
one lock, so the many worker threads of waitress may call it at once. The Flask app in
:mod:`.app` only translates HTTP to :meth:`Sandbox.handle_v3`,
:meth:`Sandbox.token_endpoint` and the inspection methods, and back.
The ``/v3`` request pipeline is :class:`~.v3.V3Api`, which :class:`Sandbox` extends.
"""

from __future__ import annotations

import copy
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from ledgerlink.testing.sandbox import (FaultScript, IdempotencyKeys, RateWindow, Reply,
                                        SandboxClock, seconds)
from ledgerlink.testing.sandbox_oauth import OAuthServer, bearer
from ledgerlink.testing.sandbox_webhooks import WebhookEmitter

from . import faults, notify
from .company import Company
from .entities import KINDS
from .faults import ScriptedAnswer
from .v3 import V3Api

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



def _tuple(value: Any, what: str) -> tuple[str, ...]:
    items = (value,) if isinstance(value, str) else tuple(value)
    if not all(isinstance(v, str) and v.strip() for v in items):
        raise ValueError(f"{what} must be non-empty strings, got {value!r}")
    return items


def _books(home_currency: Any, multicurrency: Any, book_close_date: Any) -> dict[str, Any]:
    """The company settings options, checked: an ISO 4217 code, a bool, a date or None."""
    import datetime as dt

    import babel.numbers
    code = home_currency.upper() if isinstance(home_currency, str) else ""
    if len(code) != 3 or code not in babel.numbers.list_currencies():
        raise ValueError(f"home_currency must be an ISO 4217 code such as USD, got {home_currency!r}")
    if not isinstance(multicurrency, bool):
        raise ValueError(f"multicurrency must be true or false, got {multicurrency!r}")
    if book_close_date is not None:
        try:
            book_close_date = dt.date.fromisoformat(str(book_close_date)).isoformat()
        except ValueError:
            raise ValueError(f"book_close_date must be a date (YYYY-MM-DD), got "
                             f"{book_close_date!r}") from None
    return {"home_currency": code, "multicurrency": multicurrency,
            "book_close_date": book_close_date}


def _count(value: Any, what: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ValueError(f"{what} must be an integer of at least 1, got {value!r}")
    return value


class Sandbox(V3Api):
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
                 webhook_retry_seconds: Any = None, home_currency: str = "USD",
                 multicurrency: bool = False, book_close_date: str | None = None,
                 currency_rules: str = "qbo") -> None:
        if not isinstance(rate_limit, bool):
            raise ValueError(f"rate_limit must be true or false, got {rate_limit!r}")
        self.retry_after = seconds(retry_after, "retry_after", allow_none=True)
        #: when true, ``GET /connect/oauth2`` shows a consent page a person (a browser) answers
        #: instead of redirecting at once; :meth:`reset` turns it off
        self.consent_page = False
        self.books = _books(home_currency, multicurrency, book_close_date)
        if currency_rules not in ("qbo", "off"):
            raise ValueError(f"currency_rules must be qbo or off, got {currency_rules!r}")
        self.books["currency_rules"] = currency_rules == "qbo"
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
            self.consent_page = False
            if tokens:
                self.oauth.reset()

    def _company(self, realm: str, stamp: str) -> Company:
        company = Company(realm, stamp, **self.books)
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

    def preferences(self, realm: str | None = None, *, multicurrency: bool | None = None,
                    book_close_date: Any = ..., home_currency: str | None = None) -> dict[str, Any]:
        """Change a company's Preferences as its owner would in QBO's settings: its home
        currency (while it has no transaction), turn multicurrency on (never off) and set
        the closed books date (None: books open).
        Returns the Preferences entity. Raises ``KeyError`` for an unknown realm and
        ``ValueError`` for a bad value."""
        if book_close_date is not ... and book_close_date is not None:
            book_close_date = _books("USD", False, book_close_date)["book_close_date"]
        if multicurrency is not None and not isinstance(multicurrency, bool):
            raise ValueError(f"multicurrency must be true or false, got {multicurrency!r}")
        if home_currency is not None:
            home_currency = _books(home_currency, False, None)["home_currency"]
        with self._lock:
            company = self._companies.get(realm or self.realms[0])
            if company is None:
                raise KeyError(f"no company (realm) {realm!r}")
            return copy.deepcopy(company.set_preferences(multicurrency=multicurrency,
                                                         book_close_date=book_close_date,
                                                         home_currency=home_currency))

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

__all__ = ["DEFAULT_ACCESS_TOKEN", "DEFAULT_CLIENT_ID", "DEFAULT_CLIENT_SECRET", "DEFAULT_CODE",
           "DEFAULT_REALM", "Sandbox"]
