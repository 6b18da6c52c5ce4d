"""Each Xero booking recipe (``recipes/xero/``), dry-run on Stripe events enriched as the
Stripe connector enriches them, then run against the Xero sandbox over loopback HTTP with
exact amounts in USD, EUR, JPY and KWD.

Dry-run: every request it would send is one Xero's OpenAPI made strict accepts, every
bank transaction's lines make its total, every journal balances, and each amount is on the
side and account the mode says. Against the sandbox (:func:`book`): the steps run as a
worker runs them, the organisation's trial balance (``GET /Reports/TrialBalance``) then shows
each account moved by exactly Stripe's amounts. Xero keeps two decimals in every currency:
a KWD amount with a third decimal is refused by the action before any request, which
the settlement-currency recipes never meet while Stripe settles in a two-decimal currency.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import pytest

from ledgerlink import jsonio
from ledgerlink.config import load_config
from ledgerlink.connectors.manager import load_catalog
from ledgerlink.contract import IncomingEvent, Request
from ledgerlink.engine.runner import run
from ledgerlink.errors import InputError
from ledgerlink.recipes.recipe import load_recipe
from ledgerlink.testing import HttpSender, LinkTable
from ledgerlink.testing.sandbox import running
from ledgerlink_sandboxes.xero import DEFAULT_ACCESS_TOKEN, DEFAULT_TENANT, create_sandbox
from ledgerlink_stripe import enrich
from ledgerlink_xero.oauth import auth_headers
from books_month import MODES as QUICKBOOKS_MODES
from test_books_recipes import dry_run, failed_after_paid, payout_event
from xero_books import MODES, client, create_accounts, trial_balance_report
from xero_openapi_requests import problems

RECIPES = sorted(path for folder in MODES.values() for path in folder.glob("*.json"))
PAID, FAILED = "stripe-payout-paid-to-xero-transfer-from-clearing", "stripe-payout-failed-to-xero-reverse-transfer"
SUMMARY, FAILED_SUMMARY = "stripe-payout-paid-to-xero-summary-journal", "stripe-payout-failed-to-xero-summary-journal"
INVOICE = "stripe-invoice-paid-to-xero-payment-into-clearing"
CUSTOMER_CURRENCY = "stripe-invoice-paid-to-xero-payment-into-clearing-in-customer-currency"


def recipe(ident: str) -> Path:
    [path] = [p for p in RECIPES if p.stem == ident]
    return path


def held_to_the_spec(step: dict[str, Any]) -> dict[str, Decimal]:
    """The step's request, checked against Xero's strict spec; a bank transaction's lines make
    its total, a journal balances, a transfer moves a positive amount between two accounts.
    Returns {account code: signed amount} (debit positive) of what a write posts, besides the
    bank account of a bank transaction (whose side is its Type)."""
    shown = step["request"]
    url = shown["url"]
    request = Request(method=shown["method"], url=url.split("?")[0],
                      params=dict(part.split("=", 1) for part in url.split("?")[1].split("&")) if "?" in url else {},
                      headers={k: v for k, v in shown["headers"].items() if k == "idempotency-key"}, json=shown["body"])
    assert problems(request) == [], (step["id"], problems(request))
    data, posted = step["input"], {}
    if shown["method"] == "GET":
        return {}
    if step["action"] == "xero.create_manual_journal":
        for line in data["JournalLines"]:
            [side] = [key for key in ("Debit", "Credit") if key in line]
            assert line[side] > 0
            posted[line["AccountCode"]] = posted.get(line["AccountCode"], Decimal(0)) + (
                line[side] if side == "Debit" else -line[side])
        assert sum(posted.values()) == 0, (step["id"], data["JournalLines"])
    if step["action"] == "xero.create_bank_transaction":
        sign = -1 if data["Type"] == "RECEIVE" else 1
        for line in data["LineItems"]:
            assert line["UnitAmount"] > 0 and "Quantity" not in line
            posted[line["AccountCode"]] = posted.get(line["AccountCode"], Decimal(0)) + sign * line["UnitAmount"]
    if step["action"] == "xero.create_bank_transfer":
        assert data["Amount"] > 0 and data["FromBankAccountCode"] != data["ToBankAccountCode"]
    return posted


@pytest.mark.parametrize("path", RECIPES, ids=[p.stem for p in RECIPES])
def test_every_xero_recipe_validates_and_says_what_it_posts(run_cli, path):
    code, out, err = run_cli("validate", str(path))
    assert code == 0, out + err
    raw = jsonio.loads(path.read_bytes())
    assert raw["id"] == path.stem and "-to-xero-" in raw["id"]
    assert len(raw["description"]) > 200 and raw["description"].startswith("When ")
    assert all(step.get("description") for step in raw["steps"])
    assert raw.get("enabled", True) is (raw["id"] != CUSTOMER_CURRENCY)  # the alternative ships disabled


def test_the_xero_recipes_ids_are_their_own():
    quickbooks = {jsonio.loads(p.read_bytes())["id"] for folder in QUICKBOOKS_MODES.values() for p in folder.glob("*.json")}
    assert len(RECIPES) == 10 and not quickbooks & {p.stem for p in RECIPES}


@pytest.mark.parametrize("path", [p for p in RECIPES if p.stem not in (FAILED, FAILED_SUMMARY)],
                         ids=[p.stem for p in RECIPES if p.stem not in (FAILED, FAILED_SUMMARY)])
def test_the_triggers_enriched_sample_gives_requests_xero_accepts(run_cli, tmp_path, path):
    report = dry_run(run_cli, path, tmp_path)
    assert report["matched"] is True
    ran = [step for step in report["steps"] if step["status"] == "would_run"]
    assert ran and all(step["status"] in ("would_run", "skipped") for step in report["steps"])
    for step in ran:
        held_to_the_spec(step)


@pytest.mark.parametrize("amount", [250000, -100])
def test_mode_2_a_payout_is_one_balanced_journal_and_one_bank_transaction_of_its_amount(run_cli, tmp_path, samples,
                                                                                      amount):
    event = payout_event(samples, amount)
    steps = {step["id"]: step for step in dry_run(run_cli, recipe(SUMMARY), tmp_path, event)["steps"]}
    by = {row["reporting_category"]: row["amount"] for row in event["summary"]["by_category"]}
    cents = lambda minor: Decimal(minor).scaleb(-2)  # noqa: E731
    assert held_to_the_spec(steps["summary"]) == {
        "616": cents(amount),  # in transit: debited with a payout, credited with a negative one
        "200": -cents(by["charge"]),  # sales, gross
        "210": cents(20000),  # refunds
        "405": cents(5000 - 4000),  # chargebacks: the withdrawal less the reinstatement
        "615": -cents(777),  # a failed payout's money, paid out again
        "406": cents(3610 + 30 + 1500 + 59),  # fees
        "407": cents(361),  # tax on fees
    }
    deposit = steps["deposit"]["input"]
    assert (deposit["Type"], deposit["BankAccountCode"]) == ("RECEIVE" if amount > 0 else "SPEND", "090")
    assert held_to_the_spec(steps["deposit"]) == {"616": -cents(amount)}  # in transit back to zero


def test_mode_2_a_category_without_an_account_fails_naming_it(run_cli, tmp_path, samples):
    event = payout_event(samples, 250000)
    event["balance_transactions"][0]["reporting_category"] = "other_adjustment"
    event["summary"] = enrich.summarize(event["balance_transactions"], "usd")
    file = tmp_path / "event.json"
    file.write_text(jsonio.dumps(event))
    code, out, err = run_cli("dry-run", str(recipe(SUMMARY)), "--event", str(file))
    assert code != 0 and "other_adjustment" in out + err


@pytest.mark.parametrize("amount", [110000, -2500])
def test_mode_1_a_payout_moves_between_clearing_and_bank_and_a_failure_moves_it_back(run_cli, tmp_path, samples,
                                                                                    amount):
    paid = copy.deepcopy(samples["stripe.payout.paid"])
    paid["data"]["object"]["amount"] = amount
    [there] = dry_run(run_cli, recipe(PAID), tmp_path, paid)["steps"]
    [back] = dry_run(run_cli, recipe(FAILED), tmp_path, failed_after_paid(samples, amount))["steps"]
    for step in (there, back):
        held_to_the_spec(step)
        assert step["input"]["Amount"] == Decimal(abs(amount)).scaleb(-2)
    way = (there["input"]["FromBankAccountCode"], there["input"]["ToBankAccountCode"])
    assert way == (("099", "090") if amount > 0 else ("090", "099"))  # clearing → bank; negative: bank → clearing
    assert (back["input"]["FromBankAccountCode"], back["input"]["ToBankAccountCode"]) == way[::-1]


def test_mode_2_a_payout_returned_after_it_was_paid_leaves_the_bank_for_the_holding_account(run_cli, tmp_path,
                                                                                          samples):
    steps = {s["id"]: s for s in dry_run(run_cli, recipe(FAILED_SUMMARY), tmp_path,
                                         failed_after_paid(samples, 110000))["steps"]}
    assert steps["listed"]["status"] == steps["itemized"]["status"] == "skipped"
    returned = steps["returned"]
    assert (returned["input"]["Type"], returned["input"]["BankAccountCode"]) == ("SPEND", "090")
    assert held_to_the_spec(returned) == {"615": Decimal("1100.00")}


# --- against the Xero sandbox -------------------------------------------------------------

#: a currency's Stripe exponent, and an amount in it (minor units) Xero keeps exactly
CURRENCIES = {"usd": (2, 123456), "eur": (2, 98765), "jpy": (0, 12345), "kwd": (3, 12340)}


@pytest.fixture
def organisation(request, tmp_path) -> Iterator[tuple[Any, Path]]:
    """A Xero sandbox organisation in ``request.param``'s base currency (USD without one), its
    accounts created as the recipes name them, and ledgerlink.toml for it."""
    base = getattr(request, "param", "USD")
    with running(create_sandbox(rate_limit=False, base_currency=base,
                                currencies=[base] + [c for c in ("USD", "EUR", "JPY", "KWD") if c != base])) as xero:
        with client(xero.url) as api:
            create_accounts(api, currency=base)
        config = tmp_path / "ledgerlink.toml"
        config.write_text(f'[connections.xero]\nconnector = "xero"\napi_base = "{xero.url}/api.xro/2.0"\n'
                          f'tenant_id = "{DEFAULT_TENANT}"\nbase_currency = "{base}"\n')
        yield xero, config


def book(xero: Any, config: Path, ident: str, event: dict[str, Any], tmp_path: Path,
         lookups: dict[str, Any] | None = None, links: LinkTable | None = None) -> list[Any]:
    """``ident``'s steps run on ``event`` against the sandbox as a worker runs them (links kept
    in ``links``), with ``lookups`` merged into the recipe's (the clearing account of another
    settlement currency …); each request held to Xero's strict spec before it leaves."""
    raw = json.loads(recipe(ident).read_text())
    for table, rows in (lookups or {}).items():
        raw["lookups"][table] = {**raw["lookups"].get(table, {}), **rows}
    raw.pop("$schema", None)
    raw["enabled"] = True
    path = tmp_path / f"{ident}.json"
    path.write_text(json.dumps(raw))
    catalog = load_catalog()
    loaded = load_recipe(path, catalog, load_config(config, catalog))
    connection = load_config(config, catalog).connection("xero", catalog)
    links = links if links is not None else LinkTable()

    def checked(request: Request) -> None:
        assert problems(request) == [], problems(request)

    with httpx.Client(timeout=10) as http:
        sender = HttpSender(http, auth_headers({"access_token": DEFAULT_ACCESS_TOKEN, "tenant_id": DEFAULT_TENANT}),
                            check=checked)

        def send(step, action, ctx, request):
            return links.answer(request) if not isinstance(request, Request) else sender(request)

        results = run(loaded, IncomingEvent(id=event["id"], trigger=loaded.trigger.name, payload=event),
                      lambda name: connection, send, on_step=lambda result: links.record(result.output))
    return results


