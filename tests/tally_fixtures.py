"""What the occurrence and backfill tests of the engine share: the ``tally`` vendor served
on loopback, a config naming it, recipes written to the test's folder, and a runtime over
them (see ``tests/history_connector.py``)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from history_connector import KEY, WEBHOOK_TOKEN, Tally, TallyState, catalog, config_text
from ledgerlink.config import load_config
from ledgerlink.engine.runtime import Runtime, Settings
from ledgerlink.store import Store
from ledgerlink.store.schema import cursors, events, runs
from ledgerlink.testing.databases import migrated_db
from ledgerlink.testing.sandbox import running

#: a day of invoices: 2026-03-01 00:00 UTC
DAY0 = 1772323200


@dataclass
class TallyWorld:
    """A tally server, the files a runtime reads and the database it writes."""

    url: str
    state: TallyState
    folder: Path
    recipes: Path
    config: Path
    db: str
    made: list[Runtime]

    def write(self, *raws: dict[str, Any]) -> None:
        for raw in raws:
            (self.recipes / f"{raw['id']}.json").write_text(json.dumps(raw))

    def runtime(self) -> Runtime:
        cat = catalog()
        runtime = Runtime(cat, load_config(self.config, cat), Store(self.db), self.recipes,
                          Settings(backoff_base=0.01, backoff_cap=0.02))
        runtime.registry.reload()
        self.made.append(runtime)
        return runtime

    def invoices(self, count: int, amount: int = 100) -> list[str]:
        """``count`` invoices an hour apart on DAY0, each with a fee."""
        for i in range(count):
            self.state.add(f"in_{i}", DAY0 + 3600 * i, amount + i, fee=3 + i)
        return [f"in_{i}" for i in range(count)]

    def rows(self) -> dict[str, int]:
        """How many events, runs and cursors the database holds."""
        with Store(self.db).engine.connect() as conn:
            return {table.name: conn.execute(sa.select(sa.func.count()).select_from(table)).scalar_one()
                    for table in (events, runs, cursors)}

    def runs(self) -> list[tuple[str, str, str]]:
        """(recipe, event id, occurrence) of every run, in order."""
        with Store(self.db).engine.connect() as conn:
            return [tuple(row) for row in conn.execute(
                sa.select(runs.c.recipe_id, events.c.event_id, runs.c.occurrence)
                .join(events, events.c.id == runs.c.event_pk).order_by(runs.c.id))]


def world(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[TallyWorld]:
    """A tally world for one test (a fixture's body: ``yield from world(tmp_path, monkeypatch)``)."""
    monkeypatch.setenv("LL_TALLY_KEY", KEY)
    monkeypatch.setenv("LL_TALLY_TOKEN", WEBHOOK_TOKEN)
    recipes = tmp_path / "recipes"
    recipes.mkdir()
    with running(Tally()) as server:
        config = tmp_path / "ledgerlink.toml"
        config.write_text(config_text(server.url))
        world = TallyWorld(server.url, server.sandbox, tmp_path, recipes, config, migrated_db(tmp_path), [])
        yield world
        for runtime in world.made:
            runtime.close()


def delivery(event_id: str, kind: str, invoice: dict[str, Any]) -> tuple[dict[str, str], bytes]:
    """A webhook delivery of tally: its headers and body."""
    body = json.dumps({"id": event_id, "type": kind, "created": invoice["created"],
                       "data": {"object": invoice}}).encode()
    return {"X-Tally-Token": WEBHOOK_TOKEN, "Content-Type": "application/json"}, body
