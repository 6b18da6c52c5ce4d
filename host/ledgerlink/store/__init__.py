"""The durable store: SQLAlchemy Core over SQLite (default) or PostgreSQL.

Tables (the schema is created and changed only by the Alembic migrations in
``ledgerlink/migrations``; ``ledgerlink db upgrade`` applies them):

``events``           the inbox: one row per (connection, event id), stored before the webhook is answered
``recipe_versions``  every recipe version ever loaded, with its body, so a run finishes on its own version
``runs``             one per (recipe id, recipe version, event): unique, so an event never runs a version twice
``run_steps``        the run log: each attempt of each step, input, redacted request, bounded response
``links``            source object ↔ entity created in the target system, per connection
``connection_secrets`` OAuth tokens and other connection secrets, encrypted at rest
``governor_*``       requests started per vendor tenant, so processes share the rate governor
``cursors``          trigger cursors (polls), kept across reloads and restarts; a poll's row is
                     also its schedule and its lease, so it fires once across processes; the
                     row ``ledgerlink:health`` is what the write probe of :meth:`Store.health` updates

Times are Unix seconds (float). JSON columns hold text written by :mod:`ledgerlink.jsonio`,
so amounts stay exact.
"""

from __future__ import annotations

import logging
import secrets
import threading
import time
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from importlib import resources
from typing import Any

import sqlalchemy as sa
from sqlalchemy import event as sa_event

from ledgerlink import jsonio
from ledgerlink.errors import NotMigrated, StoreError

log = logging.getLogger("ledgerlink")

DEFAULT_URL = "sqlite:///ledgerlink.db"
#: a response body longer than this is cut in the run log
MAX_LOGGED_BODY = 8192

metadata = sa.MetaData()

events = sa.Table(
    "events", metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("connection", sa.String(100), nullable=False),
    sa.Column("event_id", sa.String(255), nullable=False),
    sa.Column("trigger", sa.String(200), nullable=False),
    sa.Column("received_at", sa.Float, nullable=False),
    sa.Column("payload", sa.Text, nullable=False),
    # a notification carrying ids only: "pending" until its entity is fetched and its runs
    # planned, then "done"; "gone" when the entity no longer exists; "failed" after the
    # last attempt. NULL: nothing to fetch (runs were planned on arrival).
    sa.Column("fetch_state", sa.String(10), nullable=True),
    sa.Column("fetch_attempts", sa.Integer, nullable=False, server_default="0"),
    sa.Column("fetch_due_at", sa.Float, nullable=True),
    sa.Column("fetch_owner", sa.String(100), nullable=True),
    sa.Column("fetch_until", sa.Float, nullable=True),
    sa.Column("fetch_error", sa.Text, nullable=True),
    sa.UniqueConstraint("connection", "event_id", name="uq_events_connection_event"),
    sa.Index("ix_events_fetch", "fetch_state", "fetch_due_at"),
)

recipe_versions = sa.Table(
    "recipe_versions", metadata,
    sa.Column("recipe_id", sa.String(100), primary_key=True),
    sa.Column("version", sa.Integer, primary_key=True),
    sa.Column("body", sa.Text, nullable=False),
    sa.Column("file", sa.String(500), nullable=False, server_default=""),
    sa.Column("loaded_at", sa.Float, nullable=False),
)

runs = sa.Table(
    "runs", metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("recipe_id", sa.String(100), nullable=False),
    sa.Column("recipe_version", sa.Integer, nullable=False),
    sa.Column("event_pk", sa.Integer, sa.ForeignKey("events.id"), nullable=False),
    sa.Column("status", sa.String(20), nullable=False),
    sa.Column("attempts", sa.Integer, nullable=False, server_default="0"),
    sa.Column("due_at", sa.Float, nullable=False),
    sa.Column("lease_owner", sa.String(100), nullable=True),
    sa.Column("lease_until", sa.Float, nullable=True),
    sa.Column("created_at", sa.Float, nullable=False),
    sa.Column("updated_at", sa.Float, nullable=False),
    sa.Column("last_error", sa.Text, nullable=True),
    sa.Column("key_generation", sa.Integer, nullable=False, server_default="0"),
    sa.Column("paused_on", sa.String(100), nullable=True),
    sa.UniqueConstraint("recipe_id", "recipe_version", "event_pk", name="uq_runs_recipe_version_event"),
    sa.Index("ix_runs_status_due", "status", "due_at"),
    sa.Index("ix_runs_recipe", "recipe_id", "created_at"),
)

run_steps = sa.Table(
    "run_steps", metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("run_id", sa.Integer, sa.ForeignKey("runs.id"), nullable=False),
    sa.Column("step_id", sa.String(64), nullable=False),
    sa.Column("attempt", sa.Integer, nullable=False),
    sa.Column("status", sa.String(20), nullable=False),
    sa.Column("input", sa.Text, nullable=True),
    sa.Column("request", sa.Text, nullable=True),
    sa.Column("response_status", sa.Integer, nullable=True),
    sa.Column("response_body", sa.Text, nullable=True),
    sa.Column("output", sa.Text, nullable=True),
    sa.Column("external_id", sa.String(255), nullable=True),
    sa.Column("idempotency_key", sa.String(64), nullable=True),
    sa.Column("started_at", sa.Float, nullable=False),
    sa.Column("finished_at", sa.Float, nullable=True),
    sa.Column("error", sa.Text, nullable=True),
    sa.Index("ix_run_steps_run", "run_id", "step_id"),
)

links = sa.Table(
    "links", metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("source_connection", sa.String(100), nullable=False),
    sa.Column("source_id", sa.String(255), nullable=False),
    sa.Column("target_connection", sa.String(100), nullable=False),
    sa.Column("target_type", sa.String(100), nullable=False),
    sa.Column("target_id", sa.String(255), nullable=False),
    sa.Column("run_id", sa.Integer, sa.ForeignKey("runs.id"), nullable=True),
    sa.Column("step_id", sa.String(64), nullable=True),
    sa.Column("created_at", sa.Float, nullable=False),
    sa.UniqueConstraint("target_connection", "target_type", "target_id", name="uq_links_target"),
    sa.Index("ix_links_source", "source_connection", "source_id"),
)

connection_secrets = sa.Table(
    "connection_secrets", metadata,
    sa.Column("connection", sa.String(100), primary_key=True),
    sa.Column("data", sa.LargeBinary, nullable=False),
    sa.Column("status", sa.String(20), nullable=False, server_default="ok"),
    sa.Column("updated_at", sa.Float, nullable=False),
)

