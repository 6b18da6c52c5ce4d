"""Each FreshBooks booking recipe (``recipes/freshbooks/``), dry-run on Stripe events enriched as
the Stripe connector enriches them, then run against the FreshBooks sandbox over loopback HTTP
with exact amounts in USD, EUR, JPY and KWD.

Dry-run: every request it would send is one FreshBooks' community OpenAPI made strict accepts,
and each amount is the Stripe figure the mode says. Against the sandbox (:func:`book`): the
steps run as a worker runs them, then FreshBooks' profit and loss report shows Sales, Other
Income and the fee expenses moved by exactly Stripe's amounts, and its net profit is what the
payouts paid. FreshBooks keeps two decimals of every amount: a KWD amount whose third decimal
is not 0 is refused by the action before any request, never rounded.
"""

from __future__ import annotations

import copy
import json
from decimal import Decimal
from typing import Any

import pytest

from fb_sandbox import served
from freshbooks_books import CATEGORIES, MODES, RECIPES, book, counts, documents, profit_and_loss, recipe
from freshbooks_openapi_requests import problems
from ledgerlink import jsonio
from ledgerlink.contract import Request
from ledgerlink.errors import InputError
from ledgerlink.testing import LinkTable
from ledgerlink_stripe import enrich
from books_month import MODES as QUICKBOOKS_MODES
from test_books_recipes import dry_run, failed_after_paid, payout_event
from xero_books import MODES as XERO_MODES

INVOICE = "stripe-invoice-paid-to-freshbooks-invoice-and-payment"
CHARGE = "stripe-charge-succeeded-to-freshbooks-other-income"
REFUND = "stripe-charge-refunded-to-freshbooks-credit-note"
CREDIT_NOTE = "stripe-credit-note-to-freshbooks-credit-note"
FEES = "stripe-payout-paid-to-freshbooks-fees-expense"
SUMMARY = "stripe-payout-paid-to-freshbooks-income-and-fees"
FAILED = "stripe-payout-failed-to-freshbooks-fees-expense"
FAILED_SUMMARY = "stripe-payout-failed-to-freshbooks-fees-expense-and-income"
WITHDRAWN = "stripe-dispute-funds-withdrawn-to-freshbooks-chargeback-expense"
REINSTATED = "stripe-dispute-funds-reinstated-to-freshbooks-other-income"


def held_to_the_spec(step: dict[str, Any]) -> None:
    """The step's shown request, checked against FreshBooks' strict description (a read of
    Stripe's, a failed payout's balance transactions, is Stripe's)."""
    shown = step["request"]
    if shown["url"].startswith("https://api.stripe.com/"):
        return
    url = shown["url"]
    request = Request(method=shown["method"], url=url.split("?")[0],
                      params=dict(part.split("=", 1) for part in url.split("?")[1].split("&")) if "?" in url else {},
                      json=shown["body"])
    request = Request(method=request.method, url=request.url,
                      params={k.replace("%5B", "[").replace("%5D", "]"): v.replace("+", " ")
                              for k, v in request.params.items()}, json=request.json)
    assert problems(request) == [], (step["id"], problems(request))


def post_payment_credit_note(samples: dict[str, Any]) -> dict[str, Any]:
    """credit_note.created for a paid invoice, credited to the customer's Stripe balance."""
    event = copy.deepcopy(samples["stripe.credit_note.created"])
    event["data"]["object"].update(type="post_payment", refund=None, total=1690, currency="eur")
    return event


@pytest.mark.parametrize("path", RECIPES, ids=[p.stem for p in RECIPES])
def test_every_freshbooks_recipe_validates_and_says_what_it_books(run_cli, path):
    code, out, err = run_cli("validate", str(path))
    assert code == 0, out + err
    raw = jsonio.loads(path.read_bytes())
    assert raw["id"] == path.stem and "-to-freshbooks-" in raw["id"]
    assert len(raw["description"]) > 200 and raw["description"].startswith("When ")
    assert all(step.get("description") for step in raw["steps"])
    assert raw.get("enabled", True) is (raw["id"] != CREDIT_NOTE)  # it books money Stripe's balance never moved


