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

from ledgerlink.engine.runtime import Runtime
from ledgerlink.store import RunFilter
from ledgerlink.web.runs import MAX_ID, RUN_STATUSES

if TYPE_CHECKING:
    from ledgerlink.engine.deeplinks import DeepLink
    from ledgerlink.engine.health_series import HealthSeries, Rejection

__all__ = ["MAX_ID", "Operator", "RUN_STATUSES", "RunFilter", "operator"]


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

    def recipe_ids(self) -> list[str]:
        """Every recipe id ever loaded."""
        return self.runtime.store.recipe_ids()

    def active_version(self, recipe_id: str) -> int | None:
        """The version of ``recipe_id`` that new events run now; None when it is not active."""
        recipe = self.runtime.registry.active().get(recipe_id)
        return recipe.version if recipe is not None else None

    def connection_names(self) -> list[str]:
        """Every configured connection, and every installed connector (an implicit connection)."""
        return sorted(set(self.runtime.config.connections) | set(self.runtime.catalog.connectors))

    def settings(self, table: str) -> Mapping[str, Any]:
        """A top-level table of ``ledgerlink.toml`` (``"console"``), empty when absent."""
        return dict(self.runtime.config.tables.get(table, {}))

    def secret_values(self) -> list[str]:
        """Every secret value the host knows now (configured secrets, stored tokens), longest
        first: a page redacts them from whatever it shows, as the run log already does."""
        from ledgerlink.errors import LedgerlinkError

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

    def approve(self, run_ids: list[int], by: str) -> dict[int, tuple[bool, str | None]]:
        """Approve runs awaiting review; per id, whether it was approved and its status now."""
        results = self.runtime.store.approve(run_ids, by)
        self.runtime.wake()
        return results

    def reject(self, run_ids: list[int], by: str, reason: str | None) -> dict[int, tuple[bool, str | None]]:
        """Reject runs awaiting review; per id, whether it was rejected and its status now."""
        return self.runtime.store.reject(run_ids, by, reason)


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