def moved(xero: Any) -> dict[str, Decimal]:
    """Account code -> its balance in the organisation's trial balance (debit positive)."""
    with client(xero.url) as api:
        rows, debits, credits = trial_balance_report(api)
    assert debits == credits
    return rows


def settled_invoice(samples: dict[str, Any], currency: str, amount: int, fee: int) -> dict[str, Any]:
    """invoice.paid for ``amount`` (minor units of ``currency``), settled in that currency."""
    event = copy.deepcopy(samples["stripe.invoice.paid"])
    event["data"]["object"].update(currency=currency, amount_paid=amount, customer="cus_Books1",
                                   customer_name="Ridgeway University")
    event["balance_transaction"].update(currency=currency, amount=amount, fee=fee, net=amount - fee,
                                        exchange_rate=None, fee_details=[{
                                            "amount": fee, "currency": currency, "type": "stripe_fee",
                                            "description": "Stripe processing fees", "application": None}])
    return event


@pytest.mark.parametrize("organisation", ["USD", "EUR", "JPY", "KWD"], indirect=True)
def test_mode_1_a_paid_invoice_its_fee_and_its_payout_exact_in_the_settlement_currency(organisation, samples,
                                                                                       tmp_path):
    xero, config = organisation
    base = xero.sandbox.orgs[DEFAULT_TENANT].base_currency
    currency = base.lower()
    exponent, amount = CURRENCIES[currency]
    fee = 310 if exponent else 31  # 3.10 (0.310 KWD), or 31 yen
    clearing = {"clearing": {currency: "099"}, "bank": {currency: "090"}}
    done = book(xero, config, INVOICE, settled_invoice(samples, currency, amount, fee), tmp_path, clearing)
    assert [step.status for step in done] == ["succeeded"] * 5
    payout = copy.deepcopy(samples["stripe.payout.paid"])
    payout["data"]["object"].update(currency=currency, amount=amount - fee)
    book(xero, config, PAID, payout, tmp_path, clearing)
    unit = Decimal(1).scaleb(-exponent)
    assert moved(xero) == {"200": -amount * unit, "406": fee * unit, "090": (amount - fee) * unit}  # clearing: 0
    # a KWD amount with a third decimal: refused by the action, before any request
    if currency == "kwd":
        sent = len(xero.sandbox.requests())
        with pytest.raises(InputError, match="2 decimal places Xero keeps"):
            book(xero, config, INVOICE, {**settled_invoice(samples, "kwd", 12345, 0), "id": "evt_kwd_3"}, tmp_path,
                 clearing, links=LinkTable({("cus_Books1", "xero.contact"): done[0].output["id"]}))
        assert len(xero.sandbox.requests()) == sent