def test_the_freshbooks_recipes_ids_are_their_own():
    others = {jsonio.loads(p.read_bytes())["id"]
              for modes in (QUICKBOOKS_MODES, XERO_MODES) for folder in modes.values() for p in folder.glob("*.json")}
    assert len(RECIPES) == 10 and len(MODES) == 2 and not others & {p.stem for p in RECIPES}


@pytest.mark.parametrize("path", RECIPES, ids=[p.stem for p in RECIPES])
def test_the_triggers_enriched_sample_gives_requests_freshbooks_accepts(run_cli, tmp_path, samples, path):
    event = post_payment_credit_note(samples) if path.stem == CREDIT_NOTE else None
    report = dry_run(run_cli, path, tmp_path, event)
    assert report["matched"] is True
    ran = [step for step in report["steps"] if step["status"] == "would_run"]
    assert ran and all(step["status"] in ("would_run", "skipped") for step in report["steps"])
    for step in ran:
        held_to_the_spec(step)


def test_a_credit_note_that_refunds_or_came_before_payment_is_left_to_the_refund_and_the_invoice(run_cli, tmp_path,
                                                                                               samples):
    refunded = post_payment_credit_note(samples)
    refunded["data"]["object"]["refund"] = "re_1NnmX5GPxmnHQRkJzG1txqB9"
    for event in (samples["stripe.credit_note.created"], refunded):  # the sample is pre_payment
        assert dry_run(run_cli, recipe(CREDIT_NOTE), tmp_path, event)["matched"] is False


@pytest.mark.parametrize("amount", [250000, -100])
def test_mode_2_a_payout_is_income_less_expenses_of_its_amount(run_cli, tmp_path, samples, amount):
    event = payout_event(samples, amount)
    steps = {step["id"]: step for step in dry_run(run_cli, recipe(SUMMARY), tmp_path, event)["steps"]}
    summary = event["summary"]
    cents = lambda minor: Decimal(minor).scaleb(-2)  # noqa: E731
    ran = {name: Decimal(step["input"]["amount"]) for name, step in steps.items() if step["status"] == "would_run"}
    gross = "income" if summary["amount"] > 0 else "returned"
    assert ran == {gross: abs(cents(summary["amount"])), "fees": cents(3610 + 361 + 30 + 1500 + 59)}
    signed = ran.get("income", Decimal(0)) - ran.get("returned", Decimal(0)) - ran["fees"]
    assert signed == cents(amount)  # what the payout paid, to the cent


def test_both_modes_book_a_payouts_fees_as_one_expense_and_a_fee_credit_as_other_income(run_cli, tmp_path, samples):
    event = payout_event(samples, 250000)
    credited = copy.deepcopy(event["balance_transactions"][:1])
    credited[0].update(fee=-500, net=credited[0]["amount"] + 500,
                       fee_details=[{"amount": -500, "currency": "usd", "type": "stripe_fee",
                                     "description": "Fee credit", "application": None}])
    event["balance_transactions"] = credited
    event["summary"] = enrich.summarize(credited, "usd")
    event["data"]["object"]["amount"] = event["summary"]["net"]
    for ident in (FEES, SUMMARY):
        steps = {s["id"]: s for s in dry_run(run_cli, recipe(ident), tmp_path, event)["steps"]}
        assert steps["fees"]["status"] == "skipped"
        returned = steps["fees_returned"]["input"]
        assert (returned["amount"], returned["category_name"]) == (Decimal("5.00"), "other")


