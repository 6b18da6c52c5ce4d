"""The four document-style example recipes, exact in USD, EUR, JPY and KWD.

Each recipe (paid invoice → invoice + payment, credit note → credit memo, refund → refund
receipt, payout → deposit) gets a Stripe event in each currency, with minor-unit amounts
chosen so that a float or a wrong exponent would show: Stripe's ``123456`` is 1234.56 USD
but 123456 JPY, and ``123450`` KWD is 123.450. The event is dry-run through the CLI
(``ledgerlink dry-run``), where every amount of every request body is compared as text,
then run for real against the loopback sandbox, where what QuickBooks stored (line
amounts, ``TotalAmt``, ``CurrencyRef``, ``ExchangeRate``) is compared as exact Decimals.

Twice: for a company whose home currency is the event's (no exchange rate; events of both
Stripe API shapes), and for one whose home currency is another, with the recipe given an
explicit ``ExchangeRate`` (a foreign currency without one is refused, see
test_quickbooks_actions_sandbox.py).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import jsonschema
import pytest

import ledgerlink_stripe
from qbo_company import trading_in
from stripe_events import (SHAPES, charge_refunded_event, credit_note_created_event,
                           invoice_paid_event, payout_paid_event)
from test_quickbooks_actions_sandbox import (NEW_RECIPES, REALM, dry_run, event_file, for_currency,
                                             item_lines, run_live)

#: the lookups' customer (Amy's Bird Sanctuary, QuickBooks customer 1)
CUSTOMER = "cus_Oaxlz8kB0PJWGa"

@dataclass(frozen=True)
class Case:
    """One currency: Stripe's minor units per line, and what they are in QuickBooks, as text."""

    currency: str
    minor_lines: tuple[int, ...]
    lines: tuple[str, ...]
    total: str
    #: a home currency other than ``currency``, and the ExchangeRate (home units per unit)
    foreign_home: str
    rate: str

    @property
    def minor(self) -> int:
        return sum(self.minor_lines)

    @property
    def code(self) -> str:
        return self.currency.upper()


CASES = [
    # 0.10 + 0.20 + 1234.26 in binary floats is not 1234.56
    Case("usd", (10, 20, 123426), ("0.10", "0.20", "1234.26"), "1234.56", "EUR", "0.9238"),
    Case("eur", (100000, 5), ("1000.00", "0.05"), "1000.05", "USD", "1.0825"),
    # zero decimals: a two-decimal reading would give 1230.00 + 4.56
    Case("jpy", (123000, 456), ("123000", "456"), "123456", "USD", "0.006712"),
    # three decimals, trailing zero kept: a two-decimal reading would give 1000.00 + 234.45 + 0.05
    Case("kwd", (100000, 23445, 5), ("100.000", "23.445", "0.005"), "123.450", "USD", "3.2531"),
]
CURRENCIES = [case.currency for case in CASES]


def build_event(name: str, case: Case, shape: str = "2023-08-16") -> dict[str, Any]:
    """The Stripe event recipe ``name`` is triggered by, in ``case``'s currency and the API
    ``shape`` ("2023-08-16" or "latest")."""
    if name == "invoice":
        event = invoice_paid_event(case.currency, case.minor, shape,
                                   line_amounts=list(case.minor_lines))
        event["data"]["object"]["customer"] = CUSTOMER
    elif name == "credit_note":
        event = credit_note_created_event(case.currency, case.minor, shape,
                                          line_amounts=list(case.minor_lines))
        event["data"]["object"]["customer"] = CUSTOMER
    elif name == "refund":  # a partial refund: the amount refunded, not the charge's, is booked
        event = charge_refunded_event(case.currency, case.minor, shape, amount=2 * case.minor,
                                      customer=CUSTOMER)
    else:
        event = payout_paid_event(case.currency, case.minor, shape)
    return event


@dataclass(frozen=True)
class Expected:
    step: str
    entity: str
    lines: tuple[str, ...]
    total: str