cursors = sa.Table(
    "cursors", metadata,
    sa.Column("name", sa.String(200), primary_key=True),
    sa.Column("value", sa.Text, nullable=False),
    sa.Column("updated_at", sa.Float, nullable=False),
    # a poll's row is its schedule and its lock: due_at, and who holds it until when
    sa.Column("due_at", sa.Float, nullable=True),
    sa.Column("lease_owner", sa.String(100), nullable=True),
    sa.Column("lease_until", sa.Float, nullable=True),
    sa.Column("last_error", sa.Text, nullable=True),
)


governor_starts = sa.Table(
    "governor_starts", metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("key", sa.String(200), nullable=False),
    sa.Column("started_at", sa.Float, nullable=False),
    sa.Column("finished_at", sa.Float, nullable=True),
    sa.Column("holder", sa.String(100), nullable=False),
    sa.Index("ix_governor_starts_key_started", "key", "started_at"),
)

governor_pauses = sa.Table(
    "governor_pauses", metadata,
    sa.Column("key", sa.String(200), primary_key=True),
    sa.Column("until", sa.Float, nullable=False),
)


def _insert_ignore_plain(table: sa.Table, *conflict: str) -> Any:
    """INSERT … ON CONFLICT DO NOTHING, for SQLite and PostgreSQL alike."""
    from sqlalchemy.dialects import postgresql, sqlite

    return {"sqlite": sqlite.insert(table).on_conflict_do_nothing(index_elements=list(conflict)),
            "postgresql": postgresql.insert(table).on_conflict_do_nothing(index_elements=list(conflict))}


def _insert_ignore(table: sa.Table, *conflict: str) -> Any:
    """INSERT … ON CONFLICT DO NOTHING RETURNING id, for SQLite and PostgreSQL alike."""
    return {dialect: stmt.returning(table.c.id) for dialect, stmt in _insert_ignore_plain(table, *conflict).items()}


# statements built once: building a statement costs more than running it on SQLite
_INSERT_EVENT_BY_DIALECT = _insert_ignore(events, "connection", "event_id")
_INSERT_LINK_BY_DIALECT = _insert_ignore(links, "target_connection", "target_type", "target_id")
_INSERT_RECIPE_VERSION = _insert_ignore_plain(recipe_versions, "recipe_id", "version")
_FIND_EVENT = sa.select(events.c.id).where(events.c.connection == sa.bindparam("connection"),
                                           events.c.event_id == sa.bindparam("event_id"))
_INSERT_RUN = runs.insert().values(status="pending", attempts=0).returning(runs.c.id)
#: a run that failed as it was planned (its trigger filter cannot be evaluated on the event)
_INSERT_FAILED_RUN = runs.insert().values(status="failed", attempts=0).returning(runs.c.id)
_INSERT_STEP = run_steps.insert()
_FINISH = (runs.update()
           .where(runs.c.id == sa.bindparam("run_id"), runs.c.lease_owner == sa.bindparam("owner"),
                  runs.c.status == "running")
           .values(status=sa.bindparam("new_status"), lease_owner=None, lease_until=None,
                   updated_at=sa.bindparam("now"), last_error=sa.bindparam("error"),
                   due_at=sa.func.coalesce(sa.bindparam("due", type_=sa.Float), runs.c.due_at),
                   attempts=runs.c.attempts - sa.bindparam("uncount", type_=sa.Integer)))

#: run states; a run is "open" while pending, running or retrying
OPEN = ("pending", "running", "retrying")
CLOSED = ("succeeded", "failed", "dead", "undone")


#: SQLite's primary result codes that mean the database cannot take a write now, not a bad
#: statement: BUSY, LOCKED, NOMEM, READONLY, IOERR, CORRUPT, FULL, CANTOPEN, NOTADB
_SQLITE_UNAVAILABLE = {5, 6, 7, 8, 10, 11, 13, 14, 26}
#: the cursors row the write probe updates
HEALTH_ROW = "ledgerlink:health"


def unavailable(exc: BaseException) -> bool:
    """True when a database error means the store cannot take a write now (disk full,
    database read-only, locked or unreachable), rather than a statement ledgerlink got wrong."""
    if not isinstance(exc, sa.exc.DBAPIError):
        return False
    if exc.connection_invalidated:
        return True
    code = getattr(exc.orig, "sqlite_errorcode", None)
    if code is not None:
        return code & 0xFF in _SQLITE_UNAVAILABLE
    if isinstance(exc, sa.exc.OperationalError):  # PostgreSQL: connection lost, disk full, shutting down
        return True
    return (getattr(exc.orig, "sqlstate", None) or "") == "25006"  # read-only (a standby after failover)


def _reason(exc: BaseException) -> str:
    """The database's own words for a store error, on one line (no statement, no parameters)."""
    orig = getattr(exc, "orig", None) or exc
    text = " ".join(str(orig).split()) or type(orig).__name__
    return text[:300]


@dataclass(frozen=True)
class StoreHealth:
    """Whether the store takes writes: ``error`` says why not, since ``since`` (Unix time)."""

    writable: bool
    error: str | None = None
    since: float | None = None


@dataclass(frozen=True)
class ClaimedRun:
    id: int
    recipe_id: str
    recipe_version: int
    event_pk: int
    attempts: int
    key_generation: int
    connection: str
    event_id: str
    trigger: str
    payload: str


@dataclass(frozen=True)
class EarlierWrite:
    """One attempt of a step that sent a write and did not succeed (the run log)."""

    run_id: int
    idempotency_key: str | None
    #: "failed" (the vendor refused, or the request was not sent) or "unknown" (no answer,
    #: or one that could not be read: the vendor may have done it)
    status: str
    #: the HTTP status of the answer; None when none came
    response_status: int | None
    started_at: float


@dataclass(frozen=True)
class ClaimedFetch:
    """A stored notification whose entity is to be fetched before its runs are planned."""

    id: int
    connection: str
    event_id: str
    trigger: str
    payload: str
    attempts: int


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    # FULL: a commit (and so a webhook's 2xx) survives a power loss, not only a crash;
    # the inbox's group commit keeps that to one sync per batch of deliveries
    cursor.execute("PRAGMA synchronous=FULL")
    cursor.execute("PRAGMA busy_timeout=10000")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()


#: PostgreSQL connections per process: a worker thread holds one for a statement at a time,
#: the inbox writer one, the listener one; overflow covers bursts of API calls
PG_POOL_SIZE = 10
PG_MAX_OVERFLOW = 20
#: milliseconds a statement may run, and wait for a lock, before it is cancelled
PG_STATEMENT_TIMEOUT_MS = 30_000
PG_LOCK_TIMEOUT_MS = 10_000