@pytest.mark.parametrize("ident", [FAILED, FAILED_SUMMARY])
def test_a_payout_that_failed_after_it_was_paid_books_its_return_in_mode_2_only(run_cli, tmp_path, samples, ident):
    """Its fees (and in mode 2 its income) were booked when it was paid. Mode 1 books nothing
    again (a later payout's payout_failure line carries no fee, and mode 1 books no payout
    income); mode 2 books its amount back out (an expense; a negative payout's: other
    income), since the later payout books that line as income once more. One that failed
    before reads what it was to pay out from Stripe and books its fees."""
    for amount, step in ((110000, "returned"), (-2500, "returned_back")):
        report = dry_run(run_cli, recipe(ident), tmp_path, failed_after_paid(samples, amount))
        if ident == FAILED:
            assert report["matched"] is False
            continue
        ran = {s["id"]: s for s in report["steps"] if s["status"] == "would_run"}
        assert list(ran) == [step] and Decimal(ran[step]["input"]["amount"]) == Decimal(abs(amount)).scaleb(-2)
        held_to_the_spec(ran[step])
    before = dry_run(run_cli, recipe(ident), tmp_path)
    assert before["steps"][0]["request"]["url"].startswith("https://api.stripe.com/v1/balance_transactions?payout=")
    assert [s["id"] for s in before["steps"] if s["status"] == "would_run"][-1] == "fees"


# --- against the FreshBooks sandbox --------------------------------------------------------

#: a currency's Stripe exponent, and a sale, its fee and a refund (minor units) FreshBooks keeps exactly
CURRENCIES = {"usd": (2, 123456, 3610, 20000), "eur": (2, 98765, 2895, 1500),
              "jpy": (0, 12345, 370, 2000), "kwd": (3, 12340, 310, 2000)}


def settled_invoice(samples: dict[str, Any], currency: str, amount: int, fee: int) -> dict[str, Any]:
    """invoice.paid for ``amount`` (minor units of ``currency``), settled in that currency."""
    event = copy.deepcopy(samples["stripe.invoice.paid"])
    event["data"]["object"].update(currency=currency, amount_paid=amount, customer="cus_Books1",
                                   customer_name="Ridgeway University")
    event["balance_transaction"].update(currency=currency, amount=amount, fee=fee, net=amount - fee,
                                        exchange_rate=None, reporting_category="charge", fee_details=[{
                                            "amount": fee, "currency": currency, "type": "stripe_fee",
                                            "description": "Stripe processing fees", "application": None}])
    return event


def refunded_charge(samples: dict[str, Any], currency: str, amount: int) -> dict[str, Any]:
    """charge.refunded of ``amount`` (minor units) of the invoice's customer, no fee returned."""
    event = copy.deepcopy(samples["stripe.charge.refunded"])
    event["data"]["object"].update(currency=currency, customer="cus_Books1")
    event["balance_transaction"].update(currency=currency, amount=-amount, fee=0, net=-amount, fee_details=[],
                                        exchange_rate=None, reporting_category="refund", type="refund")
    return event


def paid_out(samples: dict[str, Any], currency: str, *events: dict[str, Any]) -> dict[str, Any]:
    """payout.paid of what ``events``' balance transactions left in the Stripe balance."""
    listed = [copy.deepcopy(event["balance_transaction"]) for event in events]
    payout = copy.deepcopy(samples["stripe.payout.paid"])
    payout["balance_transactions"] = listed
    payout["summary"] = enrich.summarize(listed, currency)
    payout["data"]["object"].update(currency=currency, amount=payout["summary"]["net"])
    return payout