def expected(name: str, case: Case) -> list[Expected]:
    """What each step of recipe ``name`` sends and QuickBooks stores, amounts as text."""
    if name == "invoice":
        return [Expected("invoice", "Invoice", case.lines, case.total),
                Expected("payment", "Payment", (case.total,), case.total)]
    if name == "credit_note":
        return [Expected("credit_memo", "CreditMemo", case.lines, case.total)]
    if name == "refund":
        return [Expected("refund", "RefundReceipt", (case.total,), case.total)]
    return [Expected("deposit", "Deposit", (case.total,), case.total)]


def with_rate(recipe_path, rate: str) -> None:
    """Give every step of the recipe copy at ``recipe_path`` an explicit ExchangeRate, as a
    company keeping its books in another currency does."""
    data = json.loads(recipe_path.read_text())
    for step in data["steps"]:
        step["input"]["ExchangeRate"] = rate
    recipe_path.write_text(json.dumps(data))


def text(amounts) -> list[str]:
    return [str(amount) for amount in amounts]


def check_dry_run(report: dict[str, Any], name: str, case: Case, rate: str | None) -> None:
    """Every amount of every request body, as the text that would be sent."""
    assert report["matched"] is True and report["sent"] is False
    wanted = expected(name, case)
    assert [step["id"] for step in report["steps"]] == [w.step for w in wanted]
    for step, want in zip(report["steps"], wanted, strict=True):
        assert step["status"] == "would_run"
        body = step["request"]["body"]
        assert text(line["Amount"] for line in body["Line"]) == list(want.lines), want.step
        # read back from the report's JSON: a number text, never a float (JPY's is an integer)
        assert {type(line["Amount"]) for line in body["Line"]} <= {Decimal, int}
        assert body["CurrencyRef"] == {"value": case.code}
        if rate is None:
            assert "ExchangeRate" not in body
        else:
            assert str(body["ExchangeRate"]) == rate
        if want.entity == "Payment":
            assert str(body["TotalAmt"]) == want.total
            assert body["Line"][0]["LinkedTxn"][0]["TxnType"] == "Invoice"
        if want.entity in ("Invoice", "CreditMemo"):
            # Qty 1 from Stripe: UnitPrice is the amount itself, to the last digit
            details = [line["SalesItemLineDetail"] for line in body["Line"]]
            assert text(d["UnitPrice"] for d in details) == list(want.lines)
            assert [d["Qty"] for d in details] == [1] * len(want.lines)
            assert str(step["input"]["Total"]) == want.total  # checked against the lines


def check_stored(sandbox, results, name: str, case: Case, rate: str | None) -> None:
    """What the sandbox company stored, as exact Decimals (value and written digits)."""
    wanted = expected(name, case)
    assert [r.status for r in results] == ["succeeded"] * len(wanted)
    made: dict[str, dict] = {}
    for result, want in zip(results, wanted, strict=True):
        [entity] = sandbox.entities(REALM, want.entity.lower())
        made[want.entity] = entity
        assert result.output["id"] == entity["Id"]
        amounts = [line["Amount"] for line in item_lines(entity)]
        assert amounts == [Decimal(x) for x in want.lines] and text(amounts) == list(want.lines)
        assert entity["TotalAmt"] == Decimal(want.total) and str(entity["TotalAmt"]) == want.total
        assert result.output["total"] == Decimal(want.total)
        assert str(result.output["total"]) == want.total
        assert entity["CurrencyRef"]["value"] == case.code == result.output["currency"]
        if rate is None:
            assert "ExchangeRate" not in entity
        else:
            assert entity["ExchangeRate"] == Decimal(rate) and str(entity["ExchangeRate"]) == rate
    if name == "invoice":
        paid = made["Payment"]
        assert paid["Line"][0]["LinkedTxn"] == [{"TxnId": made["Invoice"]["Id"], "TxnType": "Invoice"}]
        assert paid["UnappliedAmt"] == 0
        assert made["Invoice"]["Balance"] == Decimal(case.total)


