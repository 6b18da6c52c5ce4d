"""The links of runs into the vendors' own applications: the source object each run's event
is about, every entity its steps wrote, and the id each other step ended with, each as
``(label, url)`` built by the connector that owns it (``Connector.entity_url``,
:mod:`ledgerlink.contract.deeplinks`).

What a step wrote comes from ``writes`` (an action that declares ``entity``, and what its
``changes`` name); a step whose action declares none, or that found rather than created (a
customer looked up), is linked by its ``external_id`` with the action's ``entity`` or, when
it has none, the action's name as the kind.

For a page of runs at once: three statements (:meth:`~ledgerlink.store.console.ConsoleStore.run_sources`,
:meth:`~ledgerlink.store.console.ConsoleStore.run_writes`,
:meth:`~ledgerlink.store.console.ConsoleStore.run_step_results`), whatever the page's size. A
connector without ``entity_url``, a kind it has no page for, an answer that is not an
``https://`` (or sandbox ``http://``) address, or an exception in the connector gives no link
for that entity — never a broken page.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING, Any

from ledgerlink.contract.deeplinks import EntityRef, usable_url
from ledgerlink.engine.echo import trigger_value
from ledgerlink.errors import LedgerlinkError
from ledgerlink.store.console import StepResult

if TYPE_CHECKING:
    from ledgerlink.engine.runtime import Runtime

log = logging.getLogger("ledgerlink")

#: ``DeepLink.role`` of the object the run's event is about
SOURCE = "source"
#: ``DeepLink.role`` of an entity one of the run's steps wrote
WROTE = "wrote"
#: ``DeepLink.role`` of the id another step ended with (what it found, or wrote undeclared)
STEP = "step"


@dataclass(frozen=True)
class DeepLink:
    """One link of a run: what it is (``label``), where (``url``), and the facts it was built from."""

    role: str
    label: str
    url: str
    connection: str
    kind: str
    id: str
    #: the step that wrote it; None for the source
    step_id: str | None = None

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


def _url(rt: Runtime, connection: str, ref_kind: str, entity_id: str,
         event: Mapping[str, Any] | None) -> str | None:
    """The connector's address for one entity on ``connection``, or None."""
    try:
        conn = rt.connections.connection(connection)
    except LedgerlinkError:
        return None
    connector = rt.catalog.connectors.get(conn.connector)
    if connector is None or connector.entity_url is None:
        return None
    ref = EntityRef(kind=ref_kind, id=entity_id, settings=dict(conn.settings), event=event)
    try:
        return usable_url(connector.entity_url(ref))
    except Exception:  # noqa: BLE001 - a connector's bug costs a link, not the page
        log.warning("connector %s could not give the address of %s %s", conn.connector, ref_kind, entity_id,
                    exc_info=True)
        return None


def _source(rt: Runtime, connection: str, trigger_name: str, payload: Any) -> DeepLink | None:
    trigger = rt.catalog.triggers.get(trigger_name)
    if trigger is None or not trigger.source_id_path or not isinstance(payload, Mapping):
        return None
    value = trigger_value(trigger.source_id_path, payload)
    if isinstance(value, bool) or not isinstance(value, (str, int)):
        return None
    kind = trigger.entity or trigger.name
    url = _url(rt, connection, kind, str(value), payload)
    if url is None:
        return None
    return DeepLink(SOURCE, f"{connection}: {kind} {value}", url, connection, kind, str(value))


def links_of_runs(rt: Runtime, run_ids: Sequence[int]) -> dict[int, list[DeepLink]]:
    """For each run of ``run_ids``: the link of its source object first (when its connector
    gives one), then one per entity its steps wrote, in the order written, then one per other
    step's id, each entity once."""
    sources = rt.store.run_sources(run_ids)
    written = rt.store.run_writes(run_ids)
    results = rt.store.run_step_results(run_ids)
    out: dict[int, list[DeepLink]] = {}
    for run_id in run_ids:
        found: list[DeepLink] = []
        source = sources.get(run_id)
        if source is not None:
            link = _source(rt, source.connection, source.trigger, source.payload)
            if link is not None:
                found.append(link)
        seen: set[tuple[str, str, str]] = set()
        for write in written.get(run_id, []):
            key = (write.connection, write.entity, write.entity_id)
            if key in seen:
                continue
            seen.add(key)
            url = _url(rt, write.connection, write.entity, write.entity_id, None)
            if url is not None:
                found.append(DeepLink(WROTE, f"{write.connection}: {write.entity} {write.entity_id}", url,
                                      write.connection, write.entity, write.entity_id, write.step_id))
        for result in results.get(run_id, []):
            link = _step_link(rt, result, seen)
            if link is not None:
                found.append(link)
        out[run_id] = found
    return out


def _step_link(rt: Runtime, result: StepResult, seen: set[tuple[str, str, str]]) -> DeepLink | None:
    """The link of a step's ``external_id`` unless ``writes`` already linked it."""
    try:
        step = next(s for s in rt.registry.version(result.recipe_id, result.recipe_version).steps
                    if s.id == result.step_id)
    except (LedgerlinkError, StopIteration):  # a version that no longer compiles: no link
        return None
    kind = step.action.entity or step.action.name
    if (step.connection, kind, result.external_id) in seen:
        return None
    seen.add((step.connection, kind, result.external_id))
    url = _url(rt, step.connection, kind, result.external_id, None)
    if url is None:
        return None
    return DeepLink(STEP, f"{step.connection}: {kind} {result.external_id}", url, step.connection, kind,
                    result.external_id, result.step_id)


def run_links(rt: Runtime, run_id: int) -> list[DeepLink]:
    """The links of one run (:func:`links_of_runs`)."""
    return links_of_runs(rt, [run_id]).get(run_id, [])
