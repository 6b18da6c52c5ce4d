"""Every error ledgerlink raises on purpose, and the one JSON error shape.

The tree::

    LedgerlinkError                 base; ``str(err)`` is written for the person who must act
    ├── PluginError                 a connector package is broken (bad registration, duplicate name)
    ├── ConfigError                 ledgerlink.toml is wrong, or a connection is unknown
    ├── RecipeError                 one or more recipe problems (``.problems``: list[Problem])
    ├── EventError                  an event file or webhook body cannot be used
    ├── SignatureError              a webhook signature does not verify
    ├── MappingError                a recipe expression failed at run time (names recipe, step, pointer, path)
    │   └── TransformError          a transform refused its value (raised by transforms, wrapped by mapping)
    ├── ActionError                 an action refused its input or the vendor refused the request
    │   ├── InputError              mapped input breaks the action's input schema
    │   ├── UnbalancedEntryError    debits differ from credits; raised before any request exists
    │   └── VendorError             the vendor answered with an error; ``.kind`` says what to do
    │       └── FileEffectError     a file effect's path is refused (permanent) or the file system failed (retry)
    ├── SendError                   a request got no answer (``.sent``: what was attempted, redacted)
    │   ├── NotSent                 it never reached the vendor (refused, connect timeout): safe to resend
    │   └── OutcomeUnknown          it may have reached the vendor (read timeout): same key, or look up first
    ├── Throttled                   no rate-governor slot within ``max_wait``; ``.retry_at`` says when
    ├── NeedsReauth                 a connection's refresh token is refused: connect it again
    │   └── NeedsNewKey             a key connection's key is refused: replace it, then connect
    ├── TokenRefused                the token endpoint refused the grant or the client; becomes NeedsReauth
    ├── StoreError                  the database cannot be opened or used now
    │   └── NotMigrated             the database is not at the newest migration (``ledgerlink db upgrade``)
    ├── NotFound                    no such run (or its recipe is gone)
    ├── Conflict                    the run or event is in a state the operation cannot take
    ├── InvalidRequest              an HTTP query parameter or body the route cannot use
    └── DemoError                   ``ledgerlink demo`` cannot start or finish

``NotSent`` and ``OutcomeUnknown`` are siblings on purpose: a handler of ``NotSent`` (resend
freely) must never catch an outcome that is unknown.

Kept outside the tree, because no user ever sees them: :class:`ledgerlink.jsonio.JSONDecodeError`
(a ``ValueError`` like the standard library's, always turned into one of the errors above
by whoever parses), and the engine's control flow from the runner to the worker,
:class:`ledgerlink.engine.retry.Retry`, :class:`ledgerlink.engine.retry.Fail`,
:class:`ledgerlink.engine.retry.Skipped`, :class:`ledgerlink.engine.retry.LeaseLost` and
:class:`ledgerlink.engine.review_steps.ShownAgain` (an approved run's later step differs from
what was reviewed: the run waits for review again): each ends one attempt of a run, never leaves the
engine, and is kept apart from ``LedgerlinkError`` so no handler of an error above catches it
(the worker stores its message as the run's error).
:class:`ledgerlink.io.http_pool.NotSent` and :class:`ledgerlink.io.http_pool.AnswerLost` are
the HTTP pool's own failures, below the tree on purpose: :mod:`ledgerlink.io.outbound` turns
them into ``NotSent`` and ``OutcomeUnknown`` with the request's description, and nothing else
sees them; :class:`ledgerlink.io.http_wire.Broken` (an answer that breaks HTTP/1.1) is one
connection's, and the pool turns it into ``AnswerLost``.

User input never reaches ``assert``: every check raises one of these with a message
that says what to fix. A message quotes a value it did not choose (an event's) with
:func:`quoted`, which bounds what it quotes.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:  # annotations only
    from ledgerlink.contract.limits import Limits


#: the most characters of a value an error message quotes (see :func:`quoted`)
QUOTE_LIMIT = 200


def quoted(value: Any, limit: int = QUOTE_LIMIT) -> str:
    """``repr(value)`` for an error message, bounded: past ``limit`` characters it is cut,
    with an ellipsis and the full length, so that a huge value (a 1 MB string in an event)
    never makes a huge error, log line or run record."""
    if isinstance(value, str) and len(value) > limit:  # cut before repr: no copy of it all
        return f"{value[:limit]!r}… ({len(value)} characters)"
    text = repr(value)
    if len(text) > limit:
        return f"{text[:limit]}… ({len(text)} characters)"
    return text


class LedgerlinkError(Exception):
    """Base of every error ledgerlink raises on purpose."""

    #: short machine-readable code used in the JSON error shape
    code = "error"
    #: HTTP status used when this error is answered over HTTP
    status = 400

    def __init__(self, message: str, **details: Any) -> None:
        super().__init__(message)
        self.message = message
        self.details = details


class PluginError(LedgerlinkError):
    code = "plugin_error"
    status = 500


class ConfigError(LedgerlinkError):
    code = "config_error"


@dataclass(frozen=True)
class Problem:
    """One thing wrong in a recipe: where it is and what would fix it."""

    file: str
    pointer: str
    message: str

    def __str__(self) -> str:
        return f"{self.file}:{self.pointer or '/'}: {self.message}"

    def as_dict(self) -> dict[str, str]:
        return {"file": self.file, "pointer": self.pointer or "/", "message": self.message}


class RecipeError(LedgerlinkError):
    code = "invalid_recipe"
    status = 422

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = list(problems)
        super().__init__("\n".join(str(p) for p in self.problems))


class EventError(LedgerlinkError):
    code = "invalid_event"


class SignatureError(LedgerlinkError):
    code = "invalid_signature"
    status = 401


class MappingError(LedgerlinkError):
    """A recipe expression failed while mapping an event.

    The message names the recipe, the step, the JSON pointer of the expression in
    the recipe file, and the path that failed.
    """

    code = "mapping_error"
    status = 422

    def __init__(self, reason: str, *, recipe: str = "", step: str = "", pointer: str = "",
                 path: str = "") -> None:
        self.reason = reason
        self.recipe = recipe
        self.step = step
        self.pointer = pointer
        self.path = path
        where = f"recipe {recipe!r}" if recipe else "recipe"
        if step:
            where += f", step {step!r}"
        where += f", at {pointer or '/'}"
        if path:
            where += f" (path {path})"
        super().__init__(f"{where}: {reason}", recipe=recipe, step=step, pointer=pointer or "/",
                         path=path)


class TransformError(MappingError):
    """Raised by a transform that cannot convert its value; mapping adds where it happened."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)


