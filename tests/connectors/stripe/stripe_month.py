"""The simulated month end to end, shared by every way its events reach ledgerlink.

:func:`write_recipes` writes one realistic recipe per Stripe trigger the month produces,
each with a read action on the same Stripe sandbox that needs the event's ids to succeed;
:func:`check_month` asserts what must hold however the events came (webhooks, polling,
backfill): every event of a handled type stored once, exactly one run per (event, recipe)
whose filter accepts it, none failed, and each action's answer about the event's own
object. :func:`check_enrichment` compares enriched events with the sandbox's balance
transactions (for triggers that enrich: those with a ``fetch``).
"""

from __future__ import annotations

import json
import threading
import time
from collections import Counter
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import httpx
import sqlalchemy as sa

from ledgerlink import jsonio
from ledgerlink.engine.operations import build_runtime
from ledgerlink.engine.runtime import Settings
from ledgerlink.engine.worker import WorkerPool
from ledgerlink.testing.databases import migrated_db
from ledgerlink.store.schema import events as events_table, run_steps, runs as runs_table

SEED, START, DAYS = "month", 1693526400, 30  # 2023-09-01, thirty days
KEY = "sk_test_sandbox"
WHSEC = "whsec_month_of_stripe"

Obj = dict[str, Any]


def _path(path: str) -> Obj:
    return {"$path": path}


#: recipe id -> (event type, filter or None, accepts(event) as the filter reads it, step)
RECIPES: dict[str, tuple[str, Obj | None, Callable[[Obj], bool], Obj]] = {
    "month-invoice-paid": (
        "invoice.paid", None, lambda e: True,
        {"action": "stripe.retrieve_invoice", "input": {"invoice": _path("$.event.data.object.id")}}),
    "month-invoice-finalized-jpy-kwd": (
        "invoice.finalized", {"path": "$.event.data.object.currency", "in": ["jpy", "kwd"]},
        lambda e: e["data"]["object"]["currency"] in ("jpy", "kwd"),
        {"action": "stripe.retrieve_invoice", "input": {"invoice": _path("$.event.data.object.id")}}),
    "month-payment-without-invoice": (
        "charge.succeeded", {"path": "$.event.data.object.invoice", "eq": None},
        lambda e: e["data"]["object"].get("invoice") is None,
        {"action": "stripe.list_balance_transactions", "input": {"source": _path("$.event.data.object.id")}}),
    "month-charge-refunded": (
        "charge.refunded", None, lambda e: True,
        {"action": "stripe.list_balance_transactions",
         "input": {"source": _path("$.event.data.object.id"), "type": "charge"}}),
    "month-credit-note": (
        "credit_note.created", None, lambda e: True,
        {"action": "stripe.retrieve_invoice", "input": {"invoice": _path("$.event.data.object.invoice")}}),
    "month-payout-paid": (
        "payout.paid", {"path": "$.event.data.object.amount", "gt": 0},
        lambda e: e["data"]["object"]["amount"] > 0,
        {"action": "stripe.list_balance_transactions", "input": {"payout": _path("$.event.data.object.id")}}),
    "month-payout-failed": (
        "payout.failed", None, lambda e: True,
        {"action": "stripe.list_balance_transactions", "input": {"payout": _path("$.event.data.object.id")}}),
    "month-customer-created-kwd": (
        "customer.created", {"path": "$.event.data.object.metadata.currency", "eq": "kwd"},
        lambda e: e["data"]["object"]["metadata"].get("currency") == "kwd",
        {"action": "stripe.list_balance_transactions",
         "input": {"type": "payout", "created": {"gte": _path("$.event.data.object.created")}}}),
    **{f"month-{kind.replace('.', '-').replace('_', '-')}": (
        kind, None, lambda e: True,
        {"action": "stripe.list_balance_transactions", "input": {"source": _path("$.event.data.object.charge")}})
       for kind in ("charge.dispute.created", "charge.dispute.funds_withdrawn",
                    "charge.dispute.funds_reinstated", "charge.dispute.closed")},
}


def write_recipes(folder: Path) -> Path:
    """One recipe per trigger of the month in ``folder`` (created)."""
    folder.mkdir(parents=True, exist_ok=True)
    for ident, (kind, condition, _, step) in RECIPES.items():
        trigger: Obj = {"event": f"stripe.{kind}", "connection": "stripe"}
        if condition is not None:
            trigger["filter"] = condition
        recipe = {"id": ident, "version": 1,
                  "description": f"Reads back from Stripe what a {kind} event is about, to reconcile it.",
                  "trigger": trigger, "steps": [{"id": "read", "connection": "stripe", **step}]}
        (folder / f"{ident}.json").write_text(json.dumps(recipe, indent=2))
    return folder


