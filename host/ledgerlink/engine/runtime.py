"""The runtime: what one process shares, wired together.

:class:`Runtime` holds the catalog, the config, the store, the recipe registry
(:mod:`ledgerlink.recipes.registry`), the connections and their one HTTP client and
governor (:mod:`ledgerlink.io.connections`), the inbox (:mod:`ledgerlink.engine.inbox`) and
the counters (:mod:`ledgerlink.engine.counters`). Workers (:mod:`ledgerlink.engine.worker`)
claim due runs and perform them through :mod:`ledgerlink.engine.runner`; the runtime wakes
them when work arrives.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from ledgerlink.config import Config
from ledgerlink.connectors.catalog import Catalog
from ledgerlink.engine.counters import Metrics
from ledgerlink.engine.events import RuntimeHost
from ledgerlink.engine.inbox import Inbox
from ledgerlink.io import outbound
from ledgerlink.io.connections import Connections
from ledgerlink.io.governor import Governor
from ledgerlink.io.governor.local import LocalGovernor
from ledgerlink.recipes.registry import Registry
from ledgerlink.store import Store


@dataclass
class Settings:
    """How this process runs: workers, leases, retries, limits on what it receives and sends."""

    workers: int = 2
    lease_seconds: float = 60.0
    poll_interval: float = 0.05
    batch: int = 8
    max_attempts: int = 8
    backoff_base: float = 1.0
    backoff_cap: float = 300.0
    #: how long a worker may wait for a governor slot before rescheduling the run
    max_governor_wait: float = 10.0
    max_body_bytes: int = 1_000_000
    connect_timeout: float = 5.0
    read_timeout: float = 30.0
    #: "local" (this process counts vendor limits), "shared" (every process on the database
    #: counts together) or "auto": shared on PostgreSQL, where processes scale out
    #: ($LEDGERLINK_GOVERNOR sets it for serve and worker)
    governor: str = field(default_factory=lambda: os.environ.get("LEDGERLINK_GOVERNOR", "auto"))


@dataclass
class Runtime:
    """One process's catalog, config, store and recipes, and the parts built on them."""

    catalog: Catalog
    config: Config
    store: Store
    recipes_dir: str | Path | None = None
    settings: Settings = field(default_factory=Settings)
    #: the wall clock clock-driven triggers tick by (Unix seconds); a test passes a simulated one
    clock: Callable[[], float] = time.time

    def __post_init__(self) -> None:
        self.registry = Registry(self.catalog, self.config, self.store, self.recipes_dir)
        self.store.recovery_probe_bytes = self.settings.max_body_bytes
        shared = self.settings.governor == "shared" or (
            self.settings.governor == "auto" and self.store.engine.dialect.name == "postgresql")
        if shared:
            from ledgerlink.io.governor.shared import SharedGovernor
            self.governor: Governor = SharedGovernor(self.store)
        else:
            self.governor = LocalGovernor()
        self.metrics = Metrics()
        self._wake = threading.Event()
        client = outbound.new_client(self.settings.connect_timeout, self.settings.read_timeout)
        pool = outbound.new_pool(self.settings.connect_timeout, self.settings.read_timeout)
        self.connections = Connections(self.catalog, self.config, self.store, client, self.governor,
                                       self.metrics, self.wake, self.settings.max_governor_wait, pool)
        self.inbox = Inbox(self.connections, self.registry, self.store, self.metrics, self.wake)
        #: what behaviour hooks and plugins' loops get as ``host`` (:mod:`ledgerlink.contract.events`);
        #: its clock is the runtime's, so one simulated clock moves ticks and alert windows alike
        self.host = RuntimeHost(self, lambda: self.clock())

    def wake(self) -> None:
        """Wake the workers: runs (or notifications to fetch) were stored."""
        self._wake.set()

    def wait_for_work(self, timeout: float) -> None:
        if self._wake.wait(timeout):
            self._wake.clear()

    def close(self) -> None:
        self.connections.client.close()
        self.connections.pool.close()
        self.governor.close()
        self.store.dispose()
