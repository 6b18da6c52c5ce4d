"""The FreshBooks sandbox's state: its clock, identity service, businesses, rate window,
callbacks and request log.

:class:`Sandbox` holds what the HTTP face (:mod:`.app`) serves; :mod:`.api` answers the
Accounting API over it, :mod:`.callbacks` the events API. Thread-safe: the server calls it
from many threads.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from ledgerlink.testing.sandbox import FaultScript, RateWindow, SandboxClock, seconds

from . import errors
from .businesses import Business
from .callbacks import Callbacks
from .faults import Fault
from .identity import Identity

DEFAULT_CLIENT_ID = "freshbooks-sandbox-client"
DEFAULT_CLIENT_SECRET = "freshbooks-sandbox-secret"
DEFAULT_ACCESS_TOKEN = "freshbooks-sandbox-access-token"
#: the seeded business: account_id (the accounting system id) and business_id
DEFAULT_ACCOUNT_ID = "6BApk"
DEFAULT_BUSINESS_ID = 6543
#: the seeded FreshBooks Classic account, listed in users/me and refused by the API
CLASSIC_ACCOUNT_ID = "Cl4ss1c"
CLASSIC_BUSINESS_ID = 6544
#: the user every token belongs to (the ``identity_id`` and ``user_id`` events carry)
USER = {"identity_id": 1234, "identity_uuid": "sandbox-identity-1234", "first_name": "Sandy",
        "last_name": "Box", "email": "owner@sandbox.example", "user_id": 1}


def _count(value: object, what: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ValueError(f"{what} must be a positive integer, got {value!r}")
    return value


class Sandbox:
    """A FreshBooks imitation in memory; see :func:`ledgerlink_sandboxes.freshbooks.create_sandbox`
    for the options."""

    def __init__(self, *, account_id: str = DEFAULT_ACCOUNT_ID, business_id: int = DEFAULT_BUSINESS_ID,
                 currency: str = "USD", classic: bool = True,
                 more_businesses: Iterable[Mapping[str, Any]] = (), categories: Iterable[str] = (),
                 client_id: str = DEFAULT_CLIENT_ID,
                 client_secret: str = DEFAULT_CLIENT_SECRET,
                 access_tokens: Iterable[str] = (DEFAULT_ACCESS_TOKEN,), error_shape: str = "legacy",
                 rate_limit: bool = True, minute_limit: int = 60, concurrent: int = 5, latency: float = 0.0,
                 callback_retry_seconds: Iterable[float] = (1.0, 5.0, 30.0),
                 clock: Callable[[], float] = time.monotonic,
                 wall_clock: Callable[[], float] = time.time) -> None:
        if error_shape not in errors.SHAPES:
            raise ValueError(f"error_shape must be one of {', '.join(errors.SHAPES)}, got {error_shape!r}")
        self.clock = SandboxClock(clock, wall_clock)
        self.error_shape = error_shape
        self.businesses: dict[str, Business] = {}
        for n, more in enumerate([{"account_id": account_id, "business_id": business_id, "currency": currency},
                                  *more_businesses]):
            name = "Sandbox Books Inc." if n == 0 else f"Sandbox Books {n + 1} Inc."
            self._add_business(more, name)
        for name in categories:
            if not isinstance(name, str) or not name.strip():
                raise ValueError(f"categories must be names of expense categories, got {name!r}")
            for business in self.businesses.values():
                business.add_category(name)
        if classic:
            self.businesses[CLASSIC_ACCOUNT_ID] = Business(CLASSIC_BUSINESS_ID, CLASSIC_ACCOUNT_ID,
                                                           "Sandbox Classic Ltd.", str(currency).upper(),
                                                           self.clock, classic=True)
        self.identity = Identity(self.clock, client_id, client_secret, list(self.businesses.values()), USER,
                                 tuple(access_tokens))
        self.window = RateWindow(self.clock, _count(minute_limit, "minute_limit"), 60.0,
                                 _count(concurrent, "concurrent"), bool(rate_limit))
        self.latency = seconds(latency, "latency") or 0.0
        self.faults: FaultScript[Fault] = FaultScript()
        schedule = tuple(seconds(step, "callback_retry_seconds") or 0.0 for step in callback_retry_seconds)
        self.callbacks = Callbacks(self.clock, USER, schedule or (1.0,))
        for business in self.businesses.values():
            business.listeners.append(self.callbacks.changed)
        self._lock = threading.Lock()
        self._log: list[dict[str, Any]] = []
        self.counts: dict[str, int] = {}

    def _add_business(self, fields: Mapping[str, Any], name: str) -> None:
        """One more (modern) business of the user: ``{"account_id", "business_id"[, "currency"]}``."""
        if not isinstance(fields, Mapping) or set(fields) - {"account_id", "business_id", "currency"}:
            raise ValueError(f"a business is {{\"account_id\", \"business_id\"[, \"currency\"]}}, got {fields!r}")
        account_id, currency = str(fields.get("account_id", "")), str(fields.get("currency", "USD"))
        if not account_id.isalnum() or not currency.isalpha() or len(currency) != 3:
            raise ValueError("account_id must be letters and digits, currency an ISO 4217 code")
        business_id = _count(fields.get("business_id"), "business_id")
        if account_id in self.businesses or any(b.business_id == business_id for b in self.businesses.values()):
            raise ValueError(f"business {business_id} or account {account_id} is listed twice")
        self.businesses[account_id] = Business(business_id, account_id, name, currency.upper(), self.clock)

    def business(self, account_id: str) -> Business | None:
        return self.businesses.get(account_id)

    # --- bookkeeping ------------------------------------------------------------------
    def count(self, what: str) -> None:
        with self._lock:
            self.counts[what] = self.counts.get(what, 0) + 1

    def log(self, entry: dict[str, Any]) -> None:
        with self._lock:
            self._log.append(entry)

    def requests(self) -> list[dict[str, Any]]:
        """Every API request answered: method, path, account, status (no secrets)."""
        with self._lock:
            return list(self._log)

    def stats(self) -> dict[str, Any]:
        return {"counts": dict(self.counts), "throttled": self.window.throttled,
                "per_minute_max": dict(self.window.per_window_max),
                "max_concurrent_seen": dict(self.window.max_concurrent_seen),
                "faults_injected": self.faults.injected,
                "callbacks": self.callbacks.stats()}

    def reset(self, tokens: bool = False) -> None:
        """Forget the request log, the rate window, the scripted faults, the callbacks and every business's books
        (seeded again); with ``tokens``, the issued tokens too."""
        with self._lock:
            self._log.clear()
            self.counts.clear()
        self.window.reset()
        self.faults.reset()
        self.callbacks.reset()
        for business in self.businesses.values():
            business.reset()
        if tokens:
            self.identity.oauth.reset()


__all__ = ["CLASSIC_ACCOUNT_ID", "CLASSIC_BUSINESS_ID", "DEFAULT_ACCESS_TOKEN", "DEFAULT_ACCOUNT_ID",
           "DEFAULT_BUSINESS_ID", "DEFAULT_CLIENT_ID", "DEFAULT_CLIENT_SECRET", "USER", "Sandbox"]
