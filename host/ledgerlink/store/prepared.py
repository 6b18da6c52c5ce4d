"""Hot statements run on the connection's DB-API cursor, compiled once per dialect.

SQLAlchemy Core's ``Connection.execute`` costs about 20 µs of Python per call (an execution
context, the parameters processed, a result object), as much as SQLite takes to insert a
row. The inbox runs two statements for every event it stores (the event, its run), so there
they are compiled once per dialect by SQLAlchemy itself — same SQL text, same paramstyle
(``?`` for SQLite, ``%(name)s`` for psycopg), same type processors — and run on the DB-API
cursor of the connection SQLAlchemy holds, inside its transaction. Everything else keeps
SQLAlchemy's ``execute``, and the schema stays SQLAlchemy's and Alembic's.

A driver error is raised as SQLAlchemy raises it (``sqlalchemy.exc.DBAPIError`` and its
subclasses, the connection invalidated when the database went away), so callers, retries
and the 503 for a database that is away see no difference.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Dialect


@dataclass(frozen=True)
class _Compiled:
    """A statement as one dialect runs it: its SQL and how a call's parameters are laid out."""

    sql: str
    #: the bound names in order (a positional paramstyle), or None (named: a mapping is passed)
    order: tuple[str, ...] | None
    #: values the statement itself binds (``.values(status="pending")``)
    fixed: dict[str, Any]
    #: the types' bind processors (e.g. Float's), as SQLAlchemy would apply them
    processors: dict[str, Callable[[Any], Any]]

    def arguments(self, params: Mapping[str, Any]) -> Sequence[Any] | dict[str, Any]:
        values = {**self.fixed, **params}
        for key, process in self.processors.items():
            if values.get(key) is not None:
                values[key] = process(values[key])
        return values if self.order is None else [values[key] for key in self.order]


class Prepared:
    """``statement`` run with parameters named exactly ``keys``: compiled once per dialect,
    executed on the DB-API cursor (:meth:`scalar`)."""

    def __init__(self, statement: sa.Executable, keys: Sequence[str]) -> None:
        self.statement = statement
        self.keys = tuple(keys)
        self._compiled: dict[str, _Compiled | None] = {}

    def _for(self, dialect: Dialect) -> _Compiled | None:
        """The statement compiled for ``dialect``; None when it cannot run this way exactly
        as SQLAlchemy would run it (then :meth:`scalar` hands it to SQLAlchemy)."""
        name = dialect.name
        if name not in self._compiled:
            compiled: Any = self.statement.compile(dialect=dialect, column_keys=list(self.keys))
            names = set(compiled.binds)
            plain = (not getattr(compiled, "escaped_bind_names", None) and not compiled.literal_execute_params
                     and not compiled.post_compile_params and set(self.keys) <= names)
            fixed = {key: value for key, value in compiled.params.items() if key not in self.keys}
            self._compiled[name] = _Compiled(
                sql=compiled.string, order=tuple(compiled.positiontup) if compiled.positional else None,
                fixed=fixed, processors=dict(compiled._bind_processors)) if plain else None
        return self._compiled[name]

    def scalar(self, conn: sa.Connection, params: Mapping[str, Any]) -> Any:
        """Run the statement in ``conn``'s transaction; the first column of its first row, or
        None when it returned none (an insert that was ignored)."""
        compiled = self._for(conn.dialect)
        if compiled is None:
            return conn.execute(self.statement, dict(params)).scalar()
        arguments = compiled.arguments(params)
        cursor = conn.connection.cursor()
        try:
            cursor.execute(compiled.sql, arguments)
            row = cursor.fetchone()
        except conn.dialect.loaded_dbapi.Error as exc:
            raise _as_sqlalchemy_raises(conn, compiled.sql, arguments, exc, cursor) from exc
        finally:
            cursor.close()
        return None if row is None else row[0]


def _as_sqlalchemy_raises(conn: sa.Connection, sql: str, arguments: Any, exc: Exception,
                          cursor: Any) -> sa.exc.DBAPIError:
    """``exc`` as SQLAlchemy would raise it from ``execute``; a connection the database
    dropped is invalidated, so the pool replaces it."""
    dialect = conn.dialect
    disconnect = dialect.is_disconnect(exc, conn.connection.dbapi_connection, cursor)
    if disconnect:
        conn.invalidate(exc)
    return sa.exc.DBAPIError.instance(sql, arguments, exc, dialect.loaded_dbapi.Error,
                                      connection_invalidated=disconnect, dialect=dialect)


__all__ = ["Prepared"]
