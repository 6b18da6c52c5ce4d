"""The process's counters, rendered by /metrics (:mod:`ledgerlink.web.metrics`)."""

from __future__ import annotations

import threading


class Metrics:
    """Counters for /metrics (thread-safe)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.values: dict[str, float] = {}

    def add(self, name: str, amount: float) -> None:
        with self._lock:
            self.values[name] = self.values.get(name, 0) + amount