class ActionError(LedgerlinkError):
    code = "action_error"
    status = 422


class InputError(ActionError):
    code = "invalid_input"


class UnbalancedEntryError(ActionError):
    code = "unbalanced_entry"


class VendorError(ActionError):
    """The vendor refused a request, or its answer cannot be read.

    ``kind`` is one of:

    - ``"permanent"`` – retrying cannot help (validation); the run fails with the vendor's message;
    - ``"retry"`` – try again later (throttling, 5xx); ``retry_after`` seconds if the vendor said;
    - ``"reauth"`` – the connection's credentials must be refreshed or reconnected;
    - ``"unknown"`` – a write was answered with something that is not the vendor's answer
      (truncated JSON, an HTML page with status 200): the vendor may have done it, so the
      outcome is unknown, as after a timeout; the entity is looked up before any resend.
    """

    code = "vendor_error"
    status = 502
    KINDS = ("permanent", "retry", "reauth", "unknown")

    def __init__(self, message: str, *, kind: str = "permanent", status: int | None = None,
                 retry_after: float | None = None, vendor_code: str | None = None) -> None:
        if kind not in self.KINDS:
            raise ValueError(f"VendorError kind must be one of {self.KINDS}, not {kind!r}")
        self.kind = kind
        self.http_status = status
        self.retry_after = retry_after
        self.vendor_code = vendor_code
        super().__init__(message)


class FileEffectError(VendorError):
    """A file effect (:mod:`ledgerlink.contract.effects`) could not be performed.

    For a file connector the file system is the vendor: a path the effect may not name
    (absolute, ``..``, outside the connection's folder) or content its encoding cannot
    hold is ``"permanent"``; a failure of the file system (a missing folder, a full disk,
    a permission) is ``"retry"``: the journal of applied keys makes a retry safe.
    """

    code = "file_effect_error"

    def __init__(self, message: str, *, kind: str = "permanent") -> None:
        super().__init__(message, kind=kind)


class Attempt(Protocol):
    """What one send attempted, redacted, for the run log (``ledgerlink.io.outbound.Sent``)."""

    request: dict[str, Any]
    status: int | None
    body_text: str | None
    elapsed: float


class SendError(LedgerlinkError):
    """A request got no answer; ``.sent`` is what was attempted, redacted, for the run log."""

    code = "send_failed"
    status = 502

    def __init__(self, message: str, sent: Attempt | None = None) -> None:
        super().__init__(message)
        self.sent = sent


class NotSent(SendError):
    """The request never reached the vendor (connection refused, connect timeout): safe to retry."""

    code = "not_sent"


class OutcomeUnknown(SendError):
    """The request may have reached the vendor but no answer came (read timeout, dropped
    connection): retry only with the same idempotency key, or look the entity up first."""

    code = "outcome_unknown"
    status = 504


