"""The sandbox base: what every vendor sandbox needs, so each one holds only its vendor.

A vendor sandbox (``ledgerlink_sandboxes.quickbooks``, and the Xero, FreshBooks … ones to
come) is a WSGI app over a state object. The parts that do not depend on the vendor are here:

- :class:`Reply`, an HTTP answer built without a web framework, so the state stays testable
  in-process;
- :func:`running`, a loopback server on a free port in a thread, with its base URL and the
  sandbox state, stopped when the ``with`` block ends;
- :class:`SandboxClock`, the clock a sandbox reads (rate windows, token expiry, timestamps),
  which a test moves forward instead of sleeping;
- :class:`RateWindow`, the vendor's rate limits: at most N requests in any sliding window and
  M in progress at once, per key (company, tenant …); over either one, the vendor's 429 with
  ``Retry-After`` (:func:`retry_after_header`);
- :class:`IdempotencyKeys`, idempotency-key replay: the same key with the same body gets the
  stored answer byte for byte, the same key with another body the vendor's conflict answer
  (or, for a vendor that does not compare bodies, the stored answer too);
- :class:`FaultScript`, scripted faults: the next N requests matching some attributes get a
  given answer instead of (or on top of) their own.

The OAuth 2.0 token endpoint is :mod:`ledgerlink.testing.sandbox_oauth`, the signed webhook
emitter :mod:`ledgerlink.testing.sandbox_webhooks`. All classes are thread-safe: waitress
calls a sandbox from many threads at once.
"""

from __future__ import annotations

import hashlib
import math
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Generic, Protocol, TypeAlias, TypeVar, Union

from ledgerlink import jsonio
from ledgerlink.testing.sandbox_faults import FaultScript, Scripted
from ledgerlink.web import servers

JSON_TYPE = "application/json;charset=UTF-8"
#: a JSON document as :mod:`ledgerlink.jsonio` reads and writes it (numbers exact)
JSONValue: TypeAlias = Union[None, bool, int, float, Decimal, str, list["JSONValue"],
                             dict[str, "JSONValue"]]

State = TypeVar("State")


@dataclass
class Reply:
    """An HTTP answer: status, body bytes, content type and extra headers."""

    status: int
    body: bytes
    content_type: str = JSON_TYPE
    headers: dict[str, str] = field(default_factory=dict)

    @classmethod
    def json(cls, status: int, body: JSONValue, headers: Mapping[str, str] | None = None) -> Reply:
        """A JSON answer (Decimal amounts written exactly)."""
        return cls(status, jsonio.dumps(body).encode("utf-8"), JSON_TYPE, dict(headers or {}))

    def parsed(self) -> JSONValue:
        """The body parsed (numbers as Decimal), for in-process callers; None when empty."""
        return jsonio.loads(self.body) if self.body else None

    def copy(self) -> Reply:
        """The same answer with headers of its own (a stored answer is replayed as copies)."""
        return Reply(self.status, self.body, self.content_type, dict(self.headers))


# --- the loopback server --------------------------------------------------------------------

class SandboxApp(Protocol[State]):
    """A WSGI app that carries its sandbox state as ``app.sandbox``."""

    sandbox: State

    def __call__(self, environ: dict, start_response: Callable) -> object: ...


@dataclass
class Loopback(Generic[State]):
    """A sandbox being served: its base URL (no trailing slash), its state, and stop()."""

    url: str
    sandbox: State
    stop: Callable[[], None]


@contextmanager
def running(app: SandboxApp[State], threads: int = 16) -> Iterator[Loopback[State]]:
    """Serve ``app`` on a free loopback port in a thread while the ``with`` block runs.

    The block starts once the server accepts connections; leaving it stops the server and
    frees the port (:func:`ledgerlink.web.servers.background`, the same production server
    ``ledgerlink sandbox`` runs).
    """
    with servers.background(app, threads=threads) as server:
        yield Loopback(server.url.rstrip("/"), app.sandbox, server.stop)


# --- time -------------------------------------------------------------------------------------

def seconds(value: object, what: str, *, allow_none: bool = False, positive: bool = False) -> float | None:
    """``value`` as a number of seconds, or ``ValueError`` naming ``what``; a Decimal (as
    ``ledgerlink sandbox --set latency=0.05`` reads it) is fine."""
    if value is None and allow_none:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float, Decimal)):
        raise ValueError(f"{what} must be a number of seconds, got {value!r}")
    number = float(value)
    if not math.isfinite(number) or number < 0 or (positive and number == 0):
        raise ValueError(f"{what} must be a {'positive' if positive else 'non-negative'} number "
                         f"of seconds, got {value!r}")
    return number


