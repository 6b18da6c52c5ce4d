"""The hot statements run through the driver: their text for each dialect, and a driver
error raised as SQLAlchemy raises it, so the store's handling of errors is unchanged."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from ledgerlink.store import Store, hot
from ledgerlink.testing.databases import migrated_db


def test_parameters_are_written_in_each_drivers_style():
    statement = hot.Hot("UPDATE runs SET due_at = COALESCE(:due, due_at) WHERE id = :run_id AND status = 'running'")
    assert statement.text("sqlite") == statement.sqlite
    assert statement.text("postgresql") == ("UPDATE runs SET due_at = COALESCE(%(due)s, due_at) "
                                            "WHERE id = %(run_id)s AND status = 'running'")
    select, skipped = hot.claim("postgresql", {7, 3})
    assert skipped == {"x0": 3, "x1": 7}
    assert "id NOT IN (%(x0)s, %(x1)s)" in select.text("postgresql")
    assert "FOR UPDATE SKIP LOCKED" in select.text("postgresql")
    on_sqlite, none = hot.claim("sqlite", ())
    assert none == {} and "FOR UPDATE" not in on_sqlite.text("sqlite") and "NOT IN" not in on_sqlite.text("sqlite")


def test_a_driver_error_is_raised_as_sqlalchemy_raises_it(tmp_path):
    store = Store(migrated_db(tmp_path))
    store.ingest("stripe", [("evt_1", "t", {}, [("r", 1)])], now=100.0)
    (run,) = store.claim("a", 60.0, now=100.0)
    step = {"run_id": run.id, "step_id": "s", "attempt": 1, "status": "succeeded", "input": None, "request": None,
            "response_status": None, "response_body": None, "output": None, "external_id": None,
            "idempotency_key": None, "started_at": 100.0, "finished_at": 100.0, "error": None}
    with store.write_transaction() as conn:
        hot.execute(conn, hot.INSERT_STEP, [step])
    with pytest.raises(sa.exc.IntegrityError) as info:  # no run 999999: the foreign key refuses it
        with store.write_transaction() as conn:
            hot.execute(conn, hot.INSERT_STEP, [dict(step, run_id=999999)])
    assert isinstance(info.value.orig, store.engine.dialect.loaded_dbapi.Error)
    assert [s["step_id"] for s in store.run(run.id)["steps"]] == ["s"]  # the failed transaction left nothing