class Throttled(LedgerlinkError):
    """No rate-governor slot could be had within ``max_wait``; nothing was taken.

    - ``reason``: ``"window"``, ``"concurrent"``, ``"daily"`` or ``"paused"`` (the binding limit);
    - ``until``: the governor-clock time (``time.monotonic`` by default) when a slot is
      expected -- a lower bound; for ``"concurrent"`` nobody can tell, so it is the time of
      giving up: try again soon;
    - ``delay``: ``until`` minus the time of raising, in seconds;
    - ``retry_at``: the same moment as a wall-clock Unix time, for rescheduling a run durably;
    - ``key``, ``limits``: which tenant, under which limits.
    """

    code = "throttled"
    status = 503

    def __init__(self, message: str, *, key: str, reason: str, until: float,
                 delay: float, retry_at: float, limits: Limits | None = None) -> None:
        super().__init__(message)
        self.key = key
        self.reason = reason
        self.until = until
        self.delay = delay
        self.retry_at = retry_at
        self.limits = limits

    def __reduce__(self) -> tuple[object, tuple[object, ...]]:
        # keyword-only arguments: pickle through a helper
        return (_rebuild_throttled, (self.message, self.key, self.reason, self.until,
                                     self.delay, self.retry_at, self.limits))


def _rebuild_throttled(message: str, key: str, reason: str, until: float, delay: float,
                       retry_at: float, limits: Limits | None) -> Throttled:
    return Throttled(message, key=key, reason=reason, until=until, delay=delay,
                     retry_at=retry_at, limits=limits)


class NeedsReauth(LedgerlinkError):
    """The connection's refresh token is no longer accepted; someone must connect it again."""

    code = "needs_reauth"
    status = 409

    def __init__(self, connection: str, reason: str = "") -> None:
        self.connection = connection
        super().__init__(f"connection {connection!r} needs to be connected again (`ledgerlink connect "
                         f"{connection}`): {reason or 'its refresh token was refused'}")


class TokenRefused(LedgerlinkError):
    """The OAuth token endpoint answered ``invalid_grant`` or ``invalid_client``: no retry helps
    and a person must act (``.reason`` says what to do). The host marks the token set
    ``needs_reauth`` and raises :class:`NeedsReauth` for the connection that asked."""

    code = "token_refused"
    status = 409

    def __init__(self, reason: str) -> None:
        self.reason = reason
        super().__init__(reason)


class NeedsNewKey(NeedsReauth):
    """The vendor refused the key of a connection without OAuth (rolled or revoked): someone
    must put a new key in the environment and check it with ``ledgerlink connect NAME``."""

    code = "needs_new_key"

    def __init__(self, connection: str, reason: str = "") -> None:
        self.connection = connection
        LedgerlinkError.__init__(
            self, f"connection {connection!r} needs a new key: {reason or 'the vendor refused its key'}; "
                  f"replace the secret in the environment, then run `ledgerlink connect {connection}`")


class StoreError(LedgerlinkError):
    """The database cannot be used: it cannot be opened, or it cannot take writes now."""

    code = "store_error"
    status = 503


class NotMigrated(StoreError):
    """The database is not at the newest migration; ``ledgerlink db upgrade`` brings it there."""


class NotFound(LedgerlinkError):
    """No such run, or its recipe is no longer active."""

    code = "not_found"
    status = 404


class Conflict(LedgerlinkError):
    """The run or event is in a state the operation cannot take (replay, undo)."""

    code = "conflict"
    status = 409


class InvalidRequest(LedgerlinkError):
    """A query parameter or body the route cannot use."""

    code = "invalid_request"
    status = 400


class DemoError(LedgerlinkError):
    """``ledgerlink demo`` cannot start or finish (no sandbox, a timeout, serve exited)."""

    code = "demo_failed"


def error_body(status: int, code: str, message: str, details: Any = None) -> dict[str, Any]:
    """The one JSON error shape, used by every HTTP error and by ``--json`` CLI output.

    ``{"error": {"status": 422, "code": "invalid_recipe", "message": "...", "details": ...}}``
    """
    body: dict[str, Any] = {"status": status, "code": code, "message": message}
    if details is not None:
        body["details"] = details
    return {"error": body}


def error_body_for(exc: LedgerlinkError) -> dict[str, Any]:
    """The error shape for one of our exceptions."""
    if isinstance(exc, RecipeError):
        return error_body(exc.status, exc.code, f"{len(exc.problems)} problem(s) in recipes",
                          [p.as_dict() for p in exc.problems])
    return error_body(exc.status, exc.code, exc.message, exc.details or None)
