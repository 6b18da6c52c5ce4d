"""How many events per second the invoice-paid recipe maps, compiled once.

Prints three figures for the same events:
- mapping only: the journal entry step's compiled expressions applied to the run document
  (its customer step's output in it, as after that step);
- mapping + the filter + validation of the mapped input against the action's schema;
- the whole dry-run path: both steps, the customer found through the links table (the
  common case: each customer is created once), and the action building its QuickBooks request.

The events cycle through USD, JPY, KWD and EUR (two, zero, three and two decimals). Each is
booked for a company whose home currency it is (connection setting ``home_currency`` per
run), so no ExchangeRate is needed: the recipe refuses a currency other than the company's
without one.

Run: .venv/bin/python bench/mapping.py [--events N]
"""

from __future__ import annotations

import argparse
import copy
import dataclasses
import sys
import time
from pathlib import Path

from ledgerlink.contract import IncomingEvent, LinkQuery, Response
from ledgerlink.config import Config
from ledgerlink.connectors.manager import load_catalog
from ledgerlink.recipes.recipe import load_recipe
from ledgerlink.engine.runner import document, run, validate_input

REPO = Path(__file__).resolve().parents[1]
RECIPE = REPO / "recipes" / "stripe-invoice-paid-to-quickbooks-journal.json"
CURRENCIES = [("usd", 1), ("jpy", 1), ("kwd", 10), ("eur", 1)]


def events(catalog, n: int) -> list[IncomingEvent]:
    sample = catalog.triggers["stripe.invoice.paid"].sample
    out = []
    for i in range(n):
        payload = copy.deepcopy(sample)
        currency, step = CURRENCIES[i % len(CURRENCIES)]
        invoice = payload["data"]["object"]
        invoice["currency"] = currency
        invoice["amount_paid"] = invoice["amount_due"] = invoice["total"] = (1000 + i) * step
        payload["id"] = f"evt_bench_{i}"
        out.append(IncomingEvent(payload["id"], "stripe.invoice.paid", payload))
    return out


def rate(label: str, n: int, fn) -> float:
    start = time.perf_counter()
    fn()
    elapsed = time.perf_counter() - start
    per_second = n / elapsed
    print(f"{label:<52} {per_second:>10,.0f} events/s   ({elapsed * 1e6 / n:,.1f} µs/event)")
    return per_second


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=20000)
    args = parser.parse_args(argv)
    catalog = load_catalog()
    t0 = time.perf_counter()
    recipe = load_recipe(RECIPE, catalog, Config())
    compile_ms = (time.perf_counter() - t0) * 1000
    batch = events(catalog, args.events)
    step = next(s for s in recipe.steps if s.action.name == "quickbooks.create_journal_entry")
    customer = {"id": "1", "display_name": "Amy's Bird Sanctuary", "found_by": "link"}

    def entry_document(event):
        doc = document(recipe, event)
        doc["steps"]["customer"] = customer
        return doc
    print(f"recipe {recipe.id} v{recipe.version}: loaded, checked and compiled once in {compile_ms:.1f} ms")
    print(f"python {sys.version.split()[0]}, {args.events:,} events, currencies {', '.join(c for c, _ in CURRENCIES)}, "
          f"each for a company whose home currency it is (home_currency per run, no ExchangeRate)")

    def mapping_only():
        for event in batch:
            step.input(entry_document(event))

    def mapping_validated():
        for event in batch:
            doc = entry_document(event)
            if recipe.matches(doc):
                validate_input(step, recipe, step.input(doc))

    sample = Response(200, json=step.action.sample_response)
    linked = Response(200, json={"target_id": customer["id"]})
    default = Config().connection(step.connection, catalog)
    # each event's company keeps its books in the event's currency (home_currency per run)
    companies = {currency: dataclasses.replace(default, settings={**default.settings,
                                                                  "home_currency": currency.upper()})
                 for currency, _ in CURRENCIES}

    def whole_path():
        for event in batch:
            company = companies[event.payload["data"]["object"]["currency"]]
            run(recipe, event, lambda name, company=company: company,
                lambda s, a, c, r: linked if isinstance(r, LinkQuery) else sample)

    rate("mapping only (compiled expressions)", args.events, mapping_only)
    rate("filter + mapping + input schema validation", args.events, mapping_validated)
    rate("dry-run path (+ action builds the QBO request)", args.events, whole_path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
