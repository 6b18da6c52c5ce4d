"""The host's services to a plugin's pages (a web console): what an operator reads and does.

A view of a :class:`~ledgerlink.web.routes.PageBlueprint` calls :func:`operator` for the
host serving the request and reads runs, counts and settings through it, or replays, undoes,
approves and rejects runs with the same engine calls the CLI and the JSON API make. A plugin
never reaches into the runtime itself, so the host can change how it keeps runs without
breaking a console.
"""

from __future__ import annotations

import hmac
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from flask import current_app

from ledgerlink.contract import IncomingEvent
from ledgerlink.engine.runtime import Runtime
from ledgerlink.errors import ConfigError, LedgerlinkError
from ledgerlink.recipes.folder import FolderPlan, plan_reload, plan_write, write_recipe
from ledgerlink.engine.submit import Submitted
from ledgerlink.recipes.recipe import Recipe
from ledgerlink.store import RunFilter
from ledgerlink.web.runs import MAX_ID, RUN_STATUSES

if TYPE_CHECKING:
    from ledgerlink.engine.deeplinks import DeepLink
    from ledgerlink.engine.health_series import HealthSeries, Rejection

__all__ = ["FolderPlan", "MAX_ID", "Operator", "RUN_STATUSES", "RunFilter", "operator"]


