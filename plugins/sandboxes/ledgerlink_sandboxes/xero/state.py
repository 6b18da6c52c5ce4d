"""The Xero sandbox's state: its clock, identity service, organisations, limits and request log.

:class:`Sandbox` holds what the HTTP face (:mod:`.app`) serves; :mod:`.api` answers the
Accounting API over it. Thread-safe: the server calls it from many threads.
"""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from ledgerlink.testing.sandbox import IdempotencyKeys, RateWindow, Reply, SandboxClock, seconds

from .identity import Identity, Tenant
from .org import Organisation
from .webhooks import Notifier

DEFAULT_CLIENT_ID = "xero-sandbox-client"
DEFAULT_CLIENT_SECRET = "xero-sandbox-secret"
DEFAULT_ACCESS_TOKEN = "xero-sandbox-access-token"
#: the first organisation's tenant id (``GET /connections`` lists it)
DEFAULT_TENANT = "70784a63-d24b-46a9-a4db-0e70a274b056"
#: seconds Xero keeps an ``Idempotency-Key`` (about six minutes,
#: https://developer.xero.com/documentation/guides/idempotent-requests/idempotency/)
IDEMPOTENCY_SECONDS = 360.0


def _count(value: object, what: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ValueError(f"{what} must be a positive integer, got {value!r}")
    return value


class Sandbox:
    """A Xero imitation in memory; see :func:`ledgerlink_sandboxes.xero.create_sandbox` for the
    options."""

    def __init__(self, *, tenants: Iterable[str] = (DEFAULT_TENANT,), base_currency: str = "USD",
                 currencies: Iterable[str] = ("USD", "EUR", "JPY", "KWD"),
                 client_id: str = DEFAULT_CLIENT_ID, client_secret: str = DEFAULT_CLIENT_SECRET,
                 access_tokens: Iterable[str] = (DEFAULT_ACCESS_TOKEN,), rate_limit: bool = True,
                 minute_limit: int = 60, concurrent: int = 5, day_limit: int = 5000,
                 app_minute_limit: int = 10000, latency: float = 0.0,
                 webhook_url: str | None = None, webhook_key: str | None = None,
                 clock: Callable[[], float] = time.monotonic,
                 wall_clock: Callable[[], float] = time.time) -> None:
        self.clock = SandboxClock(clock, wall_clock)
        tenant_ids = [str(uuid.UUID(str(tenant))) for tenant in tenants]
        if not tenant_ids or len(set(tenant_ids)) != len(tenant_ids):
            raise ValueError("tenants must be distinct uuids, at least one")
        created = time.strftime("%Y-%m-%dT%H:%M:%S.0000000", time.gmtime(self.clock.wall()))
        self.identity = Identity(self.clock, client_id, client_secret,
                                 [Tenant(tenant, f"Demo Company {index + 1}", created)
                                  for index, tenant in enumerate(tenant_ids)], access_tokens)
        currencies = tuple(currencies)
        self.orgs = {tenant: Organisation(tenant, f"Demo Company {index + 1}", base_currency, currencies,
                                          self.clock)
                     for index, tenant in enumerate(tenant_ids)}
        enforce = bool(rate_limit)
        self.minute = RateWindow(self.clock, _count(minute_limit, "minute_limit"), 60.0,
                                 _count(concurrent, "concurrent"), enforce)
        self.day = RateWindow(self.clock, _count(day_limit, "day_limit"), 86400.0, 1 << 30, enforce)
        self.app_minute = RateWindow(self.clock, _count(app_minute_limit, "app_minute_limit"), 60.0,
                                     1 << 30, enforce)
        self.keys = IdempotencyKeys(compare_bodies=True, ttl=IDEMPOTENCY_SECONDS, clock=self.clock)
        self.latency = seconds(latency, "latency") or 0.0
        self.notifier: Notifier | None = None
        if webhook_url or webhook_key:
            self.set_webhooks(webhook_url, webhook_key)
        self._lock = threading.Lock()
        self._log: list[dict[str, Any]] = []
        self.counts: dict[str, int] = {}

    # --- webhooks ---------------------------------------------------------------------
    def set_webhooks(self, url: str | None, key: str | None,
                     retry_schedule: tuple[float, ...] = (1.0, 5.0, 30.0)) -> None:
        """Send every change to ``url`` signed with ``key`` (both, or neither to stop)."""
        if bool(url) != bool(key):
            raise ValueError("webhook_url and webhook_key go together")
        old, self.notifier = self.notifier, None
        if old is not None:
            old.stop()
        for org in self.orgs.values():
            org.listeners = []
        if url and key:
            self.notifier = Notifier(url, key, retry_schedule)
            for org in self.orgs.values():
                org.listeners.append(self.notifier.changed)

    # --- identity ---------------------------------------------------------------------
    def token_endpoint(self, form: Mapping[str, str], authorization: str | None) -> Reply:
        self.count("token")
        return self.identity.token_endpoint(form, authorization)

    # --- calls made elsewhere ---------------------------------------------------------
    def used_elsewhere(self, tenant: str, day: int = 0, minute: int = 0, seconds_ago: float = 0.0) -> None:
        """Count calls this sandbox never answered against ``tenant``'s limits, as Xero counts
        those of another installation of the app: ``minute`` now (in this minute and this
        day), ``day`` more ``seconds_ago`` (in the 24 h only, when that is a minute or more)."""
        if tenant not in self.orgs:
            raise ValueError(f"unknown tenant {tenant!r}")
        for count in (day, minute):
            if isinstance(count, bool) or not isinstance(count, int) or count < 0:
                raise ValueError(f"calls used elsewhere must be whole numbers of at least 0, got {count!r}")
        ago = seconds(seconds_ago, "seconds_ago") or 0.0
        self.minute.record(tenant, minute)
        self.day.record(tenant, minute)
        self.day.record(tenant, day, self.clock.now() - ago)

    # --- bookkeeping ------------------------------------------------------------------
    def count(self, what: str) -> None:
        with self._lock:
            self.counts[what] = self.counts.get(what, 0) + 1

    def log(self, entry: dict[str, Any]) -> None:
        with self._lock:
            self._log.append(entry)

    def requests(self) -> list[dict[str, Any]]:
        """Every Accounting API request answered: method, path, tenant, status (no secrets)."""
        with self._lock:
            return list(self._log)

    def stats(self) -> dict[str, Any]:
        return {"counts": dict(self.counts), "throttled": self.minute.throttled + self.day.throttled
                + self.app_minute.throttled, "per_minute_max": dict(self.minute.per_window_max),
                "max_concurrent_seen": dict(self.minute.max_concurrent_seen),
                "idempotent_replays": self.keys.replayed,
                "webhooks_pending": self.notifier.pending() if self.notifier else 0}

    def reset(self, tokens: bool = False) -> None:
        """Forget the request log, the limits' windows, the idempotency keys and every
        organisation's data (seeded again); with ``tokens``, the issued tokens too."""
        with self._lock:
            self._log.clear()
            self.counts.clear()
        for window in (self.minute, self.day, self.app_minute):
            window.reset()
        self.keys.reset()
        for org in self.orgs.values():
            org.reset()
        if tokens:
            self.identity.oauth.reset()


__all__ = ["DEFAULT_ACCESS_TOKEN", "DEFAULT_CLIENT_ID", "DEFAULT_CLIENT_SECRET", "DEFAULT_TENANT",
           "IDEMPOTENCY_SECONDS", "Sandbox"]