@pytest.mark.parametrize("currency", list(CURRENCIES))
def test_a_sale_its_refund_and_its_payout_tie_out_to_the_minor_unit_in_both_modes(samples, tmp_path, currency):
    """The same Stripe day booked by each mode into a business of that currency: profit and
    loss as Stripe's figures say, and its net profit is what the payout paid."""
    exponent, amount, fee, refund = CURRENCIES[currency]
    unit = Decimal(1).scaleb(-exponent)
    sale, returned = settled_invoice(samples, currency, amount, fee), refunded_charge(samples, currency, refund)
    payout = paid_out(samples, currency, sale, returned)
    with served(currency=currency.upper(), rate_limit=False) as (loop, _clock):
        links = LinkTable()
        done = book(loop, INVOICE, sale, tmp_path, links)
        assert [step.status for step in done] == ["succeeded"] * 4
        assert Decimal(done[1].output["amount"]) == amount * unit  # FreshBooks' own total
        book(loop, REFUND, returned, tmp_path, links)
        book(loop, FEES, payout, tmp_path, links)
        books = profit_and_loss(loop)
        assert (books.sales, books.other_income) == ((amount - refund) * unit, 0)
        assert books.expenses == {"Merchant Fees": fee * unit}
        assert books.net_profit == Decimal(payout["data"]["object"]["amount"]) * unit
    with served(currency=currency.upper(), rate_limit=False) as (loop, _clock):
        done = book(loop, SUMMARY, payout, tmp_path, LinkTable())
        assert [step.status for step in done] == ["succeeded", "skipped", "succeeded", "skipped"]
        books = profit_and_loss(loop)
        assert (books.sales, books.other_income) == (0, (amount - refund) * unit)
        assert books.expenses == {"Merchant Fees": fee * unit}
        assert books.net_profit == Decimal(payout["data"]["object"]["amount"]) * unit


def test_a_kwd_amount_with_a_third_decimal_is_refused_before_any_request(samples, tmp_path):
    """12.345 KWD: FreshBooks would round it to 12.35 (two decimal places), so the recipe's
    step fails naming why, and nothing reaches FreshBooks."""
    sent: list[Request] = []
    with served(currency="KWD", rate_limit=False) as (loop, _clock):
        links = LinkTable()
        book(loop, INVOICE, settled_invoice(samples, "kwd", 12340, 310), tmp_path, links)
        before = counts(loop)
        odd = settled_invoice(samples, "kwd", 12345, 0)
        odd["data"]["object"]["id"] = odd["id"] = "in_kwd_third_decimal"
        with pytest.raises(InputError, match="third decimal"):
            book(loop, INVOICE, odd, tmp_path, links, on_request=sent.append)
        assert [r.method for r in sent] == ["GET"]  # the client read back, no write
        assert counts(loop) == before


def test_a_credit_note_credited_to_the_balance_is_taken_off_sales(samples, tmp_path):
    with served(currency="EUR", rate_limit=False) as (loop, _clock):
        links = LinkTable()
        book(loop, INVOICE, settled_invoice(samples, "eur", 98765, 0), tmp_path, links)
        event = post_payment_credit_note(samples)
        event["data"]["object"]["customer"] = "cus_Books1"
        done = book(loop, CREDIT_NOTE, event, tmp_path, links)
        assert done[0].output["found_by"] != "created"  # the invoice's client, not a second one
        assert profit_and_loss(loop).sales == Decimal("987.65") - Decimal("16.90")


def test_mode_1_a_sale_without_an_invoice_disputed_then_won_nets_to_the_sale(samples, tmp_path):
    """A charge (other income), its dispute's withdrawal (an expense) and its reinstatement
    (other income): disputes lost, the expense less the income, is 0."""
    charge = samples["stripe.charge.succeeded"]  # 1.00 USD
    withdrawn = samples["stripe.charge.dispute.funds_withdrawn"]  # 1.00 USD taken
    reinstated = samples["stripe.charge.dispute.funds_reinstated"]  # and returned
    with served(currency="USD", rate_limit=False, categories=CATEGORIES) as (loop, _clock):
        links = LinkTable()
        for ident, event in ((CHARGE, charge), (WITHDRAWN, withdrawn)):
            book(loop, ident, event, tmp_path, links)
        taken = profit_and_loss(loop)
        assert (taken.other_income, taken.expenses) == (Decimal("1.00"), {"Chargebacks": Decimal("1.00")})
        book(loop, REINSTATED, reinstated, tmp_path, links)
        books = profit_and_loss(loop)
        assert (books.other_income, books.expenses, books.net_profit) == (
            Decimal("2.00"), {"Chargebacks": Decimal("1.00")}, Decimal("1.00"))


