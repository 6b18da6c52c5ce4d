"""How long the console's sync log takes to render with many runs in the database.

Fills a fresh SQLite database (or the PostgreSQL database of ``--db``, which it empties of
runs first: use a throwaway one) with ``--runs`` runs (default 100,000: statuses, recipes
and connections mixed, spread over 30 days), then renders the sync log through the console
as a browser would, signed in, and prints the time of each page: the first page, a deep page
(keyset paging continues after the id of a run 90 % of the way down), and filtered first
pages (a common status, a rare one, a recipe, a source id, a connection, a date range).

    .venv/bin/python bench/console_synclog.py [--runs 100000] [--repeat 5] [--db URL]

Each figure is the median of ``--repeat`` renders. The fill itself is not timed.
"""

from __future__ import annotations

import argparse
import re
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import sqlalchemy as sa

#: statuses as a busy installation has them: mostly succeeded, a few failed, rare review
STATUS_MIX = (["succeeded"] * 90 + ["failed"] * 5 + ["skipped"] * 3 + ["dead"] + ["awaiting_review"])
RECIPES = ("stripe-invoice-paid-to-quickbooks-journal", "stripe-credit-note-to-quickbooks-journal",
           "stripe-payout-to-quickbooks-deposit")
CONNECTIONS = ("stripe", "stripe_eu")
DAY = 86400.0


def fill(url: str, runs: int, end: float | None = None, batch: int = 5000) -> None:
    """``runs`` runs (each with its event) in the migrated database at ``url``, the newest
    created at ``end`` (default now), one every 30 days / ``runs`` before it."""
    from ledgerlink.store import make_engine
    from ledgerlink.store.schema import events, runs as runs_table

    end = time.time() if end is None else end
    step = 30 * DAY / max(runs, 1)
    engine = make_engine(url)
    with engine.begin() as conn:
        start = conn.execute(sa.select(sa.func.coalesce(sa.func.max(events.c.id), 0))).scalar_one()
    for first in range(0, runs, batch):
        rows_e: list[dict[str, Any]] = []
        rows_r: list[dict[str, Any]] = []
        for i in range(first, min(first + batch, runs)):
            at = end - (runs - 1 - i) * step
            pk = start + i + 1
            status = STATUS_MIX[(i * 7919) % len(STATUS_MIX)]
            rows_e.append({"id": pk, "connection": CONNECTIONS[i % len(CONNECTIONS)], "event_id": f"evt_bench_{pk}",
                           "trigger": "stripe.invoice.paid", "received_at": at, "payload": "{}"})
            rows_r.append({"recipe_id": RECIPES[i % len(RECIPES)], "recipe_version": 1, "event_pk": pk,
                           "status": status, "attempts": 1, "due_at": at, "created_at": at, "updated_at": at,
                           "last_error": "QuickBooks answered 400: the account is inactive; make it active "
                                         "and replay the run" if status in ("failed", "dead") else None})
        with engine.begin() as conn:
            conn.execute(events.insert(), rows_e)
            conn.execute(runs_table.insert(), rows_r)
    engine.dispose()


def _sign_in(client: Any, token: str) -> None:
    form = client.get("/console/login").get_data(as_text=True)
    csrf = re.search(r'name="csrf" value="([^"]+)"', form).group(1)
    answer = client.post("/console/login", data={"csrf": csrf, "token": token, "next": "/console/"})
    if answer.status_code != 303:
        raise SystemExit(f"could not sign in to the console: {answer.status_code}")


def _time(client: Any, path: str, repeat: int) -> tuple[float, int]:
    """The median render time of ``path`` in ms, and how many runs the page shows."""
    times, shown = [], 0
    for _ in range(repeat):
        began = time.perf_counter()
        answer = client.get(path)
        times.append((time.perf_counter() - began) * 1000)
        if answer.status_code != 200:
            raise SystemExit(f"{path} answered {answer.status_code}")
        shown = answer.get_data(as_text=True).count('<tr>\n    <td><a href="/console/runs/')
    return statistics.median(times), shown


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--db", help="a migrated database URL (default: a fresh SQLite file)")
    args = parser.parse_args(argv)

    from ledgerlink.store import upgrade
    from ledgerlink.web.app import create_app

    folder = Path(tempfile.mkdtemp(prefix="ledgerlink-console-bench-"))
    url = args.db or f"sqlite:///{folder / 'ledgerlink.db'}"
    upgrade(url)
    began = time.perf_counter()
    end = time.time()
    fill(url, args.runs, end)
    print(f"filled {args.runs} runs in {time.perf_counter() - began:.1f} s ({url.split(':', 1)[0]})")
    token = "console-bench-token"
    app = create_app({"db": url, "recipes": str(folder / "no-recipes"), "admin_token": token})
    client = app.test_client()
    _sign_in(client, token)
    deep = max(1, int(args.runs * 0.1))  # the id of a run 90 % of the way down, newest first
    day = time.strftime("%Y-%m-%d", time.gmtime(end - 20 * DAY))
    pages = [("first page", "/console/"),
             ("deep page (90 % down)", f"/console/?after={deep}"),
             ("status failed", "/console/?status=failed"),
             ("status awaiting_review", "/console/?status=awaiting_review"),
             ("status awaiting_review, deep", f"/console/?status=awaiting_review&after={deep}"),
             (f"recipe {RECIPES[2]}", f"/console/?recipe={RECIPES[2]}"),
             ("source id", f"/console/?source=evt_bench_{deep}"),
             (f"connection {CONNECTIONS[1]}", f"/console/?connection={CONNECTIONS[1]}"),
             (f"one day ({day})", f"/console/?from={day}&to={day}")]
    print(f"{'page':<40} {'ms (median of ' + str(args.repeat) + ')':>20} {'runs shown':>11}")
    for label, path in pages:
        ms, shown = _time(client, path, args.repeat)
        print(f"{label:<40} {ms:>20.1f} {shown:>11}")
    app.config["LEDGERLINK_RUNTIME"].close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