def write_config(path: Path, api_base: str, *, poll_since: str | None = None) -> Path:
    """``ledgerlink.toml`` with the Stripe connection (keys from ``LL_TEST_STRIPE_*``)."""
    lines = ['[connections.stripe]', 'connector = "stripe"', f'api_base = "{api_base}"',
             'api_key = "${LL_TEST_STRIPE_KEY}"', 'webhook_secret = "${LL_TEST_STRIPE_WHSEC}"']
    if poll_since:
        lines += ["poll_seconds = 60", f'poll_since = "{poll_since}"']
    lines += ["", "[connections.stripe.limits]", "requests = 1000", "per_seconds = 1.0", ""]
    path.write_text("\n".join(lines))
    return path


def runtime(tmp_path: Path, config: Path) -> Any:
    """The runtime on a fresh SQLite database in ``tmp_path`` with the month's recipes."""
    return build_runtime(db=migrated_db(tmp_path), recipes=write_recipes(tmp_path / "recipes"),
                         config_file=str(config), settings=Settings(backoff_base=0.05, backoff_cap=0.2))


def enriched_types(runtime: Any) -> set[str]:
    """Event types whose trigger enriches the event (has ``fetch``)."""
    return {name.removeprefix("stripe.") for name, trigger in runtime.catalog.triggers.items()
            if name.startswith("stripe.") and trigger.fetch is not None}


def finish(runtime: Any, sandbox: Any, url: str, handled: set[str], key: "Key | None" = None) -> dict[str, int]:
    """Work off every run, then check the month (and enrichment where there is any);
    ``key`` says what makes one event (Stripe's event id unless given)."""
    key = key or event_key
    expected = expected_runs(sandbox, key)
    assert len(expected) > 400
    pool = WorkerPool(runtime, 2)
    pool.start()
    try:
        wait_until_settled(runtime, runs=len(expected))
    finally:
        pool.stop()
    counts = check_month(runtime, sandbox, handled, key)
    enriched = enriched_types(runtime)
    if enriched:
        with httpx.Client(base_url=f"{url}/v1", headers={"Authorization": f"Bearer {KEY}"}) as api:
            assert check_enrichment(runtime, sandbox, api, enriched) > 0
    return counts


def sandbox_events(sandbox: Any) -> list[Obj]:
    return list(sandbox.account.store.objects["event"].values())


def event_key(event: Mapping[str, Any]) -> str:
    """What makes one event "the same" for webhooks and polling: Stripe's event id. (Backfill,
    whose events have ids of their own, passes a key of the object the event is about.)"""
    return event["id"]


Key = Callable[[Mapping[str, Any]], str]


def expected_runs(sandbox: Any, key: Key = event_key) -> set[tuple[tuple[str, str], str]]:
    """((trigger, key), recipe id) for every sandbox event a recipe's filter accepts."""
    return {((f"stripe.{event['type']}", key(event)), ident) for event in sandbox_events(sandbox)
            for ident, (kind, _, accepts, _) in RECIPES.items()
            if event["type"] == kind and accepts(event)}


def wait_until_settled(runtime: Any, runs: int, timeout: float = 120.0) -> None:
    """Wait (not measure) until ``runs`` runs exist and nothing is left to do."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        fetches, counts = runtime.store.fetch_counts(), runtime.store.counts()
        if not fetches.get("pending") and sum(counts.values()) >= runs \
                and not any(counts.get(s) for s in ("pending", "running", "retrying")):
            return
        time.sleep(0.1)
    raise AssertionError(f"not settled: fetches {runtime.store.fetch_counts()}, runs {runtime.store.counts()}")


def stored(runtime: Any) -> list[Obj]:
    with runtime.store.engine.connect() as conn:
        return [dict(row._mapping) for row in conn.execute(sa.select(events_table))]


def check_month(runtime: Any, sandbox: Any, handled: set[str], key: Key = event_key) -> dict[str, int]:
    """Every assertion that holds however the month's events came; returns the counts.

    Every sandbox event of a ``handled`` type is stored, none twice (by ``key``); exactly one
    run per (event, recipe) whose filter accepts it, none failed; each action's answer is
    about the stored event's own object."""
    rows = stored(runtime)
    payloads = {row["id"]: jsonio.loads(row["payload"]) for row in rows}
    keys = {row["id"]: (row["trigger"], key(payloads[row["id"]])) for row in rows}
    twice = [k for k, count in Counter(keys.values()).items() if count > 1]
    assert not twice, f"events stored more than once: {twice[:5]}"
    wanted = {(f"stripe.{e['type']}", key(e)) for e in sandbox_events(sandbox) if e["type"] in handled}
    lost = wanted - set(keys.values())
    assert not lost, f"{len(lost)} events of handled types never stored, e.g. {sorted(lost)[:5]}"
    with runtime.store.engine.connect() as conn:
        runs = [dict(r._mapping) for r in conn.execute(sa.select(runs_table))]
        outputs = {r.run_id: r.output for r in conn.execute(
            sa.select(run_steps.c.run_id, run_steps.c.output).where(run_steps.c.status == "succeeded"))}
    made = Counter((keys[run["event_pk"]], run["recipe_id"]) for run in runs)
    assert [k for k, count in made.items() if count > 1] == []
    expected = expected_runs(sandbox, key)
    assert set(made) == expected, (f"missing {sorted(expected - set(made))[:5]}, "
                                   f"unexpected {sorted(set(made) - expected)[:5]}")
    failed = [(run["recipe_id"], run["last_error"]) for run in runs if run["status"] != "succeeded"]
    assert not failed, failed[:5]
    for run in runs:
        check_output(run["recipe_id"], payloads[run["event_pk"]], jsonio.loads(outputs[run["id"]]))
    return {"events": len(rows), "runs": len(runs)}