def test_mode_1_a_sale_a_refund_and_a_dispute_lost_then_won_move_the_clearing_account_as_stripes_balance(
        organisation, samples, tmp_path):
    xero, config = organisation
    charge = copy.deepcopy(samples["stripe.charge.succeeded"])  # 1.00 USD, fee 0.33, no customer
    book(xero, config, "stripe-charge-succeeded-to-xero-sale-into-clearing", charge, tmp_path)
    refund = copy.deepcopy(samples["stripe.charge.refunded"])
    book(xero, config, "stripe-charge-refunded-to-xero-refund-from-clearing", refund, tmp_path)
    withdrawn = copy.deepcopy(samples["stripe.charge.dispute.funds_withdrawn"])
    book(xero, config, "stripe-dispute-funds-withdrawn-to-xero-spend-from-clearing", withdrawn, tmp_path)
    reinstated = copy.deepcopy(samples["stripe.charge.dispute.funds_reinstated"])
    book(xero, config, "stripe-dispute-funds-reinstated-to-xero-receive-into-clearing", reinstated, tmp_path)
    stripe_net = sum(e["balance_transaction"]["net"] for e in (charge, refund)) + \
        sum(t["net"] for t in reinstated["data"]["object"]["balance_transactions"])
    books = moved(xero)
    assert books["099"] == Decimal(stripe_net).scaleb(-2)
    assert books["200"] == -Decimal(charge["balance_transaction"]["amount"]).scaleb(-2)
    assert books["210"] == -Decimal(refund["balance_transaction"]["amount"]).scaleb(-2)
    assert books.get("405", Decimal(0)) == 0  # withdrawn, then won back


