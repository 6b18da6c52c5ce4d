"""The inbox's two hot statements run on the DB-API cursor (ledgerlink.store.prepared): the
same rows as SQLAlchemy's execute writes, in the same transaction, and a driver's error
raised as SQLAlchemy raises it. On SQLite, and on PostgreSQL under LEDGERLINK_TEST_DB."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from ledgerlink.store import Store
from ledgerlink.store.events import _PLAN_RUN, _STORE_EVENT
from ledgerlink.store.schema import events, runs
from ledgerlink.testing.databases import migrated_db


def event(event_id: str, **extra: object) -> dict[str, object]:
    return {"connection": "stripe", "event_id": event_id, "trigger": "stripe.invoice.paid",
            "received_at": 1700000000.25, "payload": '{"id": "' + event_id + '", "amount": 12.50}',
            "fetch_state": None, "fetch_attempts": 0, "fetch_due_at": None, **extra}


def test_the_hot_inserts_run_on_the_cursor_and_write_what_sqlalchemy_would(tmp_path):
    store = Store(migrated_db(tmp_path))
    dialect = store.engine.dialect.name
    assert _STORE_EVENT[dialect]._for(store.engine.dialect) is not None  # not handed back to SQLAlchemy
    assert _PLAN_RUN[dialect]._for(store.engine.dialect) is not None
    with store.write_transaction() as conn:
        pk = _STORE_EVENT[dialect].scalar(conn, event("evt_1"))
        again = _STORE_EVENT[dialect].scalar(conn, event("evt_1"))  # ON CONFLICT DO NOTHING: no row
        run_id = _PLAN_RUN[dialect].scalar(conn, {"recipe_id": "r", "recipe_version": 2, "event_pk": pk,
                                                  "due_at": 5.5, "created_at": 5.5, "updated_at": 5.5,
                                                  "occurrence": "invoice:in_1"})
    assert isinstance(pk, int) and again is None and isinstance(run_id, int)
    with store.engine.connect() as conn:
        stored = conn.execute(sa.select(events).where(events.c.id == pk)).mappings().one()
        run = conn.execute(sa.select(runs).where(runs.c.id == run_id)).mappings().one()
    assert {key: stored[key] for key in event("evt_1")} == event("evt_1")
    assert (run["status"], run["attempts"], run["recipe_version"], run["event_pk"], run["due_at"],
            run["occurrence"]) == ("pending", 0, 2, pk, 5.5, "invoice:in_1")


def test_a_rolled_back_transaction_keeps_nothing_the_cursor_wrote(tmp_path):
    store = Store(migrated_db(tmp_path))
    dialect = store.engine.dialect.name
    with pytest.raises(RuntimeError), store.write_transaction() as conn:
        _STORE_EVENT[dialect].scalar(conn, event("evt_gone"))
        raise RuntimeError("the batch failed after the insert")
    assert store.count_events() == 0


def test_a_driver_error_is_raised_as_sqlalchemys_and_the_store_still_writes(tmp_path):
    store = Store(migrated_db(tmp_path))
    dialect = store.engine.dialect.name
    with pytest.raises(sa.exc.IntegrityError) as info, store.write_transaction() as conn:
        _STORE_EVENT[dialect].scalar(conn, event("evt_null", trigger=None))  # NOT NULL
    assert "trigger" in str(info.value.orig).lower()
    assert isinstance(info.value, sa.exc.DBAPIError) and info.value.statement.lstrip().upper().startswith("INSERT")
    with store.write_transaction() as conn:
        assert _STORE_EVENT[dialect].scalar(conn, event("evt_after")) is not None
    assert store.count_events() == 1
