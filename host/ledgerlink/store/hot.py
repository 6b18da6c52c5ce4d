"""The few statements every run costs, run through the database driver itself.

Claiming runs, logging a step attempt (its row, link and writes) and closing a run are run
for every run a worker performs. Through SQLAlchemy Core each costs a statement-cache lookup,
parameter processing and result wrapping on top of the driver's own work, which shows in the
worker's profile; here each is SQL text written once per dialect (``:name`` parameters for
sqlite3, ``%(name)s`` for psycopg) and run on the DB-API connection SQLAlchemy already holds
for the transaction (``conn.connection.driver_connection``), in that same transaction.

A driver error is raised as SQLAlchemy would raise it (:class:`sqlalchemy.exc.DBAPIError`
and its subclasses, the driver's error as ``orig``), so what the store makes of it (the
database away, a deadlock, a value refused) is unchanged. The schema, the migrations and
every other statement stay with SQLAlchemy.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import sqlalchemy as sa

from ledgerlink.store.schema import links, run_steps, writes

_NAMED = re.compile(r"(?<![:\w]):([a-z_][a-z_0-9]*)")


class Hot:
    """One statement's text for each dialect, from the SQLite form with ``:name`` parameters."""

    __slots__ = ("sqlite", "postgresql")

    def __init__(self, sql: str) -> None:
        self.sqlite = sql
        self.postgresql = _NAMED.sub(r"%(\1)s", sql.replace("%", "%%"))

    def text(self, dialect: str) -> str:
        return self.postgresql if dialect == "postgresql" else self.sqlite


def execute(conn: sa.Connection, statement: Hot, params: Mapping[str, Any] | Sequence[Mapping[str, Any]]) -> Any:
    """Run ``statement`` with ``params`` (one row's, or a list for many rows) on the driver
    connection of ``conn``'s transaction; returns the driver's cursor (its ``rowcount``, its
    rows for RETURNING)."""
    dialect = conn.dialect
    sql = statement.text(dialect.name)
    cursor = conn.connection.driver_connection.cursor()  # type: ignore[union-attr]
    try:
        if isinstance(params, Mapping):
            cursor.execute(sql, params)
        else:
            cursor.executemany(sql, params)
    except dialect.loaded_dbapi.Error as exc:
        raise sa.exc.DBAPIError.instance(sql, params, exc, dialect.loaded_dbapi.Error,
                                         dialect=dialect) from exc
    return cursor


def _insert(table: sa.Table, tail: str = "") -> Hot:
    columns = [c.name for c in table.columns if c.name != "id"]
    return Hot(f"INSERT INTO {table.name} ({', '.join(columns)}) "
               f"VALUES ({', '.join(':' + c for c in columns)}){tail}")


#: a step attempt's row (:meth:`~ledgerlink.store.run_log.RunLogStore.log_step`), many at a time
INSERT_STEP = _insert(run_steps)
#: an entity a step created; a target already linked is left as it is
INSERT_LINK = _insert(links, " ON CONFLICT (target_connection, target_type, target_id) DO NOTHING")
#: an entity a step created or changed
INSERT_WRITE = _insert(writes)

#: close or reschedule a run its owner holds (the parameters of
#: :data:`ledgerlink.store.runs.FINISH`); its rowcount is 1 when the owner still held it
FINISH = Hot("UPDATE runs SET status = :new_status, lease_owner = NULL, lease_until = NULL, "
             "updated_at = :now, last_error = :error, due_at = COALESCE(:due, due_at), "
             "attempts = attempts - :uncount "
             "WHERE id = :run_id AND lease_owner = :owner AND status = 'running'")

#: the columns a claim returns, in :class:`~ledgerlink.store.runs.ClaimedRun`'s order
CLAIMED = "id, recipe_id, recipe_version, event_pk, attempts, key_generation, due_at"


def claim(dialect: str, exclude: Iterable[int]) -> tuple[Hot, dict[str, Any]]:
    """The UPDATE that picks up to ``:limit`` due runs (or runs whose lease ran out at
    ``:now``), but none of ``exclude``, and leases them to ``:owner`` until ``:until``
    (``FOR UPDATE SKIP LOCKED`` on PostgreSQL: concurrent claims never wait for each other);
    and the parameters for ``exclude``."""
    skipped = {f"x{i}": run_id for i, run_id in enumerate(sorted(exclude))}
    return _claim(dialect, len(skipped)), skipped


@functools.lru_cache(maxsize=64)
def _claim(dialect: str, excluded: int) -> Hot:
    not_in = f" AND id NOT IN ({', '.join(f':x{i}' for i in range(excluded))})" if excluded else ""
    lock = " FOR UPDATE SKIP LOCKED" if dialect == "postgresql" else ""
    return Hot("UPDATE runs SET status = 'running', lease_owner = :owner, lease_until = :until, "
               "attempts = attempts + 1, updated_at = :now "
               "WHERE id IN (SELECT id FROM runs WHERE ((status IN ('pending', 'retrying') AND due_at <= :now) "
               f"OR (status = 'running' AND lease_until < :now)){not_in} "
               f"ORDER BY due_at, id LIMIT :limit{lock}) RETURNING {CLAIMED}")


@functools.lru_cache(maxsize=64)
def claimed_events(count: int) -> Hot:
    """The SELECT of ``count`` events (``:e0`` …) a claim's runs run on: id, connection,
    event_id, trigger, payload."""
    return Hot('SELECT id, connection, event_id, "trigger", payload FROM events WHERE id IN ('
               + ", ".join(f":e{i}" for i in range(count)) + ")")