#: the customer's currency -> (amount paid, Stripe's exchange_rate to USD, what Stripe settled in cents)
PRESENTED = {"eur": (10000, "1.0823", 10823), "jpy": (12345, "0.0068", 8395), "kwd": (12340, "3.2541", 4016)}


def presented_invoice(samples: dict[str, Any], currency: str, number: int, amount: int, rate: str,
                      settled: int) -> dict[str, Any]:
    """invoice.paid in ``currency`` settled in USD at ``rate`` (no fee)."""
    event = settled_invoice(samples, "usd", settled, 0)
    event["id"] = f"evt_presented_{currency}_{number}"
    event["data"]["object"].update(id=f"in_presented_{currency}_{number}", currency=currency, amount_paid=amount)
    event["balance_transaction"].update(id=f"txn_presented_{currency}_{number}", exchange_rate=rate, fee_details=[])
    return event


def test_the_customer_currency_alternative_books_the_invoice_in_its_currency_at_stripes_rate(organisation, samples,
                                                                                            tmp_path):
    """EUR, JPY and KWD invoices, each paid into the USD clearing account at Stripe's rate: the
    clearing account receives what Stripe settled, no exchange difference; a KWD amount with a
    third decimal is refused before any request; and the cents Xero's 6-decimal inverse rate
    can cost on a large amount (why the recipe ships disabled)."""
    xero, config = organisation
    links = LinkTable()
    for currency, (amount, rate, settled) in PRESENTED.items():
        done = book(xero, config, CUSTOMER_CURRENCY, presented_invoice(samples, currency, 1, amount, rate, settled),
                    tmp_path, links=links)
        assert [step.status for step in done] == ["succeeded"] * 3 + ["skipped"] * 2  # no fee
        assert Decimal(done[1].output["total"]) == Decimal(amount).scaleb(-CURRENCIES[currency][0])  # in its own currency
    books = moved(xero)
    assert books["099"] == Decimal(sum(s for _, _, s in PRESENTED.values())).scaleb(-2)  # exactly what Stripe settled
    assert books.get("499", Decimal(0)) == 0 and books.get("610", Decimal(0)) == 0  # no exchange difference
    sent = len(xero.sandbox.requests())
    with pytest.raises(InputError, match="2 decimal places Xero keeps"):
        book(xero, config, CUSTOMER_CURRENCY, presented_invoice(samples, "kwd", 2, 12345, "3.2541", 4017), tmp_path,
             links=links)
    assert len(xero.sandbox.requests()) == sent
    # a million euros at 1.0823: Stripe settles 1,082,300.00; Xero's CurrencyRate 0.923958 gives 1,082,300.28
    book(xero, config, CUSTOMER_CURRENCY, presented_invoice(samples, "eur", 3, 100_000_000, "1.0823", 108_230_000),
         tmp_path, links=links)
    assert moved(xero)["099"] - books["099"] == Decimal("1082300.28")


def test_mode_1_a_fee_credited_back_on_a_payment_fails_the_run_rather_than_land_on_the_wrong_side(run_cli, tmp_path,
                                                                                                   samples):
    event = settled_invoice(samples, "usd", 10000, 300)
    event["balance_transaction"].update(fee=290, net=9710)
    event["balance_transaction"]["fee_details"].append({"amount": -10, "currency": "usd", "type": "stripe_fee",
                                                        "description": "Fee credit", "application": None})
    file = tmp_path / "event.json"
    file.write_text(jsonio.dumps(event))
    code, out, err = run_cli("dry-run", str(recipe(INVOICE)), "--event", str(file))
    assert code != 0 and "UnitAmount" in out + err