def driver_url(url: str) -> str:
    """``postgresql://`` means psycopg 3 (SQLAlchemy would pick psycopg2 otherwise)."""
    if url.startswith("postgresql://") or url.startswith("postgres://"):
        return "postgresql+psycopg://" + url.split("://", 1)[1]
    return url


def make_engine(url: str, durable: bool = True, pool_size: int | None = None) -> sa.Engine:
    """An engine for ``url``; SQLite gets WAL, a busy timeout and foreign keys.

    ``durable=False`` (PostgreSQL): commits do not wait for their WAL to reach the disk
    (``synchronous_commit=off``), for coordination state whose loss in a server crash is
    harmless (the shared governor's counts); webhooks and runs are always durable.
    """
    if url.startswith("sqlite"):
        engine = sa.create_engine(url, connect_args={"check_same_thread": False, "timeout": 10},
                                  pool_size=20, max_overflow=20)
        sa_event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    return sa.create_engine(
        driver_url(url),
        # a connection the server dropped (a restart, a failover) is noticed and replaced
        # before use; none is kept longer than half an hour
        pool_pre_ping=True, pool_recycle=1800, pool_size=pool_size or PG_POOL_SIZE, max_overflow=PG_MAX_OVERFLOW,
        pool_timeout=30,
        connect_args={
            "connect_timeout": 5,
            "application_name": "ledgerlink",
            # no statement waits forever on a lock or runs away; an abandoned transaction
            # does not hold its locks
            "options": f"-c statement_timeout={PG_STATEMENT_TIMEOUT_MS} -c lock_timeout={PG_LOCK_TIMEOUT_MS} "
                       f"-c idle_in_transaction_session_timeout=60000"
                       + ("" if durable else " -c synchronous_commit=off"),
        })


def alembic_config(url: str) -> Any:
    from alembic.config import Config as AlembicConfig

    cfg = AlembicConfig()
    cfg.set_main_option("script_location", str(resources.files("ledgerlink.store").joinpath("migrations")))
    cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return cfg


def upgrade(url: str, revision: str = "head") -> str:
    """Apply the migrations up to ``revision``; returns the revision now current."""
    from alembic import command

    cfg = alembic_config(url)
    command.upgrade(cfg, revision)
    engine = make_engine(url)
    try:
        return current_revision(engine) or ""
    finally:
        engine.dispose()


def head_revision(url: str = DEFAULT_URL) -> str:
    from alembic.script import ScriptDirectory

    return ScriptDirectory.from_config(alembic_config(url)).get_current_head() or ""


def current_revision(engine: sa.Engine) -> str | None:
    from alembic.runtime.migration import MigrationContext

    with engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


def _dump(value: Any) -> str | None:
    return None if value is None else jsonio.dumps(value)


def bounded(text: str | None, limit: int = MAX_LOGGED_BODY) -> str | None:
    if text is None or len(text) <= limit:
        return text
    return text[:limit] + f"…[{len(text) - limit} more characters]"


class _GroupCommit:
    """Funnels concurrent inbox writes through one thread that commits them together.

    A caller hands over its deliveries and blocks until the transaction holding them has
    committed (or failed: then every caller of that batch gets the exception and answers
    with an error, so the sender retries). Duplicate deliveries inside one batch are
    handled by the same insert-or-ignore as across batches.
    """

    MAX_BATCH = 256

    def __init__(self, write: Any) -> None:
        self._write = write
        self._lock = threading.Lock()
        self._pending: list[tuple[Any, list[Any], float | None, dict[str, Any], threading.Event]] = []
        self._wake = threading.Condition(self._lock)
        self._thread: threading.Thread | None = None

    def submit(self, connection: str, items: list[Any], now: float | None) -> Any:
        done = threading.Event()
        slot: dict[str, Any] = {}
        with self._lock:
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(target=self._run, name="ledgerlink-inbox-writer", daemon=True)
                self._thread.start()
            self._pending.append((connection, items, now, slot, done))
            self._wake.notify()
        done.wait()
        if "error" in slot:
            raise slot["error"]
        return slot["result"]

    def _run(self) -> None:
        while True:
            with self._lock:
                while not self._pending:
                    self._wake.wait()
                batch, self._pending = self._pending[:self.MAX_BATCH], self._pending[self.MAX_BATCH:]
            try:
                results = self._write([(c, i, n) for c, i, n, _, _ in batch])
            except Exception as exc:  # every waiter of the batch answers with an error
                for *_, slot, done in batch:
                    slot["error"] = exc
                    done.set()
                continue
            for (*_, slot, done), result in zip(batch, results):
                slot["result"] = result
                done.set()


