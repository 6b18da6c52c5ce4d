"""The kit's two clocks, each for its own work: a worker asks a ticking trigger
(``Trigger.tick``) once per enabled recipe on it, and each event it answers plans that
recipe alone; it calls ``ledgerlink_tick`` once per look whatever recipes exist. Both are
told the runtime's one clock (simulated here)."""

from __future__ import annotations

import json

from ledgerlink import hookimpl
from ledgerlink.config import load_config
from ledgerlink.connectors.manager import build_plugin_manager, load_catalog
from ledgerlink.contract import Connector, IncomingEvent, Tick, Trigger, event_prefix
from ledgerlink.engine.runtime import Runtime
from ledgerlink.engine.worker import Worker
from ledgerlink.store import Store
from simulated_clock import MIDNIGHT

NOW = MIDNIGHT + 3600 + 5


class Clocked:
    """A plugin with both: an hourly trigger and upkeep of its own."""

    def __init__(self) -> None:
        self.asked: list[tuple[str, float]] = []
        self.upkeep: list[float] = []

    def hourly(self, now: Tick) -> list[IncomingEvent]:
        self.asked.append((now.recipe_id, now.now))
        event_id = f"{event_prefix('clocked.hourly', now.recipe_id)}{int(now.now // 3600) * 3600}"
        return [IncomingEvent(id=event_id, trigger="clocked.hourly", payload={"id": event_id})]

    @hookimpl
    def ledgerlink_register_connectors(self, register):
        register(Connector(name="clocked", summary="A clock for the tests here",
                           settings_schema={"type": "object", "properties": {}}))

    @hookimpl
    def ledgerlink_register_triggers(self, register):
        register(Trigger(name="clocked.hourly", summary="Every hour", event_schema={"type": "object"},
                         sample={"id": "clocked.hourly:r:0"}, source_id_path="$.id", tick=self.hourly))

    @hookimpl
    def ledgerlink_tick(self, now):
        self.upkeep.append(now)


def recipe(recipe_id: str, enabled: bool) -> dict:
    return {"id": recipe_id, "version": 1, "enabled": enabled, "description": "An hourly report, for the clock tests.",
            "trigger": {"event": "clocked.hourly", "connection": "clocked"},
            "steps": [{"id": "report", "action": "schedule.sync_report", "connection": "schedule",
                       "input": {"since": 0, "until": 1}}]}


def runtime_with(tmp_path, db_url, plugin: Clocked, recipes: list[dict]) -> Runtime:
    catalog = load_catalog(build_plugin_manager(extra=[("clocked", plugin)]))
    config_file = tmp_path / "ledgerlink.toml"
    config_file.write_text('[connections.clocked]\nconnector = "clocked"\n[connections.schedule]\nconnector = "schedule"\n')
    folder = tmp_path / "recipes"
    folder.mkdir()
    for raw in recipes:
        (folder / f"{raw['id']}.json").write_text(json.dumps(raw))
    runtime = Runtime(catalog, load_config(config_file, catalog), Store(db_url), folder)
    runtime.registry.reload()
    runtime.clock = lambda: NOW
    return runtime


def test_a_ticking_trigger_is_asked_per_enabled_recipe_and_plans_that_recipe_alone(tmp_path, db_url):
    plugin = Clocked()
    runtime = runtime_with(tmp_path, db_url, plugin, [recipe("a", True), recipe("b", True), recipe("off", False)])
    try:
        assert Worker(runtime).side_work() == 2
        assert sorted(plugin.asked) == [("a", NOW), ("b", NOW)]  # never for the disabled recipe
        assert sorted((r["recipe_id"], r["event_id"]) for r in runtime.store.list_runs()) == [
            ("a", f"clocked.hourly:a:{int(MIDNIGHT) + 3600}"), ("b", f"clocked.hourly:b:{int(MIDNIGHT) + 3600}")]
        assert plugin.upkeep == [NOW]
    finally:
        runtime.close()


def test_the_upkeep_hook_is_called_with_no_recipe_at_all_and_no_trigger_is_asked(tmp_path, db_url):
    plugin = Clocked()
    runtime = runtime_with(tmp_path, db_url, plugin, [])
    try:
        assert Worker(runtime).side_work() == 0
        assert plugin.upkeep == [NOW] and plugin.asked == []
    finally:
        runtime.close()
