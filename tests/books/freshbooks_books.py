"""The FreshBooks books as an accountant reads them, through FreshBooks' API only, and a recipe
run against the FreshBooks sandbox as a worker runs it. Not a test module.

FreshBooks is not a double-entry ledger an integration can post to (no journals, no bank
transfers): what the recipes book is read back as FreshBooks shows it, the profit and loss
report (``GET …/reports/accounting/profitloss``, https://www.freshbooks.com/api/reports) and
the documents' lists (invoices, payments, credit notes, expenses, other incomes), 100 a page.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx

from books_month import Ledger
from fb_connector import checked
from fb_sandbox import ACCOUNT, TOKEN, call, result
from ledgerlink.connectors.manager import load_catalog
from ledgerlink.config import load_config
from ledgerlink.contract import IncomingEvent, Request
from ledgerlink.engine.runner import run
from ledgerlink.recipes.recipe import load_recipe
from ledgerlink.testing import HttpSender, LinkTable
from ledgerlink.testing.sandbox import Loopback
from ledgerlink_sandboxes.freshbooks import create_sandbox

FOLDER = Path(__file__).resolve().parents[2] / "recipes" / "freshbooks"
#: the two booking modes' recipe folders
MODES = {"per-transaction": FOLDER / "mode-1-per-transaction", "payout-summary": FOLDER / "mode-2-payout-summary"}
RECIPES = sorted(path for folder in MODES.values() for path in folder.glob("*.json"))
#: every document a business keeps that moves its books: path → the list's key
DOCUMENTS = {"invoices/invoices": "invoices", "payments/payments": "payments",
             "credit_notes/credit_notes": "credit_notes", "expenses/expenses": "expenses",
             "other_incomes/other_incomes": "other_income"}


def freshbooks_config(url: str) -> list[str]:
    """The lines of ledgerlink.toml for the FreshBooks connection to the sandbox at ``url``: the
    business's account_id as ``ledgerlink connect`` learns it, and wide limits."""
    return ["[connections.freshbooks]", 'connector = "freshbooks"', f'api_base = "{url}"', f'account_id = "{ACCOUNT}"',
            'access_token = "${LL_TEST_FRESHBOOKS_TOKEN}"', "requests_per_minute = 600",
            "[connections.freshbooks.limits]", "requests = 100000", "per_seconds = 1.0", "concurrent = 10", ""]


#: the custom expense subcategories the recipes name (the rest are FreshBooks' defaults)
CATEGORIES = ["Chargebacks", "Returned Payouts"]
#: the month booked into a FreshBooks business in USD (the month settles in USD), which has made
#: the subcategories the recipes name (:data:`CATEGORIES`), as an integrator makes them in FreshBooks
FRESHBOOKS = Ledger(sandbox=lambda **options: create_sandbox(rate_limit=False, concurrent=10,
                                                             categories=CATEGORIES, **options),
                    prepare=lambda url: {}, config=freshbooks_config, modes=MODES)


def recipe(ident: str) -> Path:
    [path] = [p for p in RECIPES if p.stem == ident]
    return path


def config_for(loop: Loopback, folder: Path) -> Path:
    """ledgerlink.toml naming the sandbox's business as the freshbooks connection."""
    path = folder / "ledgerlink.toml"
    path.write_text(f'[connections.freshbooks]\nconnector = "freshbooks"\napi_base = "{loop.url}"\n'
                    f'account_id = "{ACCOUNT}"\n')
    return path


def book(loop: Loopback, ident: str, event: dict[str, Any], folder: Path, links: LinkTable,
         on_request: Callable[[Request], None] | None = None) -> list[Any]:
    """``ident``'s steps run on ``event`` against the sandbox as a worker runs them (links kept
    in ``links``); each request held to FreshBooks' strict description before it leaves."""
    raw = json.loads(recipe(ident).read_text())
    raw.pop("$schema", None)
    path = folder / f"{ident}.json"
    path.write_text(json.dumps(raw))
    catalog = load_catalog()
    config = load_config(config_for(loop, folder), catalog)
    loaded = load_recipe(path, catalog, config)
    connection = config.connection("freshbooks", catalog)

    def held(request: Request) -> None:
        checked(request)
        if on_request is not None:
            on_request(request)

    with httpx.Client(timeout=10) as http:
        sender = HttpSender(http, {"Authorization": f"Bearer {TOKEN}"}, check=held)

        def send(step, action, ctx, request):
            return links.answer(request) if not isinstance(request, Request) else sender(request)

        return run(loaded, IncomingEvent(id=event["id"], trigger=loaded.trigger.name, payload=event),
                   lambda name: connection, send, on_step=lambda result: links.record(result.output))


@dataclass(frozen=True)
class ProfitAndLoss:
    """FreshBooks' profit and loss over a period, in the business's currency."""

    sales: Decimal                 # income: Sales (invoices less credit notes, net of tax)
    other_income: Decimal          # income: Other Income
    expenses: dict[str, Decimal]   # Other Expenses, by category
    net_profit: Decimal


def profit_and_loss(loop: Loopback, start: str = "2000-01-01", end: str = "2099-12-31") -> ProfitAndLoss:
    """The report as FreshBooks answers it (its rows' totals), checked to add up."""
    report = result(call(loop, "GET", "reports/accounting/profitloss",
                         params={"start_date": start, "end_date": end}))["profitloss"]
    income = {row["description"]: Decimal(row["total"]["amount"]) for row in report["income"]}
    [other] = report["expenses"]
    expenses = {row["description"]: Decimal(row["total"]["amount"]) for row in other["children"]}
    total_income = Decimal(report["total_income"]["total"]["amount"])
    total_expenses = Decimal(report["total_expenses"]["total"]["amount"])
    assert total_income == sum(income.values()) and total_expenses == sum(expenses.values())
    net = Decimal(report["net_profit"]["total"]["amount"])
    assert net == total_income - total_expenses
    return ProfitAndLoss(sales=income.get("Sales", Decimal(0)), other_income=income.get("Other Income", Decimal(0)),
                         expenses=expenses, net_profit=net)


def documents(loop: Loopback, path: str) -> list[dict[str, Any]]:
    """Every live document of ``path`` (``invoices/invoices`` …), page by page, 100 a page."""
    found: list[dict[str, Any]] = []
    page = 1
    while True:
        listed = result(call(loop, "GET", path, params={"page": page, "per_page": 100}))
        found += listed[DOCUMENTS[path]]
        if page >= listed["pages"]:
            return found
        page += 1


class At:
    """A served sandbox's address, where a :class:`Loopback` is not at hand (the month's)."""

    def __init__(self, url: str) -> None:
        self.url = url


def amount(document: dict[str, Any]) -> Decimal:
    return Decimal(document["amount"]["amount"])


def source_of(document: dict[str, Any]) -> str:
    """The source id a create kept on the document (its ``ledgerlink source <id>`` line)."""
    text = "\n".join(str(document.get(key) or "") for key in ("note", "notes", "po_number"))
    marked = [line.split(" ", 2)[2] for line in text.splitlines() if line.startswith("ledgerlink source ")]
    return marked[0] if marked else str(document.get("po_number") or "")


def counts(loop: Loopback) -> dict[str, int]:
    """How many live documents of each kind the business keeps."""
    return {path: len(documents(loop, path)) for path in DOCUMENTS}


__all__ = ["CATEGORIES", "DOCUMENTS", "FRESHBOOKS", "MODES", "ProfitAndLoss", "RECIPES", "book", "config_for", "counts", "documents", "freshbooks_config",
           "profit_and_loss", "recipe"]
