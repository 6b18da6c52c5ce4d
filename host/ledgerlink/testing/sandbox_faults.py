"""Faults a sandbox's test queues (a status, a fault body, a delay, a lost answer …): the
queue, the matching of each request against it, and the counting. What an answer is stays the
vendor sandbox's business. Re-exported by :mod:`ledgerlink.testing.sandbox`."""

from __future__ import annotations

import threading
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Generic, TypeVar

Answer = TypeVar("Answer")

@dataclass
class Scripted(Generic[Answer]):
    """One queued fault: the next ``times`` requests whose attributes include ``match`` get
    ``answer``; ``spec`` is what the test gave, for listing."""

    answer: Answer
    match: Mapping[str, str] = field(default_factory=dict)
    times: int = 1
    spec: Mapping[str, object] = field(default_factory=dict)

    def matches(self, attributes: Mapping[str, str]) -> bool:
        return all(attributes.get(name) == want for name, want in self.match.items())


class FaultScript(Generic[Answer]):
    """Faults a test queues; each request takes the first one that matches it.

    What an answer is stays the vendor sandbox's business (a status, a fault body, a delay, a
    spoiled body …); this keeps the queue, the matching and the counting.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._queue: list[Scripted[Answer]] = []
        self.injected = 0

    def add(self, faults: list[Scripted[Answer]]) -> int:
        """Queue ``faults`` (all or, on a bad ``times``, none); returns how many are queued."""
        for fault in faults:
            if isinstance(fault.times, bool) or not isinstance(fault.times, int) or fault.times < 1:
                raise ValueError(f"times must be an integer of at least 1, got {fault.times!r}")
        with self._lock:
            self._queue.extend(faults)
            return len(self._queue)

    def take(self, attributes: Mapping[str, str]) -> Scripted[Answer] | None:
        """The first queued fault matching ``attributes``, counted once more; None if none."""
        with self._lock:
            for index, fault in enumerate(self._queue):
                if fault.matches(attributes):
                    fault.times -= 1
                    if fault.times == 0:
                        del self._queue[index]
                    self.injected += 1
                    return fault
            return None

    def pending(self) -> list[dict[str, object]]:
        """The faults not yet used up, as given."""
        with self._lock:
            return [dict(fault.spec) for fault in self._queue]

    def clear(self) -> None:
        with self._lock:
            self._queue.clear()

    def reset(self) -> None:
        with self._lock:
            self._queue.clear()
            self.injected = 0


__all__ = ["FaultScript", "Scripted"]