@dataclass(frozen=True)
class Operator:
    """What an operator of one running host may read and do."""

    runtime: Runtime
    admin_token: str

    # what the host keeps

    def run_page(self, where: RunFilter, after_id: int | None = None, limit: int = 50) -> list[dict[str, Any]]:
        """Runs matching ``where``, newest first, continuing below ``after_id`` (keyset paging)."""
        return self.runtime.store.run_page(where, after_id, limit)

    def status_counts(self, where: RunFilter) -> dict[str, int]:
        """How many runs match ``where`` (its status aside), per status."""
        return self.runtime.store.status_counts(where)

    def run(self, run_id: int) -> dict[str, Any] | None:
        """One run with its event, every step attempt (requests redacted) and its links."""
        return self.runtime.store.run(run_id)

    def run_status(self, run_id: int) -> str | None:
        """One run's status, without its steps (None: no such run)."""
        return self.runtime.store.run_status(run_id)

    def recipe_ids(self) -> list[str]:
        """Every recipe id ever loaded."""
        return self.runtime.store.recipe_ids()

    def active_version(self, recipe_id: str) -> int | None:
        """The version of ``recipe_id`` that new events run now; None when it is not active."""
        recipe = self.runtime.registry.active().get(recipe_id)
        return recipe.version if recipe is not None else None

    # recipes: the calls /api/recipes/… makes (:mod:`ledgerlink.recipes.folder`, the registry)

    def recipes(self) -> list[dict[str, Any]]:
        """The active recipes by id: id, version, description, trigger, connection, enabled,
        review, file and each step's action and connection."""
        return [{"id": r.id, "version": r.version, "description": r.description, "trigger": r.trigger.name,
                 "connection": r.connection, "enabled": r.enabled, "review": r.review, "file": r.file,
                 "steps": [{"id": s.id, "action": s.action.name, "connection": s.connection} for s in r.steps]}
                for r in sorted(self.runtime.registry.active().values(), key=lambda r: r.id)]

    def recipe_versions(self, recipe_id: str) -> list[dict[str, Any]]:
        """Every stored version of ``recipe_id``, newest first (``version``, ``file``, ``loaded_at``)."""
        return self.runtime.store.recipe_versions(recipe_id)

    def recipe_body(self, recipe_id: str, version: int) -> str | None:
        """The stored text of one version of a recipe; None when it was never loaded."""
        row = self.runtime.store.recipe_version(recipe_id, version)
        return row["body"] if row is not None else None

    def recipe_folder(self) -> str | None:
        """The folder the recipes are loaded from; None when the server was started without one."""
        directory = self.runtime.registry.directory
        return str(directory) if directory is not None else None

    def plan_reload(self) -> FolderPlan:
        """What reloading the recipe folder would change now (nothing is done)."""
        return plan_reload(self.runtime.registry)

    def reload_recipes(self) -> list[dict[str, Any]]:
        """Reload every recipe file, as ``POST /api/recipes/reload``: all valid, or a RecipeError
        and nothing changes. The recipes loaded, by id and version."""
        return [{"id": r.id, "version": r.version} for r in self.runtime.registry.reload()]

    def plan_recipe(self, raw: Any, text: str, name: str) -> tuple[str | None, FolderPlan]:
        """Where the recipe ``raw`` (written as ``text``) would be saved and what saving it would
        change (nothing is done); without a recipe folder, only whether it is valid."""
        path, plan = plan_write(self.runtime.registry, raw, text, name)
        return (str(path) if path is not None else None), plan

    def write_recipe(self, raw: Any) -> dict[str, Any]:
        """Write a recipe to its file and reload, as ``PUT /api/recipes/<id>``: a RecipeError
        (every problem) changes nothing. The recipe's id and version."""
        recipe = write_recipe(self.runtime.registry, raw)
        return {"id": recipe.id, "version": recipe.version}

    def connection_names(self) -> list[str]:
        """Every configured connection, and every installed connector (an implicit connection)."""
        return sorted(set(self.runtime.config.connections) | set(self.runtime.catalog.connectors))

    def settings(self, table: str) -> Mapping[str, Any]:
        """A top-level table of ``ledgerlink.toml`` (``"console"``), empty when absent."""
        return dict(self.runtime.config.tables.get(table, {}))

    def secret_values(self) -> list[str]:
        """Every secret value the host knows now (configured secrets, stored tokens), longest
        first: a page redacts them from whatever it shows, as the run log already does."""
        found: set[str] = set()
        connections = self.runtime.connections
        for name in self.runtime.config.connections:
            try:
                values = dict(self.runtime.config.secrets(name, self.runtime.catalog))
                if connections.secret_box.enabled:
                    values.update(connections.secret_box.get(name))
            except (LedgerlinkError, KeyError, ValueError):
                continue
            found.update(_strings(values))
        return sorted((s for s in found if len(s) >= 4), key=len, reverse=True)

    def now(self) -> float:
        """The host's clock (Unix seconds): the one its runs and tallies are stamped by."""
        return self.runtime.clock()

    def health(self, hours: int = 7 * 24) -> HealthSeries:
        """Runs per hour by status, refusals per hour and the queue now, over ``hours``
        (:func:`ledgerlink.engine.health_series.health_series`)."""
        from ledgerlink.engine.health_series import health_series

        return health_series(self.runtime.store, self.now(), hours)

    def rejection_reasons(self) -> list[Rejection]:
        """Webhook deliveries refused, by connection and reason, over the last day and week."""
        from ledgerlink.engine.health_series import rejection_reasons

        return rejection_reasons(self.runtime.store, self.now())

    def oldest_due(self) -> float | None:
        """Since when the longest-waiting due run (pending or retrying) has been due."""
        return self.runtime.store.oldest_due(self.now())

    def run_totals(self) -> dict[str, int]:
        """Every run in the database, by status."""
        return self.runtime.store.counts()

    def connection_states(self) -> dict[str, int]:
        """How many connections are in each state (ok, needs_reauth, not_connected, paused:
        :mod:`ledgerlink.engine.connection_states`)."""
        from ledgerlink.web.connections import connection_rows

        states: dict[str, int] = {}
        for row in connection_rows(self.runtime):
            states[row["state"]] = states.get(row["state"], 0) + 1
        return states

    def links_of_runs(self, run_ids: list[int]) -> dict[int, list[DeepLink]]:
        """Each run's links into the vendors' applications: its source object, then what it
        wrote, three statements for the whole page (:func:`ledgerlink.engine.deeplinks.links_of_runs`)."""
        from ledgerlink.engine.deeplinks import links_of_runs

        return links_of_runs(self.runtime, run_ids)

    def is_admin_token(self, given: str) -> bool:
        """Whether ``given`` is the admin token (compared in constant time; never true when
        no admin token is set)."""
        return bool(self.admin_token) and hmac.compare_digest(given.encode(), self.admin_token.encode())

    # what an operator does: the calls `ledgerlink runs …` and /api/runs/… make

    def replay(self, run_id: int, version: str = "own", dry: bool = False) -> dict[str, Any]:
        """Replay a run (:func:`ledgerlink.engine.operations.replay`)."""
        from ledgerlink.engine.operations import replay

        return replay(self.runtime, run_id, version, dry)

    def undo(self, run_id: int) -> dict[str, Any]:
        """Void or delete what a run created (:func:`ledgerlink.engine.operations.undo`)."""
        from ledgerlink.engine.operations import undo

        return undo(self.runtime, run_id)

    def undo_targets(self, run: dict[str, Any]) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
        """The links of ``run`` (as :meth:`run` gives it) that an undo voids or deletes, newest
        first, and those it keeps (shared with later runs)."""
        from ledgerlink.engine.operations import undo_targets

        return undo_targets(self.runtime, run)

    # the trial sync: an active recipe dry-run on one event, and that event sent for real

    def active_recipes(self) -> list[Recipe]:
        """The active recipes themselves, by id."""
        return sorted(self.runtime.registry.active().values(), key=lambda r: r.id)

    def trial_samples(self, recipe: Recipe) -> list[tuple[str, IncomingEvent]]:
        """The samples of ``recipe``'s trigger (:func:`ledgerlink.engine.trial_events.samples`)."""
        from ledgerlink.engine import trial_events

        return trial_events.samples(recipe, self.runtime.catalog)

    def pasted_event(self, recipe: Recipe, text: str) -> IncomingEvent:
        """Pasted event JSON read as ``recipe``'s trigger reads a delivery (EventError if not)."""
        from ledgerlink.engine import trial_events

        return trial_events.pasted(recipe, self.runtime.catalog, text)

    def recent_events(self, recipe: Recipe) -> list[dict[str, Any]]:
        """The latest stored events of ``recipe``'s trigger on its connection, newest first."""
        from ledgerlink.engine import trial_events

        return trial_events.recent(recipe, self.runtime.store)

    def stored_event(self, recipe: Recipe, pk: int) -> IncomingEvent:
        """Stored event ``pk`` of ``recipe``'s trigger (EventError when it is not one)."""
        from ledgerlink.engine import trial_events

        return trial_events.stored(recipe, self.runtime.store, pk)

    def dry_run(self, recipe: Recipe, event: IncomingEvent) -> dict[str, Any]:
        """What ``recipe`` would send for ``event`` (:func:`ledgerlink.engine.dryrun.dry_run`):
        nothing sent, secrets redacted. Raises MappingError when the recipe cannot map it."""
        from ledgerlink.engine.dryrun import dry_run

        return dry_run(recipe, self.runtime.catalog, self.runtime.config, event)

    def submit(self, recipe: Recipe, event: IncomingEvent) -> Submitted:
        """Send ``event`` for real through ``recipe``, once (:func:`ledgerlink.engine.submit.submit`)."""
        from ledgerlink.engine.submit import submit

        return submit(self.runtime, recipe, event)

    def approve(self, run_ids: list[int], by: str) -> dict[int, tuple[bool, str | None]]:
        """Approve runs awaiting review; per id, whether it was approved and its status now."""
        results = self.runtime.store.approve(run_ids, by)
        self.runtime.wake()
        return results

    def reject(self, run_ids: list[int], by: str, reason: str | None) -> dict[int, tuple[bool, str | None]]:
        """Reject runs awaiting review; per id, whether it was rejected and its status now."""
        return self.runtime.store.reject(run_ids, by, reason)

    # connections: what ``ledgerlink connections`` and ``connect`` and /api/connections show and do

    def connections(self) -> list[dict[str, Any]]:
        """Every connection with its state, what waits for it, its rate-limit headroom and
        when its tokens expire (:func:`ledgerlink.web.connections.connection_rows`)."""
        from ledgerlink.web.connections import connection_rows

        return connection_rows(self.runtime)

    def consent_origin(self, name: str) -> str | None:
        """The scheme, host and port of the consent page that connects ``name`` (an OAuth
        connection connected in a browser), else None."""
        from urllib.parse import urlsplit

        from ledgerlink.io.oauth import AUTHORIZATION_CODE, grant, token_set

        connections = self.runtime.connections
        try:
            owner = token_set(connections, name)
            connection = connections.connection(owner)
            oauth = self.runtime.catalog.connectors[connection.connector].oauth
            if oauth is None or grant(oauth, connection) != AUTHORIZATION_CODE:
                return None
        except LedgerlinkError:
            return None
        parts = urlsplit(str(connection.settings.get("authorize_url") or oauth.authorize_url))
        return f"{parts.scheme}://{parts.netloc}" if parts.scheme in ("http", "https") and parts.netloc else None

    def connect(self, name: str, redirect_uri: str) -> str | list[str]:
        """Connect ``name`` as ``ledgerlink connect`` does: for a consent in the browser, the
        consent page's address (its state kept for ten minutes, the person sent back to
        ``redirect_uri``); for the client credentials grant, the token is fetched now and the
        connections on its token set are returned (their paused runs resumed); for a key, the
        key is checked now (ConfigError when it is refused)."""
        from ledgerlink.io.keys import check
        from ledgerlink.io.oauth import CLIENT_CREDENTIALS, connect_client, consent_url, grant, token_set

        connections = self.runtime.connections
        oauth = self.runtime.catalog.connectors[connections.connection(name).connector].oauth
        if oauth is None:
            checked = check(connections, name)
            if not checked.ok:
                raise ConfigError(f"{checked.message}; set the connection's current key and check it again")
            return [name]
        if grant(oauth, connections.connection(token_set(connections, name))) == CLIENT_CREDENTIALS:
            return connect_client(connections, name)
        return consent_url(connections, name, redirect_uri)

    def complete_consent(self, query: dict[str, str]) -> str:
        """Finish a consent the vendor sent the person back from, as ``/oauth/callback`` does:
        the tokens stored, the tenant learned, paused runs resumed. Returns the connection."""
        from ledgerlink.io.oauth import complete

        name = complete(self.runtime.connections, query)
        self.runtime.connections.forget(name)
        return name

    def resume(self, name: str) -> tuple[int, int]:
        """Resume the runs and notification fetches paused on ``name`` (they are paused again
        if the vendor still refuses): how many of each."""
        runs = self.runtime.store.resume_paused(name)
        fetches = self.runtime.store.resume_fetches(name)
        self.runtime.wake()
        return runs, fetches

    # reconciliation: what ``ledgerlink reconcile`` and /api/reconcile show and do

    def ledgers(self) -> list[str]:
        """The configured connections a reconciliation can compare (their connector lists records)."""
        from ledgerlink.engine.reconcile import is_ledger

        return [name for name in sorted(self.runtime.config.connections) if is_ledger(self.runtime, name)]

    def latest_reconciliation(self, ledger: str) -> dict[str, Any] | None:
        """The latest reconciliation of ``ledger`` (:func:`ledgerlink.engine.reconciliations.latest_of`)."""
        from ledgerlink.engine.reconciliations import latest_of

        return latest_of(self.runtime, ledger)

    def reconcile(self, since: str, until: str, ledger: str) -> dict[str, Any]:
        """Reconcile ``ledger`` over ``[since, until]`` now, as ``ledgerlink reconcile`` and
        ``POST /api/reconcile`` do; the report is kept as its latest."""
        from ledgerlink.engine.reconcile import check_period
        from ledgerlink.engine.reconciliations import run

        check_period(since, until)
        return run(self.runtime, since, until, connection=ledger).as_json()


def _strings(value: Any) -> list[str]:
    """Every string inside ``value`` (a secret may be a list of keys, or a token mapping)."""
    if isinstance(value, str):
        return [value]
    if isinstance(value, Mapping):
        return [s for item in value.values() for s in _strings(item)]
    if isinstance(value, (list, tuple)):
        return [s for item in value for s in _strings(item)]
    return []


def operator() -> Operator:
    """The operator services of the app serving this request."""
    return Operator(current_app.config["LEDGERLINK_RUNTIME"], current_app.config.get("LEDGERLINK_ADMIN_TOKEN") or "")
