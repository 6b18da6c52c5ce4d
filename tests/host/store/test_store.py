"""The store: migrations, the unmigrated refusal, dedupe, unique runs, leases, encryption."""

import sqlalchemy as sa
import pytest


from ledgerlink import store as store_module
from ledgerlink.errors import ConfigError
from ledgerlink.io.secrets import SecretBox, new_key
from ledgerlink.errors import NotMigrated
from ledgerlink.store import Store
from ledgerlink.store.schema import metadata
from ledgerlink.testing.databases import ON_POSTGRES, fresh_db, migrated_db


def test_unmigrated_database_is_refused_with_the_fix(tmp_path, run_subprocess):
    url = fresh_db(tmp_path)
    with pytest.raises(NotMigrated) as info:
        Store(url).check_migrated()
    assert f"ledgerlink db upgrade --db {Store(url).safe_url}" in str(info.value)
    result = run_subprocess("serve", "--db", url, "--recipes", str(tmp_path), "--port", "0")
    assert result.returncode == 1
    assert "ledgerlink db upgrade" in result.stderr and "Traceback" not in result.stderr


def test_db_upgrade_command_is_idempotent(tmp_path, run_subprocess):
    url = fresh_db(tmp_path)
    for _ in range(2):
        result = run_subprocess("db", "upgrade", "--db", url)
        assert result.returncode == 0, result.stderr
        assert f"is at migration {store_module.head_revision(url)}" in result.stdout
    Store(url).check_migrated()
    with Store(url).engine.connect() as conn:
        if not ON_POSTGRES:
            assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        tables = set(sa.inspect(conn).get_table_names())
    assert {"events", "runs", "run_steps", "links", "recipe_versions", "connection_secrets", "cursors"} <= tables


def test_migrations_match_the_models(tmp_path):
    from alembic.autogenerate import compare_metadata
    from alembic.runtime.migration import MigrationContext

    store = Store(migrated_db(tmp_path))
    with store.engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), metadata)
    assert diff == []


def test_inbox_dedupes_and_runs_are_unique(tmp_path):
    store = Store(migrated_db(tmp_path))
    first = store.ingest("stripe", [("evt_1", "stripe.invoice.paid", {"id": "evt_1"}, [("r", 1), ("s", 1)])])
    again = store.ingest("stripe", [("evt_1", "stripe.invoice.paid", {"id": "evt_1"}, [("r", 1)])])
    assert first[0][1] is True and len(first[0][2]) == 2
    assert again == [(first[0][0], False, [])]
    assert store.count_events() == 1
    assert store.plan(first[0][0], "r", 1) is None  # never twice
    assert store.plan(first[0][0], "r", 2) is not None  # a new version may run
    other = store.ingest("stripe-eu", [("evt_1", "stripe.invoice.paid", {"id": "evt_1"}, [])])
    assert other[0][1] is True  # dedupe is per connection


def test_claim_lease_expiry_and_owner_checks(tmp_path):
    store = Store(migrated_db(tmp_path))
    store.ingest("stripe", [("evt_1", "t", {}, [("r", 1)])], now=100.0)
    (run,) = store.claim("a", lease_seconds=30, now=100.0)
    assert run.attempts == 1
    assert store.claim("b", lease_seconds=30, now=110.0) == []  # leased
    (again,) = store.claim("b", lease_seconds=30, now=131.0)  # a crashed: lease expired
    assert again.id == run.id and again.attempts == 2
    assert store.finish(run.id, "a", "succeeded", now=132.0) is False  # a lost its lease
    assert store.finish(run.id, "b", "succeeded", now=132.0) is True
    assert store.claim("c", lease_seconds=30, now=1000.0) == []


def test_release_hands_runs_back(tmp_path):
    store = Store(migrated_db(tmp_path))
    store.ingest("stripe", [("evt_1", "t", {}, [("r", 1)])], now=100.0)
    store.claim("a", lease_seconds=300, now=100.0)
    assert store.release("a", now=101.0) == 1
    (run,) = store.claim("b", lease_seconds=30, now=101.0)
    assert run.attempts == 1  # a released run does not count as an attempt


def test_secrets_are_encrypted_at_rest(tmp_path, monkeypatch):
    store = Store(migrated_db(tmp_path))
    box = SecretBox(store, key=new_key())
    box.put("quickbooks", {"access_token": "at-very-secret-1234", "refresh_token": "rt-very-secret-5678"})
    blob, status = store.secret_blob("quickbooks")
    assert b"very-secret" not in blob and status == "ok"
    assert box.get("quickbooks")["refresh_token"] == "rt-very-secret-5678"
    with pytest.raises(ConfigError) as info:
        SecretBox(store, key=new_key()).get("quickbooks")
    assert "cannot be decrypted" in str(info.value)
    monkeypatch.delenv("LEDGERLINK_SECRET_KEY", raising=False)
    with pytest.raises(ConfigError) as info:
        SecretBox(store).put("x", {})
    assert "LEDGERLINK_SECRET_KEY" in str(info.value)


def test_recipe_version_reuse_with_another_body_is_refused(tmp_path):
    store = Store(migrated_db(tmp_path))
    assert store.save_recipe_versions([("r", 1, '{"a":1}', "r.json")]) == []
    assert store.save_recipe_versions([("r", 1, '{"a":1}', "r.json")]) == []
    problems = store.save_recipe_versions([("r", 1, '{"a":2}', "r.json")])
    assert problems and "raise \"version\"" in problems[0]


def test_every_replay_raises_the_key_generation(tmp_path):
    # the worker resends a step whose last write's outcome is unknown under that write's key
    # (tests/host/engine/test_unknown_outcome.py); the generation tells it the run was replayed
    from ledgerlink.engine.runner import idempotency_key

    store = Store(migrated_db(tmp_path))
    store.ingest("stripe", [("evt_1", "t", {}, [("r", 1), ("s", 1)])], now=100.0)
    refused, dead = store.claim("a", lease_seconds=30, limit=2, now=100.0)
    store.finish(refused.id, "a", "failed", error="ValidationFault", now=101.0)
    store.finish(dead.id, "a", "dead", error="timeouts", now=101.0)
    assert store.reopen(refused.id, now=150.0) and store.reopen(dead.id, now=150.0)
    assert not store.reopen(refused.id, now=150.0)  # only closed, unsuccessful runs
    again = {run.id: run for run in store.claim("b", lease_seconds=30, limit=2, now=200.0)}
    assert again[refused.id].key_generation == 1 and again[dead.id].key_generation == 1
    assert idempotency_key("r", 1, "evt_1", "entry", 1) != idempotency_key("r", 1, "evt_1", "entry", 0)
    assert idempotency_key("r", 1, "evt_1", "entry") == idempotency_key("r", 1, "evt_1", "entry", 0)
