"""What the alert tests share: a runtime with the built-in connectors (the ledgerlink
connector among them), a simulated clock for its host, and the host events it stored."""

from __future__ import annotations

import json
from pathlib import Path

import sqlalchemy as sa

from ledgerlink.engine.runtime import Runtime
from ledgerlink.engine.worker import Worker
from ledgerlink.store.schema import events

#: 2026-05-01 07:00:00 UTC: a multiple of every alert window the tests use
MORNING = 1777618800.0


class Clock:
    """The host's clock, moved by the test alone."""

    def __init__(self, now: float = MORNING) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def host_events(runtime: Runtime) -> list[dict]:
    """Every ledgerlink.* event in the inbox, oldest first: the envelope, and its id and trigger."""
    with runtime.store.engine.connect() as conn:
        rows = conn.execute(sa.select(events.c.event_id, events.c.trigger, events.c.connection, events.c.payload)
                            .where(events.c.trigger.startswith("ledgerlink.")).order_by(events.c.id)).all()
    return [{"event_id": r[0], "trigger": r[1], "connection": r[2], **json.loads(r[3])} for r in rows]


def drain(runtime: Runtime) -> list[str]:
    """Process every due run with one worker; the outcomes in order."""
    worker = Worker(runtime)
    outcomes = []
    while claimed := runtime.store.claim(worker.name, 60, 8):
        outcomes += [worker.process(run) for run in claimed]
    return outcomes


def alert_recipe(recipe_id: str, trigger: str, connection: str, file: str) -> dict:
    """A recipe appending each host event of ``trigger`` as a row of ``file``."""
    return {
        "id": recipe_id, "version": 1, "description": f"Each {trigger} event as a row of {file}.",
        "trigger": {"event": trigger, "connection": "ledgerlink"},
        "steps": [{"id": "row", "action": "files.append_csv", "connection": connection, "input": {
            "file": file, "date": {"$path": "$.event.occurred_at", "$as": "date"},
            "columns": [{"name": "Event", "value": {"$path": "$.event.id"}},
                        {"name": "Recipe", "value": {"$path": "$.event.data.recipe_id"}},
                        {"name": "Count", "value": {"$path": "$.event.data.count", "$as": "string"}},
                        {"name": "Error", "value": {"$path": "$.event.data.error"}}]}}],
    }


def write_recipes(folder: Path, *recipes: dict) -> None:
    for recipe in recipes:
        (folder / f"{recipe['id']}.json").write_text(json.dumps(recipe))
