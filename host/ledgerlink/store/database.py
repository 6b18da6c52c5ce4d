"""The plumbing every table family shares: the engine for a URL (SQLite pragmas, the
PostgreSQL pool and timeouts), the Alembic migrations, which database errors mean "cannot
take a write now", and insert-or-ignore for both dialects.
"""

from __future__ import annotations

import ast
from importlib import resources
from typing import TYPE_CHECKING

import sqlalchemy as sa
from sqlalchemy import event as sa_event
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine.interfaces import DBAPIConnection
from sqlalchemy.pool import ConnectionPoolEntry


if TYPE_CHECKING:
    from alembic.config import Config as AlembicConfig

DEFAULT_URL = "sqlite:///ledgerlink.db"


#: SQLite's primary result codes that mean the database cannot take a write now, not a bad
#: statement: BUSY, LOCKED, NOMEM, READONLY, IOERR, CORRUPT, FULL, CANTOPEN, NOTADB
_SQLITE_UNAVAILABLE = {5, 6, 7, 8, 10, 11, 13, 14, 26}


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


def reason(exc: BaseException) -> str:
    """The database's own words for a store error, on one line (no statement, no parameters)."""
    orig = getattr(exc, "orig", None) or exc
    text = " ".join(str(orig).split()) or type(orig).__name__
    return text[:300]


#: how long a SQLite writer waits for another to finish before "database is locked"
BUSY_TIMEOUT_MS = 10_000


def _sqlite_pragmas(dbapi_connection: DBAPIConnection, _record: ConnectionPoolEntry) -> None:
    """Set up each new SQLite connection: WAL, full sync, a busy timeout, foreign keys."""
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    # FULL: a commit (and so a webhook's 2xx) survives a power loss, not only a crash;
    # the inbox's group commit keeps that to one sync per batch of deliveries
    cursor.execute("PRAGMA synchronous=FULL")
    cursor.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
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


def alembic_config(url: str) -> AlembicConfig:
    """The Alembic configuration for ``url``, pointing at the migrations shipped in this package."""
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
    """The newest migration shipped with this version of ledgerlink."""
    from alembic.script import ScriptDirectory

    return ScriptDirectory.from_config(alembic_config(url)).get_current_head() or ""


def _assignments(source: str) -> dict[str, object]:
    """The module-level ``revision`` and ``down_revision`` literals of a migration script."""
    found: dict[str, object] = {}
    for node in ast.parse(source).body:
        target = node.targets[0] if isinstance(node, ast.Assign) and len(node.targets) == 1 else (
            node.target if isinstance(node, ast.AnnAssign) else None)
        if isinstance(target, ast.Name) and target.id in ("revision", "down_revision") and node.value is not None:
            try:
                found[target.id] = ast.literal_eval(node.value)
            except ValueError:
                pass
    return found


def shipped_head() -> str:
    """The newest migration shipped, as :func:`head_revision` answers, read from the scripts'
    ``revision`` and ``down_revision`` lines without loading Alembic.

    ``serve`` and ``worker`` check their database at start (:meth:`Store.check_migrated
    <ledgerlink.store.base.StoreBase.check_migrated>`); Alembic, Mako and the migration
    modules it imports to answer would stay in the process's memory for its whole life
    (about 7 MB each process). Scripts with more than one head are left to Alembic, which
    names the problem."""
    revisions: set[object] = set()
    follows: set[object] = set()
    for script in resources.files("ledgerlink.store").joinpath("migrations", "versions").iterdir():
        if not script.name.endswith(".py") or script.name.startswith("_"):
            continue
        found = _assignments(script.read_text(encoding="utf-8"))
        if "revision" not in found:
            continue
        revisions.add(found["revision"])
        down = found.get("down_revision")
        follows.update(down if isinstance(down, (tuple, list)) else [down] if down else [])
    heads = revisions - follows
    return str(heads.pop()) if len(heads) == 1 else head_revision()


def current_revision(engine: sa.Engine) -> str | None:
    """The migration the database is at (its ``alembic_version`` row, read as Alembic
    reads it, without loading Alembic); None before the first."""
    with engine.connect() as conn:
        if not sa.inspect(conn).has_table("alembic_version"):
            return None
        found = conn.execute(sa.text("SELECT version_num FROM alembic_version")).scalars().all()
    return ", ".join(found) or None


def insert_ignore(table: sa.Table, *conflict: str) -> dict[str, sa.Insert]:
    """INSERT … ON CONFLICT DO NOTHING, for SQLite and PostgreSQL alike, by dialect name:
    on a conflict with the unique columns ``conflict``, or with any unique constraint or
    index of the table when none are named."""
    elements = list(conflict) or None
    return {"sqlite": sqlite.insert(table).on_conflict_do_nothing(index_elements=elements),
            "postgresql": postgresql.insert(table).on_conflict_do_nothing(index_elements=elements)}


def insert_ignore_returning_id(table: sa.Table, *conflict: str) -> dict[str, sa.Insert]:
    """INSERT … ON CONFLICT DO NOTHING RETURNING id, for SQLite and PostgreSQL alike, by dialect name."""
    return {dialect: stmt.returning(table.c.id) for dialect, stmt in insert_ignore(table, *conflict).items()}
