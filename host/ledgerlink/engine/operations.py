"""Building a runtime from the command line's options, and operations on runs."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pluggy

from ledgerlink import jsonio
from ledgerlink.contract import IncomingEvent
from ledgerlink.config import find_config_file, load_config
from ledgerlink.engine.dryrun import dry_run
from ledgerlink.errors import Conflict, LedgerlinkError, MappingError, NotFound
from ledgerlink.connectors.manager import load_catalog
from ledgerlink.recipes.recipe import Recipe
from ledgerlink.engine.runner import document
from ledgerlink.engine.reconciliations import attach
from ledgerlink.engine.runtime import Runtime, Settings
from ledgerlink.store import DEFAULT_URL, Store


def build_runtime(db: str | None = None, recipes: str | Path | None = None, config_file: str | None = None,
                  settings: Settings | None = None, check_migrated: bool = True,
                  plugins: pluggy.PluginManager | None = None) -> Runtime:
    """Catalog (of ``plugins``, default every installed plugin) + config + store (+ recipes
    loaded) as one runtime, whose actions may reconcile. Refuses an unmigrated database."""
    catalog = load_catalog(plugins)
    config = load_config(find_config_file(config_file), catalog)
    store = Store(db or DEFAULT_URL)
    if check_migrated:
        store.check_migrated()
    runtime = attach(Runtime(catalog, config, store, recipes, settings or Settings()))
    runtime.registry.reload()
    return runtime


def replay(runtime: Runtime, run_id: int, version: str = "own", dry: bool = False) -> dict[str, Any]:
    """Replay a run: on its own recipe version (reopened) or on the latest (a new run).

    Either way, a step that wrote before is looked up before anything is sent again (its
    entity may exist though its run failed), and a step whose last write's outcome is
    unknown is resent under that write's idempotency key (see :meth:`Store.reopen`)."""
    row = runtime.store.run(run_id)
    if row is None:
        raise NotFound(f"no run {run_id}")
    if version not in ("own", "latest"):
        raise LedgerlinkError("version must be \"own\" or \"latest\"")
    if version == "own":
        recipe = runtime.registry.version(row["recipe_id"], row["recipe_version"])
    else:
        recipe = runtime.registry.active().get(row["recipe_id"])
        if recipe is None:
            raise NotFound(f"recipe {row['recipe_id']!r} is no longer active; replay on its own version")
    event_row = runtime.store.event(row["event_pk"])
    try:
        payload = jsonio.loads(event_row["payload"])
    except jsonio.JSONDecodeError as exc:  # stored before the inbox refused such text
        raise Conflict(f"event {event_row['event_id']} of run {run_id} cannot be read, so it cannot be "
                       f"replayed: {exc}") from None
    event = IncomingEvent(event_row["event_id"], event_row["trigger"], payload)
    if dry:
        return {"dry_run": True, "run": run_id, "report": dry_run(recipe, runtime.catalog, runtime.config, event)}
    _check_filter(recipe, event)
    if version == "own" or recipe.version == row["recipe_version"]:
        if row["status"] not in ("failed", "dead", "rejected", "skipped", "undone"):
            raise Conflict(f"run {run_id} is {row['status']}; only failed, dead, rejected, skipped or undone runs are "
                           f"replayed on their own version (`ledgerlink runs undo {run_id}` first to book it again)")
        if row["status"] == "undone":
            runtime.store.reopen_undone(run_id, tuple(runtime.catalog.actions))
        else:
            runtime.store.reopen(run_id)
        runtime.wake()
        return {"dry_run": False, "run": run_id, "recipe_version": recipe.version, "status": "pending"}
    new_id = runtime.store.plan(row["event_pk"], recipe.id, recipe.version, key_generation=1)
    if new_id is None:
        raise Conflict(f"the event already has a run on {recipe.id!r} version {recipe.version}")
    runtime.wake()
    return {"dry_run": False, "run": new_id, "replay_of": run_id, "recipe_version": recipe.version,
            "status": "pending"}


def _check_filter(recipe: Recipe, event: IncomingEvent) -> None:
    """Replay only what the recipe version's trigger filter accepts: a run planned although
    its filter could not be evaluated is replayed once a version's filter can be.
    Raises MappingError (422) or Conflict (409)."""
    try:
        accepted = recipe.matches(document(recipe, event))
    except MappingError as exc:
        raise MappingError(f"{exc.reason}; fix the trigger filter, reload the recipe and replay on "
                           f"the latest version", recipe=exc.recipe or recipe.id, step=exc.step,
                           pointer=exc.pointer, path=exc.path) from None
    if not accepted:
        raise Conflict(f"the trigger filter of recipe {recipe.id!r} version {recipe.version} does not "
                       f"accept event {event.id}: there is nothing to replay")


def undo_targets(runtime: Runtime, row: dict[str, Any]) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """The links of run ``row`` that :func:`undo` voids or deletes, newest first, and those it
    keeps: links of an action's own output are what the run created; other links (a customer
    found or created for a source id) are shared by later runs."""
    linked = sorted(row["links"], key=lambda link: link["id"], reverse=True)
    return ([link for link in linked if link["target_type"] in runtime.catalog.actions],
            [link for link in linked if link["target_type"] not in runtime.catalog.actions])


def undo(runtime: Runtime, run_id: int) -> dict[str, Any]:
    """Void or delete, through each connector, every entity the run created — newest first.

    Idempotent: an entity already gone counts as undone, and an undone run stays undone.
    Refuses (changing nothing) when an action of the run cannot be undone.
    """
    from ledgerlink.contract import ActionContext
    from ledgerlink.engine.runner import drive

    row = runtime.store.run(run_id)
    if row is None:
        raise NotFound(f"no run {run_id}")
    if row["status"] == "undone":
        return {"run": run_id, "status": "undone", "undone": []}
    if row["status"] not in ("succeeded", "failed", "dead"):
        raise Conflict(f"run {run_id} is {row['status']}; undo a run once it has finished")
    created, shared = undo_targets(runtime, row)
    kept = [{"target": link["target_type"], "id": link["target_id"], "status": "kept (shared)"} for link in shared]
    missing = sorted({link["target_type"] for link in created
                      if runtime.catalog.actions[link["target_type"]].undo is None})
    if missing:
        raise Conflict(f"run {run_id} created entities that ledgerlink cannot undo ({', '.join(missing)}); "
                       f"remove them in the target system")
    done = []
    for link in created:
        action = runtime.catalog.actions[link["target_type"]]
        connection = runtime.connections.connection(link["target_connection"])
        ctx = ActionContext(connection=connection, idempotency_key=f"undo-{run_id}-{link['id']}",
                            recipe_id=row["recipe_id"], recipe_version=row["recipe_version"],
                            step_id=link["step_id"] or "", event_id=row["event_id"])
        result = drive(action.undo(link["target_id"], ctx), runtime.connections.sender(connection.name))
        done.append({"target": link["target_type"], "id": link["target_id"], **(result or {})})
    runtime.store.mark_undone(run_id)
    return {"run": run_id, "status": "undone", "undone": done, "kept": kept}