class SandboxClock:
    """The sandbox's two clocks, both moved by :meth:`advance`.

    ``now()`` (``clock``, monotonic by default) times rate windows and token expiry;
    ``wall()`` (``wall_clock``, Unix time) stamps bodies and logs. A test passes its own
    clock, or calls :meth:`advance`, instead of sleeping.
    """

    def __init__(self, clock: Callable[[], float] = time.monotonic,
                 wall_clock: Callable[[], float] = time.time) -> None:
        if not callable(clock) or not callable(wall_clock):
            raise ValueError("clock and wall_clock must be functions returning seconds")
        self._clock = clock
        self._wall_clock = wall_clock
        self._offset = 0.0
        self._lock = threading.Lock()

    def now(self) -> float:
        return self._clock() + self._offset

    def wall(self) -> float:
        return self._wall_clock() + self._offset

    def advance(self, by: float) -> None:
        """Move both clocks forward by ``by`` seconds (``ValueError`` when negative)."""
        step = seconds(by, "seconds")
        with self._lock:
            self._offset += step or 0.0


# --- rate limits ------------------------------------------------------------------------------

def retry_after_header(delay: float) -> str:
    """``Retry-After`` as delta-seconds (RFC 9110 §10.2.3): a whole number, rounded up."""
    return str(max(0, math.ceil(delay)))


@dataclass
class _Window:
    admitted: deque[float] = field(default_factory=deque)
    in_progress: int = 0


class RateWindow:
    """Per key, at most ``requests`` admitted in any sliding ``window`` seconds and
    ``concurrent`` in progress at once.

    :meth:`admit` says whether a request may run and, when it may, counts it in progress
    until :meth:`release`. With ``enforce=False`` every request is admitted and the limits
    are only measured (``max_concurrent_seen``, ``per_window_max``), so a test can check that
    a client kept inside them by itself.
    """

    def __init__(self, clock: SandboxClock, requests: int, window: float, concurrent: int,
                 enforce: bool = True) -> None:
        self.clock = clock
        self.requests = requests
        self.window = window
        self.concurrent = concurrent
        self.enforce = enforce
        self._lock = threading.Lock()
        self._keys: dict[str, _Window] = {}
        self.throttled = 0
        self.max_concurrent_seen: dict[str, int] = {}
        self.per_window_max: dict[str, int] = {}

    def reset(self) -> None:
        """Forget every window and counter (requests in progress still release)."""
        with self._lock:
            for state in self._keys.values():
                state.admitted.clear()
            self.throttled = 0
            self.max_concurrent_seen = {}
            self.per_window_max = {}

    def admit(self, key: str) -> bool:
        """True when a request under ``key`` may run now (then :meth:`release` it); False
        when it is over a limit (counted in ``throttled``)."""
        with self._lock:
            state = self._keys.setdefault(key, _Window())
            cutoff = self.clock.now() - self.window
            while state.admitted and state.admitted[0] <= cutoff:
                state.admitted.popleft()
            if self.enforce and (state.in_progress >= self.concurrent
                                 or len(state.admitted) >= self.requests):
                self.throttled += 1
                return False
            state.admitted.append(self.clock.now())
            state.in_progress += 1
            self.max_concurrent_seen[key] = max(self.max_concurrent_seen.get(key, 0), state.in_progress)
            self.per_window_max[key] = max(self.per_window_max.get(key, 0), len(state.admitted))
            return True

    def record(self, key: str, count: int, at: float | None = None) -> None:
        """Count ``count`` requests under ``key`` admitted at clock time ``at`` (now if None)
        that this sandbox never answered: calls another client made on the same account."""
        with self._lock:
            state = self._keys.setdefault(key, _Window())
            stamps = [self.clock.now() if at is None else at] * count
            state.admitted = deque(sorted([*state.admitted, *stamps]))

    def release(self, key: str) -> None:
        """The admitted request under ``key`` has been answered."""
        with self._lock:
            self._keys[key].in_progress -= 1

    def in_progress(self) -> dict[str, int]:
        with self._lock:
            return {key: state.in_progress for key, state in self._keys.items()}

    def remaining(self, key: str) -> int:
        """How many more requests under ``key`` the window admits now (for a vendor's
        ``X-…-Remaining`` headers)."""
        with self._lock:
            state = self._keys.get(key)
            if state is None:
                return self.requests
            cutoff = self.clock.now() - self.window
            return max(0, self.requests - sum(1 for stamp in state.admitted if stamp > cutoff))

    def retry_in(self, key: str) -> float:
        """Seconds until the window under ``key`` admits one more request (0 when it does
        now), for ``Retry-After``."""
        with self._lock:
            state = self._keys.get(key)
            if state is None:
                return 0.0
            cutoff = self.clock.now() - self.window
            live = [stamp for stamp in state.admitted if stamp > cutoff]
            if len(live) < self.requests:
                return 0.0
            return live[len(live) - self.requests] - cutoff