@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("case", CASES, ids=CURRENCIES)
@pytest.mark.parametrize("name", NEW_RECIPES, ids=list(NEW_RECIPES))
def test_recipe_is_exact_in_the_company_home_currency(run_cli, qbo, sandbox, catalog, tmp_path,
                                                      name, case, shape):
    event = build_event(name, case, shape)
    recipe, config = for_currency(tmp_path, name, case.currency)
    report = dry_run(run_cli, recipe, "--event", event_file(tmp_path, event), "--config", str(config))
    check_dry_run(report, name, case, rate=None)
    trading_in(qbo.url, case.code)  # a company keeping its books in the event's currency
    results = run_live(qbo, recipe, event, catalog, home_currency=case.code)
    check_stored(sandbox, results, name, case, rate=None)


@pytest.mark.parametrize("case", CASES, ids=CURRENCIES)
@pytest.mark.parametrize("name", NEW_RECIPES, ids=list(NEW_RECIPES))
def test_recipe_is_exact_in_a_foreign_currency_with_an_exchange_rate(run_cli, qbo, sandbox, catalog,
                                                                     tmp_path, name, case):
    event = build_event(name, case)
    recipe, config = for_currency(tmp_path, name, case.foreign_home)
    with_rate(recipe, case.rate)
    report = dry_run(run_cli, recipe, "--event", event_file(tmp_path, event), "--config", str(config))
    check_dry_run(report, name, case, rate=case.rate)
    # a multicurrency company at home in another currency, its customers in the event's
    trading_in(qbo.url, case.code, home=case.foreign_home)
    results = run_live(qbo, recipe, event, catalog, home_currency=case.foreign_home)
    check_stored(sandbox, results, name, case, rate=case.rate)


# --- the events themselves -------------------------------------------------------------------------

EVENT_TYPES = {"invoice": "invoice.paid", "credit_note": "credit_note.created",
               "refund": "charge.refunded", "payout": "payout.paid"}


@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("case", CASES, ids=CURRENCIES)
def test_the_events_are_stripe_events_with_amounts_in_minor_units(shape, case):
    """The built events pass the Stripe triggers' schemas and carry integer minor units."""
    events = {
        "invoice": invoice_paid_event(case.currency, case.minor, shape,
                                      line_amounts=list(case.minor_lines)),
        "credit_note": credit_note_created_event(case.currency, case.minor, shape,
                                                 line_amounts=list(case.minor_lines)),
        "refund": charge_refunded_event(case.currency, case.minor, shape, amount=2 * case.minor),
        "payout": payout_paid_event(case.currency, case.minor, shape),
    }
    for name, event in events.items():
        schema = ledgerlink_stripe.event_schema(EVENT_TYPES[name])
        assert list(jsonschema.Draft202012Validator(schema).iter_errors(event)) == [], name
        assert event["type"] == EVENT_TYPES[name]
        assert event["data"]["object"]["currency"] == case.currency
    charge = events["refund"]["data"]["object"]
    assert (charge["amount"], charge["amount_refunded"], charge["refunded"]) == \
        (2 * case.minor, case.minor, False)
    assert charge_refunded_event(case.currency, case.minor, shape)["data"]["object"]["refunded"] is True
    payout = events["payout"]["data"]["object"]
    assert (payout["amount"], payout["status"]) == (case.minor, "paid")
    assert payout["arrival_date"] % 86400 == 0  # midnight UTC, as Stripe dates arrivals
    with pytest.raises(ValueError):
        charge_refunded_event(case.currency, case.minor, shape, amount=case.minor - 1)
    with pytest.raises(TypeError):
        payout_paid_event(case.currency, Decimal(case.total), shape)


def test_a_deposit_is_dated_the_day_stripe_says_the_payout_arrives(run_cli, tmp_path):
    """Stripe stamps arrival_date at midnight UTC of the arrival day; read in the recipe's
    America/New_York time zone it would be the evening before, a day off the bank feed."""
    import datetime as dt
    import json as json_

    event = payout_paid_event("usd", 1100, "2023-08-16")
    arrival = event["data"]["object"]["arrival_date"]
    path = tmp_path / "payout.json"
    path.write_text(json_.dumps(event))
    code, out, err = run_cli("dry-run", str(NEW_RECIPES["payout"]), "--event", str(path))
    assert code == 0, err
    body = json_.loads(out)["steps"][0]["request"]["body"]
    assert body["TxnDate"] == dt.datetime.fromtimestamp(arrival, tz=dt.timezone.utc).date().isoformat()
