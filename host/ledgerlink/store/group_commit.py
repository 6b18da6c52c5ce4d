"""Group commit: concurrent writes share one transaction, and so one sync to disk.

The inbox stores webhooks this way (:meth:`~ledgerlink.store.events.EventStore.ingest`), and
the workers log their step attempts and close their runs this way
(:meth:`~ledgerlink.store.run_log.RunLogStore.log_step`).
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

Share = TypeVar("Share")
Result = TypeVar("Result")


@dataclass(frozen=True)
class Refused:
    """One share's error when the rest of its batch was written: a write function returns
    it in that share's place, and the share's caller gets ``error`` raised."""

    error: BaseException


class _Slot(Generic[Result]):
    """Where the writer thread leaves one caller's answer, and the lock the caller waits on.

    ``done`` is a plain lock held while the answer is awaited: the caller blocks acquiring
    it, the writer thread releases it once the answer is there, and the caller (holding it
    again) may use the slot for its next write. Each thread reuses its own slot
    (:func:`_own_slot`), so a write allocates no Event and Condition, which cost a lock each
    per wait."""

    __slots__ = ("done", "result", "error")

    #: set by the writer thread before ``done`` is released when the batch committed
    result: Result

    def __init__(self) -> None:
        self.done = threading.Lock()
        self.done.acquire()
        self.error: BaseException | None = None


_slots = threading.local()


def _own_slot() -> _Slot[Any]:
    """This thread's slot, ready for one write (its lock held, no answer left in it)."""
    slot = getattr(_slots, "slot", None)
    if slot is None:
        slot = _slots.slot = _Slot()
    slot.error = None
    return slot


class GroupCommit(Generic[Share, Result]):
    """Funnels concurrent writes through one thread that commits them together.

    A caller hands over its share (everything it needs written, already serialised) and
    blocks until the transaction holding it has committed (or failed: then every caller of
    that batch gets the exception, unless the write function answered some shares
    :class:`Refused` and wrote the rest). What a caller does after ``submit`` returns
    therefore happens after its share is durable, as if it had committed alone.
    """

    MAX_BATCH = 256

    def __init__(self, write: Callable[[list[Share]], list[Result | Refused]],
                 name: str = "ledgerlink-inbox-writer") -> None:
        #: stores a batch in one transaction; returns one result per share, in order
        self._write = write
        self._name = name
        self._lock = threading.Lock()
        self._pending: list[tuple[Share, _Slot[Result]]] = []
        self._wake = threading.Condition(self._lock)
        self._thread: threading.Thread | None = None

    def submit(self, share: Share) -> Result:
        """Write ``share`` in the next batch; returns once that batch has committed."""
        slot: _Slot[Result] = _own_slot()
        with self._lock:
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(target=self._run, name=self._name, daemon=True)
                self._thread.start()
            self._pending.append((share, slot))
            self._wake.notify()
        try:
            slot.done.acquire()  # released by the writer thread once the batch is answered
        except BaseException:
            _slots.slot = None  # interrupted: the writer thread will still release it, so never reuse it
            raise
        error, result = slot.error, getattr(slot, "result", None)
        slot.error = None
        slot.result = None  # type: ignore[assignment]  # the slot keeps nothing of this write
        if error is not None:
            raise error
        return result  # type: ignore[return-value]

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
                    slot.done.release()
                continue
            for (_, slot), result in zip(batch, results):
                if isinstance(result, Refused):
                    slot.error = result.error
                else:
                    slot.result = result
                slot.done.release()