def test_a_dispute_is_booked_under_chargebacks_and_a_business_without_it_is_told_which_it_has(samples, tmp_path):
    """Disputes stand apart from Stripe's fees: the recipe names the Chargebacks subcategory;
    in a business that has not made it the run fails before any write, listing the categories
    the business has, and nothing is booked under another."""
    with served(currency="USD", rate_limit=False) as (loop, _clock):
        with pytest.raises(InputError, match=r"Chargebacks.*Merchant Fees") as refused:
            book(loop, WITHDRAWN, samples["stripe.charge.dispute.funds_withdrawn"], tmp_path, LinkTable())
        assert "Bank Fees" in str(refused.value)
        assert counts(loop)["expenses/expenses"] == 0


#: each FreshBooks create action, an input in KWD of a third decimal, and the field it is in
KWD_INPUTS = {
    "freshbooks.create_expense": ({"source_id": "po_kwd", "amount": "12.345", "currency_code": "KWD",
                                   "date": "2026-11-30", "categoryid": "1"}, "/amount"),
    "freshbooks.create_other_income": ({"source_id": "ch_kwd", "amount": "12.345", "currency_code": "KWD",
                                        "date": "2026-11-30", "category_name": "online_sales"}, "/amount"),
    "freshbooks.create_payment": ({"source_id": "ch_kwd", "invoiceid": "1", "amount": "12.345",
                                   "currency_code": "KWD", "date": "2026-11-30", "type": "Credit Card"}, "/amount"),
    "freshbooks.create_invoice": ({"source_id": "in_kwd", "customerid": "1", "create_date": "2026-11-30",
                                   "currency_code": "KWD", "lines": [{"name": "Plan", "unit_cost": "12.345"}]},
                                  "/lines/0/unit_cost"),
    "freshbooks.create_credit_note": ({"source_id": "cn_kwd", "clientid": "1", "create_date": "2026-11-30",
                                       "currency_code": "KWD", "lines": [{"name": "Credit", "unit_cost": "12.345"}]},
                                      "/lines/0/unit_cost"),
}


@pytest.mark.parametrize("name", sorted(KWD_INPUTS))
def test_every_freshbooks_write_refuses_an_amount_it_would_round_naming_the_field_and_the_fix(name):
    """FreshBooks keeps two decimals: 12.345 KWD is refused before any request, the message
    naming the field, the amount, FreshBooks' rule and what to do; never rounded."""
    from ledgerlink.connectors.manager import load_catalog
    from ledgerlink.contract import ActionContext, Connection

    data, field = KWD_INPUTS[name]
    ctx = ActionContext(connection=Connection("freshbooks", "freshbooks", {"account_id": "6BApk",
                                                                           "api_base": "http://127.0.0.1:9"}),
                        idempotency_key=f"{name}-kwd")
    steps = load_catalog().actions[name].perform(copy.deepcopy(data), ctx)
    with pytest.raises(InputError) as refused:
        next(steps)  # the first request would be its first yield: none is made
    message = str(refused.value)
    assert f"{field}: " in message and "12.345 KWD has a third decimal" in message, message
    assert "two decimal places and would round it" in message and '"$as": "round"' in message, message
    data, _ = KWD_INPUTS[name]
    fine = json.loads(json.dumps(data).replace("12.345", "12.340"))  # a third decimal of 0 is two
    first = load_catalog().actions[name].perform(fine, ctx)
    assert next(first).method in ("GET", "POST")  # built: a lookup or the write itself


@pytest.mark.parametrize("currency, total, shown", [("eur", 1690, "16.90"), ("jpy", 1500, "1500.00"),
                                                    ("kwd", 12340, "12.340")])