def check_output(recipe: str, event: Obj, output: Obj) -> None:
    """The action's answer is about the event's own object: the event reached it intact."""
    obj = event["data"]["object"]
    action = RECIPES[recipe][3]["action"]
    if action == "stripe.retrieve_invoice":
        invoice = obj["invoice"] if obj["object"] == "credit_note" else obj["id"]
        assert output["id"] == invoice, (recipe, event["id"])
        return
    txns = output["data"]
    assert output["count"] == len(txns) >= 1, (recipe, event["id"])
    if obj["object"] == "payout":  # exactly the transactions it paid out: their net is its amount
        assert sum(t["net"] for t in txns if t["type"] != "payout") == obj["amount"], (recipe, event["id"])
    elif obj["object"] == "customer":
        assert all(t["type"] == "payout" and t["created"] >= obj["created"] for t in txns)
    else:
        charge = obj["charge"] if obj["object"] == "dispute" else obj["id"]
        assert {t["source"] for t in txns} == {charge}, (recipe, event["id"])


class Relay:
    """The webhook endpoint Stripe's sandbox posts to: passes each delivery to ledgerlink's
    app, but answers every ``lose_every``-th one with a 503 after ledgerlink stored it (the
    acknowledgement lost on the way), so the sandbox sends that event again."""

    def __init__(self, lose_every: int) -> None:
        self.app: Any = None
        self.lose_every = lose_every
        self.posts = 0
        self.lost = 0
        self._lock = threading.Lock()

    def __call__(self, environ: dict, start_response: Any) -> Any:
        with self._lock:
            self.posts += 1
            lose = self.posts % self.lose_every == 0
        if not lose:
            return self.app(environ, start_response)
        body = b"".join(self.app(environ, lambda status, headers, exc_info=None: None))
        assert body  # ledgerlink answered; the answer is dropped
        with self._lock:
            self.lost += 1
        start_response("503 Service Unavailable", [("Content-Length", "0")])
        return [b""]


# --- enrichment -------------------------------------------------------------------------------

def _txn(txn: Mapping[str, Any] | None) -> Obj | None:
    """A balance transaction without ``status`` (pending or available depends on when it was read)."""
    return None if txn is None else {k: v for k, v in txn.items() if k != "status"}


def _summary_nets(summary: Any) -> dict[tuple[str, str], int]:
    """``summary.by_type`` (rows of type, currency, count, amount, fee, net) as {(type, currency): net}."""
    return {(row["type"], row["currency"]): row["net"] for row in summary["by_type"]}


def check_enrichment(runtime: Any, sandbox: Any, api: Any, enriched: set[str]) -> int:
    """Stored payloads of the ``enriched`` event types carry the balance transactions the
    sandbox's ``/v1/balance_transactions`` lists for them. Returns how many were checked.

    ``api`` is an ``httpx.Client`` on the sandbox's ``/v1`` with the key."""
    checked = 0
    for row in stored(runtime):
        kind = row["trigger"].removeprefix("stripe.")
        if kind not in enriched:
            continue
        payload = jsonio.loads(row["payload"])
        obj = payload["data"]["object"]
        if kind == "payout.paid":
            # the payout's own line (type payout, source the payout) is not one it settled
            listed = [t for t in _all(api, payout=obj["id"]) if t["source"] != obj["id"]]
            assert sum(t["net"] for t in listed) == obj["amount"], row["event_id"]
            assert [_txn(t) for t in payload["balance_transactions"]] == [_txn(t) for t in listed], row["event_id"]
            nets = Counter()
            for txn in listed:
                nets[(txn["type"], txn["currency"])] += txn["net"]
            summary = _summary_nets(payload["summary"])
            assert summary == dict(nets), (row["event_id"], summary, dict(nets))
        else:
            if kind == "charge.refunded":
                source = payload["refund"]["id"]
            elif kind == "invoice.paid":
                source = obj.get("charge")
            else:
                source = obj["id"]
            listed = _all(api, source=source) if source else []
            want = next((t for t in listed if t["type"] in ("charge", "payment", "refund")), None)
            assert _txn(payload["balance_transaction"]) == _txn(want), row["event_id"]
        checked += 1
    return checked


def _all(api: Any, **params: str) -> list[Obj]:
    items: list[Obj] = []
    while True:
        cursor = {"starting_after": items[-1]["id"]} if items else {}
        answer = api.get("/balance_transactions", params={"limit": "100", **params, **cursor})
        assert answer.status_code == 200, answer.text
        page = jsonio.loads(answer.content)  # exact numbers (exchange_rate), as the store reads them
        items += page["data"]
        if not page["has_more"]:
            return items