class Store:
    """Every read and write of ledgerlink's state. Thread-safe (a connection per call)."""

    def __init__(self, url: str = DEFAULT_URL, engine: sa.Engine | None = None) -> None:
        self.url = url
        self.engine = engine or make_engine(url)
        # SQLite lets one writer in at a time and makes the others poll with sleeps of up to
        # 100 ms; queueing writers on a lock inside the process is fair and far faster
        self._write_lock = threading.Lock() if self.engine.dialect.name == "sqlite" else None
        self._committer = _GroupCommit(self._ingest_batch)
        self._postgres = self.engine.dialect.name == "postgresql"
        self._insert_event = _INSERT_EVENT_BY_DIALECT[self.engine.dialect.name]
        self._insert_link = _INSERT_LINK_BY_DIALECT[self.engine.dialect.name]
        #: seconds a write probe's answer is reused (see :meth:`health`)
        self.probe_seconds = 2.0
        #: bytes the probe writes while the store is down: it is up again only once a write
        #: as large as the largest delivery fits (the runtime sets its max_body_bytes)
        self.recovery_probe_bytes = 1_000_000
        self._health = StoreHealth(True)
        self._probed_at: float | None = None
        self._health_lock = threading.Lock()
        self._probe_lock = threading.Lock()

    #: the channel workers LISTEN on (PostgreSQL): "there is work", sent at commit
    CHANNEL = "ledgerlink_work"

    def _wake_others(self, conn: sa.Connection) -> None:
        """Tell every process's workers, when this transaction commits, that runs or
        fetches are due (PostgreSQL NOTIFY; other processes on SQLite poll)."""
        if self._postgres:
            conn.exec_driver_sql(f"NOTIFY {self.CHANNEL}")

    def listen(self, wake: Any, stop: threading.Event, timeout: float = 1.0) -> None:
        """Call ``wake()`` whenever another process says there is work (PostgreSQL
        LISTEN/NOTIFY), until ``stop`` is set. Reconnects after the server went away; the
        workers' polling covers the gap. Returns at once on SQLite."""
        if not self._postgres:
            return
        import psycopg

        conninfo = sa.engine.make_url(driver_url(self.url)).set(drivername="postgresql") \
            .render_as_string(hide_password=False)
        while not stop.is_set():
            try:
                with psycopg.connect(conninfo, autocommit=True, connect_timeout=5,
                                     application_name="ledgerlink-listener") as conn:
                    conn.execute(f"LISTEN {self.CHANNEL}")
                    wake()  # whatever was sent while not listening
                    while not stop.is_set():
                        for _ in conn.notifies(timeout=timeout, stop_after=1):
                            wake()
            except psycopg.Error:
                stop.wait(1.0)

    @contextmanager
    def _write(self) -> Iterator[sa.Connection]:
        """A write transaction; on SQLite, one at a time in this process. A failure that
        means the store cannot take writes (:func:`unavailable`) is noted (:meth:`note_unavailable`)."""
        try:
            if self._write_lock is None:
                with self.engine.begin() as conn:
                    yield conn
            else:
                with self._write_lock, self.engine.begin() as conn:
                    yield conn
        except sa.exc.DBAPIError as exc:
            if unavailable(exc):
                self.note_unavailable(exc)
            raise

    # --- health ----------------------------------------------------------------------------

    def note_unavailable(self, exc: BaseException) -> None:
        """Record that the store cannot take writes; logs one warning when that starts."""
        with self._health_lock:
            if not self._health.writable:
                return
            self._health = StoreHealth(False, _reason(exc), time.time())
        log.warning("the database %s cannot take writes: %s; webhooks are answered 503 (the vendors "
                    "resend) and runs wait until it can", self.safe_url, self._health.error)

    def _note_writable(self) -> None:
        with self._health_lock:
            was = self._health
            if was.writable:
                return
            self._health = StoreHealth(True)
        log.warning("the database %s takes writes again, after %.0f s", self.safe_url,
                    time.time() - (was.since or time.time()))

    @property
    def last_health(self) -> StoreHealth:
        """What the last write or probe showed, without probing."""
        return self._health

    def health(self) -> StoreHealth:
        """Whether the store takes a write now: a write probe (the ``ledgerlink:health`` row
        updated in a transaction that commits) at most every ``probe_seconds``; between
        probes, what it and every write since showed, so a write that fails between probes
        is reported at once. Only a probe clears a failure, and while the store is down the
        probe writes ``recovery_probe_bytes`` of incompressible text: a nearly full disk
        can take a small write where a delivery no longer fits."""
        now = time.monotonic()
        if self._probed_at is not None and now - self._probed_at < self.probe_seconds:
            return self._health
        if not self._probe_lock.acquire(blocking=False):  # another thread is probing
            return self._health
        try:
            self._probe()
            self._probed_at = time.monotonic()
        finally:
            self._probe_lock.release()
        return self._health

    def _probe(self) -> None:
        now = time.time()
        value = repr(now) if self._health.writable else secrets.token_hex(self.recovery_probe_bytes // 2)
        try:
            with self._write() as conn:
                if conn.execute(cursors.update().where(cursors.c.name == HEALTH_ROW)
                                .values(value=value, updated_at=now)).rowcount == 0:
                    conn.execute(_insert_ignore_plain(cursors, "name")[self.engine.dialect.name],
                                 {"name": HEALTH_ROW, "value": value, "updated_at": now})
        except sa.exc.DBAPIError as exc:  # the probe's statements are right: any error is the store's
            self.note_unavailable(exc)
        else:
            self._note_writable()

    # --- lifecycle -------------------------------------------------------------------------

    def check_migrated(self) -> None:
        """Raise NotMigrated unless the database is at the newest migration."""
        head = head_revision(self.url)
        try:
            current = current_revision(self.engine)
        except sa.exc.OperationalError as exc:
            raise StoreError(f"cannot open the database {self.safe_url}: {exc.orig}") from None
        if current != head:
            raise NotMigrated(
                f"the database {self.safe_url} is at migration {current or 'none'}, not {head}; "
                f"run `ledgerlink db upgrade --db {self.safe_url}` first")

    @property
    def safe_url(self) -> str:
        """The URL with any password hidden."""
        return sa.engine.make_url(self.url).render_as_string(hide_password=True)

    def dispose(self) -> None:
        self.engine.dispose()

    # --- inbox and planning ----------------------------------------------------------------

    def ingest(self, connection: str, items: Iterable[tuple[str, str, Any, list[tuple[str, int]]]],
               now: float | None = None) -> list[tuple[int, bool, list[int]]]:
        """Store events and plan their runs; returns only once they are committed.

        ``items``: ``(event_id, trigger, payload, [(recipe_id, version), ...])``; a planned
        ``(recipe_id, version, error)`` is a run stored as failed with that error. An event
        already in the inbox is not stored again and plans nothing new. Returns, per item,
        ``(event pk, newly stored?, new run ids)``.

        Concurrent callers are committed together (group commit): one writer thread takes
        every delivery waiting and stores them in one transaction, so a burst of webhooks
        costs one commit, not one each. Each caller still waits for its own commit.
        """
        return self._committer.submit(connection, list(items), now)

    def _ingest_batch(self, batch: list[tuple[str, list[Any], float | None]]) -> list[list[tuple[int, bool, list[int]]]]:
        with self._write() as conn:
            out = [self._ingest_items(conn, connection, items, time.time() if now is None else now)
                   for connection, items, now in batch]
            if any(new for results in out for _, new, _ in results):
                self._wake_others(conn)
            return out

    def _ingest_items(self, conn: sa.Connection, connection: str, items: Iterable[Any],
                      now: float) -> list[tuple[int, bool, list[int]]]:
        """Insert events (ignoring those already stored) and plan their runs, inside ``conn``.

        An item is ``(event_id, trigger, payload, planned)`` or, for a notification whose
        entity is fetched before runs are planned, ``(…, planned, True)``.
        """
        results = []
        for item in items:
            event_id, trigger, payload, planned = item[:4]
            fetch = len(item) > 4 and bool(item[4])
            pk = conn.execute(self._insert_event, {
                "connection": connection, "event_id": event_id, "trigger": trigger, "received_at": now,
                "payload": payload if isinstance(payload, str) else jsonio.dumps(payload),
                "fetch_state": "pending" if fetch else None, "fetch_attempts": 0,
                "fetch_due_at": now if fetch else None}).scalar()
            if pk is None:  # already in the inbox
                existing = conn.execute(_FIND_EVENT, {"connection": connection, "event_id": event_id}).scalar()
                results.append((existing, False, []))
                continue
            results.append((pk, True, self._plan_runs(conn, pk, planned, now)))
        return results

    @staticmethod
    def _plan_runs(conn: sa.Connection, pk: int, planned: Iterable[tuple[Any, ...]], now: float) -> list[int]:
        """Insert the planned runs: ``(recipe_id, version)`` is due now; ``(recipe_id, version,
        error)`` is stored as failed with that error (it is replayed, never retried)."""
        return [conn.execute(_INSERT_FAILED_RUN if len(run) > 2 else _INSERT_RUN, {
                    "recipe_id": run[0], "recipe_version": run[1], "event_pk": pk, "due_at": now,
                    "created_at": now, "updated_at": now,
                    **({"last_error": run[2]} if len(run) > 2 else {})}).scalar()
                for run in planned]

    # --- notifications fetched before planning ----------------------------------------------

    def claim_fetches(self, owner: str, lease_seconds: float, limit: int = 1,
                      now: float | None = None) -> list[ClaimedFetch]:
        """Take up to ``limit`` due notifications whose entity must be fetched (or whose
        fetch lease expired), like :meth:`claim` takes runs."""
        now = time.time() if now is None else now
        claimable = sa.and_(events.c.fetch_state == "pending", events.c.fetch_due_at <= now,
                            sa.or_(events.c.fetch_until.is_(None), events.c.fetch_until < now))
        pick = (sa.select(events.c.id).where(claimable).order_by(events.c.fetch_due_at, events.c.id)
                .limit(limit).with_for_update(skip_locked=True).scalar_subquery())
        with self._write() as conn:
            rows = conn.execute(
                events.update().where(events.c.id.in_(pick))
                .values(fetch_owner=owner, fetch_until=now + lease_seconds,
                        fetch_attempts=events.c.fetch_attempts + 1)
                .returning(events.c.id, events.c.connection, events.c.event_id, events.c.trigger,
                           events.c.payload, events.c.fetch_attempts)).all()
        return [ClaimedFetch(*row) for row in sorted(rows)]

    def fetched(self, pk: int, owner: str, payload: Any, planned: Iterable[tuple[str, int]],
                gone: bool = False, now: float | None = None) -> list[int] | None:
        """Store the fetched entity as the event's payload and plan its runs, in one
        transaction. ``gone``: the entity no longer exists; nothing is planned. Returns the
        new run ids, or None when the lease was lost (another worker fetches it)."""
        now = time.time() if now is None else now
        values: dict[str, Any] = {"fetch_state": "gone" if gone else "done", "fetch_owner": None,
                                  "fetch_until": None, "fetch_error": None}
        if payload is not None:
            values["payload"] = payload if isinstance(payload, str) else jsonio.dumps(payload)
        with self._write() as conn:
            held = conn.execute(events.update().where(events.c.id == pk, events.c.fetch_owner == owner,
                                                      events.c.fetch_state == "pending")
                                .values(**values)).rowcount == 1
            if not held:
                return None
            if gone:
                return []
            run_ids = self._plan_runs(conn, pk, planned, now)
            if run_ids:
                self._wake_others(conn)
            return run_ids

    def fetch_later(self, pk: int, owner: str, error: str, due_at: float | None, count_attempt: bool = True,
                    now: float | None = None) -> bool:
        """Give a fetch back: due again at ``due_at``, or ``failed`` for good when None."""
        values: dict[str, Any] = {"fetch_owner": None, "fetch_until": None, "fetch_error": error}
        if due_at is None:
            values["fetch_state"] = "failed"
        else:
            values["fetch_due_at"] = due_at
        if not count_attempt:
            values["fetch_attempts"] = events.c.fetch_attempts - 1
        with self._write() as conn:
            return conn.execute(events.update().where(events.c.id == pk, events.c.fetch_owner == owner,
                                                      events.c.fetch_state == "pending")
                                .values(**values)).rowcount == 1

    def refetch(self, pk: int, now: float | None = None) -> bool:
        """Fetch a ``failed`` or ``gone`` notification again (an operator's replay)."""
        now = time.time() if now is None else now
        with self._write() as conn:
            return conn.execute(events.update().where(events.c.id == pk,
                                                      events.c.fetch_state.in_(("failed", "gone")))
                                .values(fetch_state="pending", fetch_due_at=now, fetch_attempts=0,
                                        fetch_error=None)).rowcount == 1

    def fetch_counts(self) -> dict[str, int]:
        with self.engine.connect() as conn:
            return {state: count for state, count in conn.execute(
                sa.select(events.c.fetch_state, sa.func.count()).where(events.c.fetch_state.is_not(None))
                .group_by(events.c.fetch_state))}

    # --- polls: a cursor row is the poll's schedule and its lock -------------------------------

    def claim_poll(self, name: str, owner: str, lease_seconds: float,
                   now: float | None = None) -> tuple[bool, str | None]:
        """Take the poll ``name`` if it is due and nobody holds it. Returns (taken, cursor);
        the cursor is None before the first successful poll. A compare-and-set on one row,
        so exactly one process of many takes each due poll."""
        now = time.time() if now is None else now
        with self._write() as conn:
            conn.execute(_insert_ignore_plain(cursors, "name")[self.engine.dialect.name],
                         {"name": name, "value": "", "updated_at": now, "due_at": now})
            row = conn.execute(
                cursors.update().where(cursors.c.name == name, sa.or_(cursors.c.due_at.is_(None),
                                                                      cursors.c.due_at <= now),
                                       sa.or_(cursors.c.lease_until.is_(None), cursors.c.lease_until < now))
                .values(lease_owner=owner, lease_until=now + lease_seconds)
                .returning(cursors.c.value)).first()
        if row is None:
            return False, None
        return True, (row[0] or None)

    def finish_poll(self, name: str, owner: str, connection: str, items: Iterable[Any], cursor: str,
                    due_at: float, now: float | None = None) -> list[tuple[int, bool, list[int]]] | None:
        """Store what a poll found, advance its cursor and schedule the next poll, in one
        transaction. None (nothing stored) when the lease was lost meanwhile."""
        now = time.time() if now is None else now
        with self._write() as conn:
            held = conn.execute(cursors.update().where(cursors.c.name == name, cursors.c.lease_owner == owner)
                                .values(value=cursor, updated_at=now, due_at=due_at, lease_owner=None,
                                        lease_until=None, last_error=None)).rowcount == 1
            if not held:
                conn.rollback()
                return None
            results = self._ingest_items(conn, connection, items, now)
            if any(new for _, new, _ in results):
                self._wake_others(conn)
            return results

    def fail_poll(self, name: str, owner: str, error: str, due_at: float) -> bool:
        """Give a poll back after an error; the cursor stays where it was."""
        with self._write() as conn:
            return conn.execute(cursors.update().where(cursors.c.name == name, cursors.c.lease_owner == owner)
                                .values(due_at=due_at, lease_owner=None, lease_until=None,
                                        last_error=error)).rowcount == 1

    def polls(self) -> list[dict[str, Any]]:
        with self.engine.connect() as conn:
            return [dict(row) for row in conn.execute(
                sa.select(cursors.c.name, cursors.c.value, cursors.c.updated_at, cursors.c.due_at,
                          cursors.c.lease_owner, cursors.c.last_error)
                .where(cursors.c.name.like("poll:%"))).mappings()]

    def plan(self, event_pk: int, recipe_id: str, version: int, now: float | None = None,
             key_generation: int = 0) -> int | None:
        """Plan one run; None when (recipe, version, event) already has one. A replay plans
        with ``key_generation`` 1, so its steps first look up what earlier runs wrote."""
        now = time.time() if now is None else now
        try:
            with self._write() as conn:
                run_id = conn.execute(runs.insert().values(
                    recipe_id=recipe_id, recipe_version=version, event_pk=event_pk, status="pending",
                    attempts=0, due_at=now, created_at=now, updated_at=now,
                    key_generation=key_generation)).inserted_primary_key[0]
                self._wake_others(conn)
                return run_id
        except sa.exc.IntegrityError:
            return None

    def event(self, pk: int) -> dict[str, Any] | None:
        with self.engine.connect() as conn:
            row = conn.execute(sa.select(events).where(events.c.id == pk)).mappings().first()
        return dict(row) if row else None

    def count_events(self) -> int:
        with self.engine.connect() as conn:
            return conn.execute(sa.select(sa.func.count()).select_from(events)).scalar_one()

    # --- recipe versions -------------------------------------------------------------------

    def save_recipe_versions(self, versions: Iterable[tuple[str, int, str, str]], now: float | None = None) -> list[str]:
        """Record ``(recipe_id, version, body, file)``; returns problems for versions reused with another body."""
        now = time.time() if now is None else now
        problems = []
        with self._write() as conn:
            for recipe_id, version, body, file in versions:
                old = conn.execute(sa.select(recipe_versions.c.body).where(
                    recipe_versions.c.recipe_id == recipe_id, recipe_versions.c.version == version)).scalar()
                if old is None:
                    # processes starting together may record the same version at once
                    conn.execute(_INSERT_RECIPE_VERSION[self.engine.dialect.name],
                                 {"recipe_id": recipe_id, "version": version, "body": body, "file": file,
                                  "loaded_at": now})
                    old = conn.execute(sa.select(recipe_versions.c.body).where(
                        recipe_versions.c.recipe_id == recipe_id, recipe_versions.c.version == version)).scalar()
                if jsonio.loads(old) != jsonio.loads(body):
                    problems.append(f"{file}:/version: recipe {recipe_id!r} version {version} already ran "
                                    f"with a different body; raise \"version\" when you change a recipe")
            if problems:
                conn.rollback()
        return problems

    def recipe_version(self, recipe_id: str, version: int) -> dict[str, Any] | None:
        with self.engine.connect() as conn:
            row = conn.execute(sa.select(recipe_versions).where(
                recipe_versions.c.recipe_id == recipe_id, recipe_versions.c.version == version)).mappings().first()
        return dict(row) if row else None

    # --- workers ---------------------------------------------------------------------------

    def claim(self, owner: str, lease_seconds: float, limit: int = 1, now: float | None = None) -> list[ClaimedRun]:
        """Take up to ``limit`` due runs (or runs whose lease expired) for ``owner``.

        One UPDATE picks and leases them (``FOR UPDATE SKIP LOCKED`` on PostgreSQL, the
        write lock on SQLite), one SELECT reads their events.
        """
        now = time.time() if now is None else now
        claimable = sa.or_(
            sa.and_(runs.c.status.in_(("pending", "retrying")), runs.c.due_at <= now),
            sa.and_(runs.c.status == "running", runs.c.lease_until < now))
        pick = (sa.select(runs.c.id).where(claimable).order_by(runs.c.due_at, runs.c.id).limit(limit)
                .with_for_update(skip_locked=True).scalar_subquery())
        with self._write() as conn:
            claimed = conn.execute(
                runs.update().where(runs.c.id.in_(pick))
                .values(status="running", lease_owner=owner, lease_until=now + lease_seconds,
                        attempts=runs.c.attempts + 1, updated_at=now)
                .returning(runs.c.id, runs.c.recipe_id, runs.c.recipe_version, runs.c.event_pk,
                           runs.c.attempts, runs.c.key_generation, runs.c.due_at)).all()
            if not claimed:
                return []
            found = {row[0]: row[1:] for row in conn.execute(
                sa.select(events.c.id, events.c.connection, events.c.event_id, events.c.trigger, events.c.payload)
                .where(events.c.id.in_({row[3] for row in claimed})))}
        claimed = sorted(claimed, key=lambda row: (row[6], row[0]))
        return [ClaimedRun(row[0], row[1], row[2], row[3], row[4], row[5], *found[row[3]]) for row in claimed]

    def renew(self, run_id: int, owner: str, lease_seconds: float, now: float | None = None) -> bool:
        now = time.time() if now is None else now
        with self._write() as conn:
            return conn.execute(runs.update().where(runs.c.id == run_id, runs.c.lease_owner == owner,
                                                    runs.c.status == "running")
                                .values(lease_until=now + lease_seconds)).rowcount == 1

    def finish(self, run_id: int, owner: str, status: str, error: str | None = None,
               due_at: float | None = None, count_attempt: bool = True, now: float | None = None) -> bool:
        """Close or reschedule a run this owner holds. Returns False if the lease was lost."""
        now = time.time() if now is None else now
        with self._write() as conn:
            return conn.execute(_FINISH, {"run_id": run_id, "owner": owner, "new_status": status, "now": now,
                                          "error": error, "due": due_at,
                                          "uncount": 0 if count_attempt else 1}).rowcount == 1

    def release(self, owner: str, now: float | None = None) -> int:
        """Give back every run ``owner`` holds (graceful shutdown); they are due at once."""
        now = time.time() if now is None else now
        with self._write() as conn:
            return conn.execute(runs.update().where(runs.c.lease_owner == owner, runs.c.status == "running")
                                .values(status="pending", lease_owner=None, lease_until=None, due_at=now,
                                        attempts=runs.c.attempts - 1, updated_at=now)).rowcount

    # --- the run log -----------------------------------------------------------------------

    def succeeded_steps(self, run_id: int) -> dict[str, Any]:
        """Outputs of the steps of ``run_id`` that already succeeded (never repeated on retry)."""
        with self.engine.connect() as conn:
            rows = conn.execute(sa.select(run_steps.c.step_id, run_steps.c.output)
                                .where(run_steps.c.run_id == run_id,
                                       run_steps.c.status.in_(("succeeded", "skipped")))).all()
        return {step_id: (jsonio.loads(output) if output else None) for step_id, output in rows}

    def earlier_writes(self, run_id: int, step_id: str) -> list[EarlierWrite]:
        """Every attempt of step ``step_id`` that sent a write (not a read, such as a lookup)
        and did not succeed, oldest first: in run ``run_id``, and in the other runs of its
        recipe on its event (a replay on another version) where that step never succeeded."""
        this = runs.alias("this")
        succeeded = run_steps.alias("succeeded")
        same_event = sa.select(runs.c.id).join(this, sa.and_(this.c.id == run_id,
                                                             runs.c.recipe_id == this.c.recipe_id,
                                                             runs.c.event_pk == this.c.event_pk))
        step_succeeded = sa.exists().where(succeeded.c.run_id == run_steps.c.run_id,
                                           succeeded.c.step_id == step_id,
                                           succeeded.c.status == "succeeded")
        query = (sa.select(run_steps.c.run_id, run_steps.c.idempotency_key, run_steps.c.status,
                           run_steps.c.response_status, run_steps.c.started_at, run_steps.c.request)
                 .where(run_steps.c.run_id.in_(same_event), run_steps.c.step_id == step_id,
                        run_steps.c.request.is_not(None), run_steps.c.status.in_(("failed", "unknown")),
                        sa.or_(run_steps.c.run_id == run_id, ~step_succeeded))
                 .order_by(run_steps.c.id))
        with self.engine.connect() as conn:
            rows = conn.execute(query).all()
        writes = []
        for *fields, request in rows:
            method = (jsonio.loads(request) or {}).get("method") if request else None
            if str(method).upper() not in ("GET", "HEAD"):
                writes.append(EarlierWrite(*fields))
        return writes

    def log_step(self, run_id: int, step_id: str, attempt: int, status: str, *, input: Any = None,
                 request: Any = None, response_status: int | None = None, response_body: str | None = None,
                 output: Any = None, external_id: str | None = None, idempotency_key: str | None = None,
                 started_at: float, finished_at: float | None = None, error: str | None = None,
                 link: tuple[str, str, str, str, str] | None = None,
                 finish: tuple[str, str] | None = None) -> bool:
        """One attempt of one step, in one transaction with what belongs to it.

        ``link`` = (source connection, source id, target connection, target type, target id)
        records the created entity. ``finish`` = (owner, status) also closes the run; if the
        owner lost its lease meanwhile nothing is written and False is returned (the worker
        that took the run over writes its own record).
        """
        with self._write() as conn:
            conn.execute(_INSERT_STEP, {
                "run_id": run_id, "step_id": step_id, "attempt": attempt, "status": status,
                "input": _dump(input), "request": _dump(request), "response_status": response_status,
                "response_body": bounded(response_body), "output": _dump(output), "external_id": external_id,
                "idempotency_key": idempotency_key, "started_at": started_at, "finished_at": finished_at,
                "error": bounded(error)})
            if link is not None:
                conn.execute(self._insert_link, {
                    "source_connection": link[0], "source_id": link[1], "target_connection": link[2],
                    "target_type": link[3], "target_id": link[4], "run_id": run_id, "step_id": step_id,
                    "created_at": finished_at or started_at})
            if finish is not None:
                held = conn.execute(_FINISH, {"run_id": run_id, "owner": finish[0], "new_status": finish[1],
                                              "now": finished_at or time.time(), "error": None, "due": None,
                                              "uncount": 0}).rowcount == 1
                if not held:
                    conn.rollback()
                    return False
        return True

    # --- reading runs ------------------------------------------------------------------------

    def list_runs(self, *, status: str | None = None, recipe_id: str | None = None,
                  since: float | None = None, until: float | None = None, after_id: int | None = None,
                  limit: int = 50) -> list[dict[str, Any]]:
        """Runs newest first; ``after_id`` continues a page (runs with a smaller id)."""
        query = (sa.select(runs, events.c.event_id, events.c.connection, events.c.trigger)
                 .join(events, events.c.id == runs.c.event_pk).order_by(runs.c.id.desc()).limit(limit))
        if status:
            query = query.where(runs.c.status == status)
        if recipe_id:
            query = query.where(runs.c.recipe_id == recipe_id)
        if since is not None:
            query = query.where(runs.c.created_at >= since)
        if until is not None:
            query = query.where(runs.c.created_at < until)
        if after_id is not None:
            query = query.where(runs.c.id < after_id)
        with self.engine.connect() as conn:
            return [dict(r) for r in conn.execute(query).mappings()]

    def run(self, run_id: int) -> dict[str, Any] | None:
        """One run with its event and every step attempt."""
        with self.engine.connect() as conn:
            row = conn.execute(sa.select(runs, events.c.event_id, events.c.connection, events.c.trigger)
                               .join(events, events.c.id == runs.c.event_pk)
                               .where(runs.c.id == run_id)).mappings().first()
            if row is None:
                return None
            steps = conn.execute(sa.select(run_steps).where(run_steps.c.run_id == run_id)
                                 .order_by(run_steps.c.id)).mappings().all()
            created = conn.execute(sa.select(links).where(links.c.run_id == run_id)
                                   .order_by(links.c.id)).mappings().all()
        out = dict(row)
        out["steps"] = [_step_dict(s) for s in steps]
        out["links"] = [dict(link) for link in created]
        return out

    def counts(self) -> dict[str, int]:
        with self.engine.connect() as conn:
            rows = conn.execute(sa.select(runs.c.status, sa.func.count()).group_by(runs.c.status)).all()
        return {status: n for status, n in rows}

    def reopen(self, run_id: int, now: float | None = None) -> bool:
        """Put a closed, unsuccessful run back in the queue (replay on its own version).

        Every replay raises the run's key generation. The worker then looks up, before
        sending anything, each step that wrote under an earlier key (its entity may exist).
        A step whose last write the vendor did not refuse (its outcome unknown, or a passing
        failure such as a 5xx) is resent under that write's key: the vendor replays its
        answer, or creates the entity once. A step whose last write was refused (a 4xx) gets
        the new generation's key, as the vendor would answer the old one with the same refusal.
        A replay starts with its attempts at zero: it has the retries of a new run (the
        steps already logged keep the history).
        """
        now = time.time() if now is None else now
        with self._write() as conn:
            reopened = conn.execute(
                runs.update().where(runs.c.id == run_id, runs.c.status.in_(("failed", "dead")))
                .values(status="pending", due_at=now, updated_at=now, last_error=None, attempts=0,
                        key_generation=runs.c.key_generation + 1)).rowcount == 1
            if reopened:
                self._wake_others(conn)
            return reopened

    def linked_target(self, target_connection: str, source_id: str, target_type: str) -> str | None:
        """The id of the entity of ``target_type`` linked to ``source_id`` in ``target_connection``."""
        with self.engine.connect() as conn:
            return conn.execute(sa.select(links.c.target_id).where(
                links.c.target_connection == target_connection, links.c.source_id == source_id,
                links.c.target_type == target_type).order_by(links.c.id).limit(1)).scalar()

    def mark_undone(self, run_id: int, now: float | None = None) -> None:
        """Every entity the run created was voided or deleted."""
        now = time.time() if now is None else now
        with self._write() as conn:
            conn.execute(runs.update().where(runs.c.id == run_id)
                         .values(status="undone", updated_at=now))

    def pause(self, run_id: int, owner: str, connection: str, error: str, now: float | None = None) -> bool:
        """Park a run until ``connection`` is connected again (not a failure, not an attempt)."""
        now = time.time() if now is None else now
        with self._write() as conn:
            return conn.execute(runs.update().where(runs.c.id == run_id, runs.c.lease_owner == owner,
                                                    runs.c.status == "running")
                                .values(status="paused", paused_on=connection, lease_owner=None,
                                        lease_until=None, updated_at=now, last_error=error,
                                        attempts=runs.c.attempts - 1)).rowcount == 1

    def resume_paused(self, connection: str, now: float | None = None) -> int:
        """Every run paused on ``connection`` is due again."""
        now = time.time() if now is None else now
        with self._write() as conn:
            resumed = conn.execute(runs.update().where(runs.c.status == "paused", runs.c.paused_on == connection)
                                   .values(status="pending", paused_on=None, due_at=now, updated_at=now,
                                           last_error=None)).rowcount
            if resumed:
                self._wake_others(conn)
            return resumed

    def locked_secret(self, connection: str, change: Any) -> Any:
        """Read-modify-write a connection's secret blob while holding a lock on it.

        ``change(blob, status)`` gets the stored (blob, status) — (None, None) when absent —
        and returns ``(blob, status, result)`` to store, or ``(None, None, result)`` to keep
        them. The lock is the row lock on PostgreSQL and the database write lock on SQLite,
        so one process refreshes a token while the others wait and then read its result.
        """
        now = time.time()
        with self._write() as conn:
            touched = conn.execute(connection_secrets.update()
                                   .where(connection_secrets.c.connection == connection)
                                   .values(updated_at=connection_secrets.c.updated_at)).rowcount
            row = conn.execute(sa.select(connection_secrets.c.data, connection_secrets.c.status)
                               .where(connection_secrets.c.connection == connection)).first()
            blob, status = (bytes(row[0]), row[1]) if row else (None, None)
            new_blob, new_status, result = change(blob, status)
            if new_blob is not None:
                if touched:
                    conn.execute(connection_secrets.update().where(connection_secrets.c.connection == connection)
                                 .values(data=new_blob, status=new_status, updated_at=now))
                else:
                    conn.execute(connection_secrets.insert().values(connection=connection, data=new_blob,
                                                                    status=new_status, updated_at=now))
        return result

    def count_paused(self, connection: str) -> int:
        with self.engine.connect() as conn:
            return conn.execute(sa.select(sa.func.count()).select_from(runs).where(
                runs.c.status == "paused", runs.c.paused_on == connection)).scalar_one()

    def connection_statuses(self) -> dict[str, tuple[str, float]]:
        with self.engine.connect() as conn:
            return {name: (status, updated) for name, status, updated in conn.execute(
                sa.select(connection_secrets.c.connection, connection_secrets.c.status,
                          connection_secrets.c.updated_at))}

    # --- cursors -----------------------------------------------------------------------------

    def cursor(self, name: str) -> str | None:
        with self.engine.connect() as conn:
            return conn.execute(sa.select(cursors.c.value).where(cursors.c.name == name)).scalar()

    def set_cursor(self, name: str, value: str, now: float | None = None) -> None:
        now = time.time() if now is None else now
        with self._write() as conn:
            if conn.execute(cursors.update().where(cursors.c.name == name)
                            .values(value=value, updated_at=now)).rowcount == 0:
                conn.execute(cursors.insert().values(name=name, value=value, updated_at=now))

    # --- secrets (encrypted by the caller; see ledgerlink.io.secrets) ------------------------------

    def secret_blob(self, connection: str) -> tuple[bytes, str] | None:
        with self.engine.connect() as conn:
            row = conn.execute(sa.select(connection_secrets.c.data, connection_secrets.c.status)
                               .where(connection_secrets.c.connection == connection)).first()
        return (bytes(row[0]), row[1]) if row else None

    def put_secret_blob(self, connection: str, data: bytes, status: str = "ok", now: float | None = None) -> None:
        now = time.time() if now is None else now
        with self._write() as conn:
            if conn.execute(connection_secrets.update().where(connection_secrets.c.connection == connection)
                            .values(data=data, status=status, updated_at=now)).rowcount == 0:
                conn.execute(connection_secrets.insert().values(connection=connection, data=data,
                                                                status=status, updated_at=now))


def _step_dict(row: Mapping[str, Any]) -> dict[str, Any]:
    out = dict(row)
    for key in ("input", "request", "output"):
        if out.get(key):
            out[key] = jsonio.loads(out[key])
    return out