# --- idempotency keys -------------------------------------------------------------------------

@dataclass(frozen=True)
class Replayed:
    """What :meth:`IdempotencyKeys.lookup` found: the stored answer, or a conflict (the key
    was first used with another body)."""

    reply: Reply | None
    conflict: bool = False


class IdempotencyKeys:
    """Answers kept by (scope, idempotency key), for as long as the sandbox lives, or for
    ``ttl`` seconds on ``clock`` when given (Xero keeps a key about six minutes).

    ``compare_bodies=True`` (Stripe, Xero): a key sent again with another body is a conflict
    the vendor refuses. ``False`` (QuickBooks' ``requestid``): the first answer is replayed
    whatever the body. A vendor that also compares the method and URL passes them as part of
    the body.

    Requests carrying one key are handled one at a time (:meth:`held`): a retry sent while
    the first is still being handled (a client that gave up waiting) waits for it and is then
    answered with its answer, never handled beside it into a twin.
    """

    def __init__(self, compare_bodies: bool = True, *, ttl: float | None = None,
                 clock: SandboxClock | None = None) -> None:
        if (ttl is None) != (clock is None):
            raise ValueError("ttl and clock go together")
        self.compare_bodies = compare_bodies
        self.ttl = seconds(ttl, "ttl", allow_none=True, positive=True)
        self.clock = clock
        self._lock = threading.Lock()
        self._kept: dict[tuple[str, str], tuple[str, Reply, float]] = {}
        #: the lock of each key being handled, with how many requests hold or wait for it
        self._held: dict[tuple[str, str], tuple[threading.Lock, int]] = {}
        self.replayed = 0

    @contextmanager
    def held(self, scope: str, key: str | None) -> Iterator[None]:
        """Handle a request carrying ``key`` (look it up, run it, remember the answer) while no
        other request with that key is handled; a request without a key passes at once."""
        if key is None:
            yield
            return
        with self._lock:
            lock, waiting = self._held.get((scope, key), (threading.Lock(), 0))
            self._held[(scope, key)] = (lock, waiting + 1)
        try:
            with lock:
                yield
        finally:
            with self._lock:
                lock, waiting = self._held[(scope, key)]
                if waiting == 1:
                    del self._held[(scope, key)]
                else:
                    self._held[(scope, key)] = (lock, waiting - 1)

    def reset(self) -> None:
        with self._lock:
            self._kept.clear()
            self.replayed = 0

    def _live(self, scope: str, key: str) -> tuple[str, Reply, float] | None:
        found = self._kept.get((scope, key))
        if found is not None and self.ttl is not None and self.clock is not None \
                and self.clock.now() - found[2] >= self.ttl:
            del self._kept[(scope, key)]  # forgotten: the key is new again
            return None
        return found

    def lookup(self, scope: str, key: str, body: bytes) -> Replayed | None:
        """The stored answer for ``key`` in ``scope`` (a copy), a conflict, or None when the
        key is new (or its time is up)."""
        with self._lock:
            found = self._live(scope, key)
            if found is None:
                return None
            digest, reply, _ = found
            if self.compare_bodies and digest != hashlib.sha256(body).hexdigest():
                return Replayed(None, conflict=True)
            self.replayed += 1
            return Replayed(reply.copy())

    def remember(self, scope: str, key: str, body: bytes, reply: Reply) -> None:
        """Keep ``reply`` as the answer to ``key`` (the first one stays)."""
        with self._lock:
            if self._live(scope, key) is None:
                stamp = self.clock.now() if self.clock is not None else 0.0
                self._kept[(scope, key)] = (hashlib.sha256(body).hexdigest(), reply.copy(), stamp)

    def known(self, scope: str, key: str) -> bool:
        with self._lock:
            return self._live(scope, key) is not None


__all__ = ["FaultScript", "IdempotencyKeys", "JSON_TYPE", "JSONValue", "Loopback", "RateWindow", "Replayed",
           "Reply", "SandboxApp", "SandboxClock", "Scripted", "retry_after_header", "running",
           "seconds"]
