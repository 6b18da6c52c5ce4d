"""The check every serve and worker makes at start: the database is at the newest migration,
answered without loading Alembic (its modules would stay in the process's memory)."""

from __future__ import annotations

import pytest

from ledgerlink import store as store_module
from ledgerlink.errors import NotMigrated
from ledgerlink.store import Store
from ledgerlink.store import database
from ledgerlink.testing.databases import fresh_db


def test_the_shipped_head_read_from_the_scripts_is_alembics():
    assert database.shipped_head() == store_module.head_revision()


def test_a_database_one_migration_behind_is_refused_naming_both_revisions(tmp_path):
    url = fresh_db(tmp_path)
    assert database.current_revision(Store(url).engine) is None  # no alembic_version table yet
    head = database.shipped_head()
    previous = f"{int(head) - 1:04d}"  # the scripts are numbered 0001, 0002, … each on the one before
    store_module.upgrade(url, previous)
    with pytest.raises(NotMigrated) as info:
        Store(url).check_migrated()
    assert f"is at migration {previous}, not {head}" in str(info.value)
    store_module.upgrade(url)
    assert database.current_revision(Store(url).engine) == head
    Store(url).check_migrated()


def test_the_head_of_branched_scripts_is_left_to_alembic(monkeypatch):
    def two_heads(source: str) -> dict[str, object]:
        return {"revision": source[:40], "down_revision": None}  # every script a root: many heads

    asked = []
    monkeypatch.setattr(database, "_assignments", two_heads)
    monkeypatch.setattr(database, "head_revision", lambda: asked.append(True) or "from-alembic")
    assert database.shipped_head() == "from-alembic" and asked
