"""Which database the tests run on: SQLite (default) or a real PostgreSQL server.

Set ``LEDGERLINK_TEST_DB=postgresql://user@host:port/db`` (a throwaway server of one's own)
and every test that asks for a database gets a fresh PostgreSQL database of its own, made
from a template migrated once per test session; without it, a fresh SQLite file in the
test's tmp_path. The fixture ``db_url`` (:mod:`ledgerlink.testing.fixtures`) is
:func:`migrated_db` of the test's tmp_path.
"""

from __future__ import annotations

import atexit
import os
import threading
import uuid
from pathlib import Path

import sqlalchemy as sa

from ledgerlink import store as store_module

__all__ = ["DIALECT", "ON_POSTGRES", "TEST_DB", "fresh_db", "migrated_db"]

TEST_DB = os.environ.get("LEDGERLINK_TEST_DB", "")
ON_POSTGRES = TEST_DB.startswith("postgresql")
DIALECT = "postgresql" if ON_POSTGRES else "sqlite"

_TEMPLATE = f"ll_template_{os.getpid()}"
_made: list[str] = []
_lock = threading.Lock()
_template_ready = False


def _admin() -> sa.Engine:
    return sa.create_engine(store_module.driver_url(TEST_DB), isolation_level="AUTOCOMMIT", poolclass=sa.pool.NullPool)


def _with_database(name: str) -> str:
    return sa.engine.make_url(TEST_DB).set(database=name).render_as_string(hide_password=False)


def _create(name: str, template: str | None) -> None:
    engine = _admin()
    try:
        with engine.connect() as conn:
            conn.exec_driver_sql(f'CREATE DATABASE "{name}"' + (f' TEMPLATE "{template}"' if template else ""))
    finally:
        engine.dispose()


def _drop_all() -> None:
    if not _made:
        return
    engine = _admin()
    try:
        with engine.connect() as conn:
            for name in _made + [_TEMPLATE]:
                conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    except sa.exc.SQLAlchemyError:
        pass
    finally:
        engine.dispose()


def fresh_db(tmp_path: Path, migrated: bool = False) -> str:
    """The URL of an empty database (``migrated``: at the newest migration) for one test."""
    global _template_ready
    if not ON_POSTGRES:
        url = f"sqlite:///{tmp_path / f'ledgerlink-{uuid.uuid4().hex[:6]}.db'}"
        if migrated:
            store_module.upgrade(url)
        return url
    with _lock:
        if migrated and not _template_ready:
            _create(_TEMPLATE, None)
            _made.append(_TEMPLATE)
            store_module.upgrade(_with_database(_TEMPLATE))
            _template_ready = True
        name = f"ll_test_{uuid.uuid4().hex[:12]}"
        _create(name, _TEMPLATE if migrated else None)
        if len(_made) == 1:
            atexit.register(_drop_all)
        _made.append(name)
    return _with_database(name)


def migrated_db(tmp_path: Path) -> str:
    """A fresh database at the newest migration: SQLite, or PostgreSQL under LEDGERLINK_TEST_DB."""
    return fresh_db(tmp_path, migrated=True)