def test_a_credit_note_in_another_currency_than_the_business_s_is_kept_in_its_own(samples, tmp_path, currency,
                                                                                   total, shown):
    """The credit-note recipe in a business keeping its books in USD: FreshBooks takes a credit
    note in the customer's currency (its currency_code) and keeps it in that currency, to the
    minor unit; its profit and loss, in the business's currency, leaves it out, as FreshBooks
    reports other currencies apart. A KWD total with a third decimal is refused, naming it."""
    event = post_payment_credit_note(samples)
    event["data"]["object"].update(currency=currency, total=total, customer="cus_Books1")
    with served(currency="USD", rate_limit=False) as (loop, _clock):
        done = book(loop, CREDIT_NOTE, event, tmp_path, LinkTable())
        assert [step.status for step in done] == ["succeeded", "succeeded"]
        [kept] = documents(loop, "credit_notes/credit_notes")
        assert (Decimal(kept["amount"]["amount"]), kept["amount"]["code"], kept["currency_code"]) == (
            Decimal(shown), currency.upper(), currency.upper())
        assert profit_and_loss(loop).sales == 0
        if currency == "kwd":
            odd = copy.deepcopy(event)
            odd["data"]["object"].update(id="cn_kwd_third_decimal", total=12345)
            odd["id"] = "evt_kwd_third_decimal"
            with pytest.raises(InputError, match=r"/lines/0/unit_cost: .*12\.345 KWD has a third decimal"):
                book(loop, CREDIT_NOTE, odd, tmp_path, LinkTable())
            assert len(documents(loop, "credit_notes/credit_notes")) == 1


def test_mode_2_a_payout_returned_after_it_was_paid_and_paid_again_ties_out(samples, tmp_path):
    """Payout 1 is paid (its income and fees booked), then returned by the bank; Stripe pays
    its money out again in payout 2 as a payout_failure line beside payout 2's own sale. The
    books: net profit is what reached the bank and stayed (payout 2), and what was earned
    (payout 1's sale and payout 2's, less their fees): nothing counted twice."""
    sale_1, sale_2 = settled_invoice(samples, "usd", 100000, 2930), settled_invoice(samples, "usd", 50000, 1480)
    sale_2["balance_transaction"]["id"] = "txn_sale_2"
    first = paid_out(samples, "usd", sale_1)
    first["data"]["object"]["id"] = "po_first"
    amount_1 = first["data"]["object"]["amount"]
    returned = failed_after_paid(samples, amount_1)
    returned["data"]["object"]["id"] = returned["data"]["object"]["id"] = "po_first"
    failure_line = {**copy.deepcopy(sale_1["balance_transaction"]), "id": "txn_payout_failure", "type": "payout_failure",
                    "reporting_category": "payout_reversal", "amount": amount_1, "fee": 0, "net": amount_1,
                    "fee_details": [], "source": "po_first"}
    second = paid_out(samples, "usd", sale_2)
    second["balance_transactions"].append(failure_line)
    second["summary"] = enrich.summarize(second["balance_transactions"], "usd")
    second["data"]["object"].update(id="po_second", amount=second["summary"]["net"])
    with served(currency="USD", rate_limit=False, categories=CATEGORIES) as (loop, _clock):
        links = LinkTable()
        book(loop, SUMMARY, first, tmp_path, links)
        done = book(loop, FAILED_SUMMARY, returned, tmp_path, links)
        assert [step.id for step in done if step.status == "succeeded"] == ["returned"]
        book(loop, SUMMARY, second, tmp_path, links)
        books = profit_and_loss(loop)
        reached_the_bank = Decimal(second["data"]["object"]["amount"]).scaleb(-2)  # payout 1 came back
        assert books.net_profit == reached_the_bank == Decimal(100000 - 2930 + 50000 - 1480).scaleb(-2)
        assert books.expenses == {"Merchant Fees": Decimal("44.10"), "Returned Payouts": Decimal(amount_1).scaleb(-2)}
