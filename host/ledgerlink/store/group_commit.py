"""Group commit: concurrent inbox writes share one transaction, and so one sync to disk."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Generic, TypeVar

Item = TypeVar("Item")
Result = TypeVar("Result")

#: one caller's share of a batch: (connection, items, now)
Share = tuple[str, list[Item], float | None]


class _Slot(Generic[Result]):
    """Where the writer thread leaves one caller's answer, and the event it waits on."""

    __slots__ = ("done", "result", "error")

    #: set by the writer thread before ``done`` when the batch committed
    result: Result

    def __init__(self) -> None:
        self.done = threading.Event()
        self.error: BaseException | None = None


class GroupCommit(Generic[Item, Result]):
    """Funnels concurrent inbox writes through one thread that commits them together.

    A caller hands over its deliveries and blocks until the transaction holding them has
    committed (or failed: then every caller of that batch gets the exception and answers
    with an error, so the sender retries). Duplicate deliveries inside one batch are
    handled by the same insert-or-ignore as across batches.
    """

    MAX_BATCH = 256

    def __init__(self, write: Callable[[list[Share[Item]]], list[Result]]) -> None:
        #: stores a batch in one transaction; returns one result per share, in order
        self._write = write
        self._lock = threading.Lock()
        self._pending: list[tuple[Share[Item], _Slot[Result]]] = []
        self._wake = threading.Condition(self._lock)
        self._thread: threading.Thread | None = None

    def submit(self, connection: str, items: list[Item], now: float | None) -> Result:
        """Write ``items`` in the next batch; returns once that batch has committed."""
        slot: _Slot[Result] = _Slot()
        with self._lock:
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(target=self._run, name="ledgerlink-inbox-writer", daemon=True)
                self._thread.start()
            self._pending.append(((connection, items, now), slot))
            self._wake.notify()
        slot.done.wait()
        if slot.error is not None:
            raise slot.error
        return slot.result

    def _run(self) -> None:
        """The writer thread: take up to ``MAX_BATCH`` waiting shares, write them, answer each caller."""
        while True:
            with self._lock:
                while not self._pending:
                    self._wake.wait()
                batch, self._pending = self._pending[:self.MAX_BATCH], self._pending[self.MAX_BATCH:]
            try:
                results = self._write([share for share, _ in batch])
            except Exception as exc:  # every waiter of the batch answers with an error
                for _, slot in batch:
                    slot.error = exc
                    slot.done.set()
                continue
            for (_, slot), result in zip(batch, results):
                slot.result = result
                slot.done.set()
