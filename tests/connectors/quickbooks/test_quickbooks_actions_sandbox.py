"""The QuickBooks sales, payment and deposit actions against the loopback sandbox, and the
recipes that use them (dry-run, and run for real against the sandbox).

Requests go out as the host sends them (``ledgerlink.testing.HttpSender``: ``outbound.build``
sent with httpx) to the QuickBooks sandbox of the ``qbo`` fixture.
"""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

import httpx
import pytest

from runtime_fixtures import RECIPES
from ledgerlink import jsonio
from ledgerlink.contract import ActionContext, Connection, IncomingEvent, Request
from ledgerlink.config import Config
from ledgerlink.errors import InputError, VendorError
from ledgerlink.recipes.recipe import load_recipe
from ledgerlink.engine.runner import document, run as run_recipe
from ledgerlink.testing import HttpSender, drive
from ledgerlink_quickbooks import ACTIONS
from ledgerlink_sandboxes.quickbooks import DEFAULT_REALM, xsd
from qbo_company import trading_in
from stripe_events import credit_note_created_event, invoice_paid_event, to_body

REALM = DEFAULT_REALM
AUTH = {"Authorization": "Bearer sandbox-access-token"}

#: the actions that create one transaction, driven through the sandbox: the entity each stores
ENTITY = {"quickbooks.create_invoice": "Invoice", "quickbooks.create_payment": "Payment",
          "quickbooks.create_credit_memo": "CreditMemo",
          "quickbooks.create_refund_receipt": "RefundReceipt", "quickbooks.create_deposit": "Deposit"}
NEW = [action for action in ACTIONS if action.name in ENTITY]
IDS = [a.name.split(".")[1] for a in NEW]
INVOICE, PAYMENT, CREDIT_MEMO, REFUND_RECEIPT, DEPOSIT = NEW

NEW_RECIPES = {
    "invoice": RECIPES / "stripe-invoice-paid-to-quickbooks-invoice-and-payment.json",
    "credit_note": RECIPES / "stripe-credit-note-to-quickbooks-credit-memo.json",
    "refund": RECIPES / "stripe-charge-refunded-to-quickbooks-refund-receipt.json",
    "payout": RECIPES / "stripe-payout-paid-to-quickbooks-deposit.json",
}


def context(qbo, key: str = "", **settings: Any) -> ActionContext:
    return ActionContext(connection=Connection("qbo", "quickbooks",
                                               {"base_url": qbo.url, "realm_id": REALM, **settings}),
                         idempotency_key=key)


def fits_xsd(request: Request) -> None:
    """What goes on the wire is a valid QBO body."""
    if request.method == "POST":
        assert xsd.check(_entity_of(request.url), request.json) == []


def drive_sent(steps) -> tuple[Any, list[httpx.Response]]:
    """Run an action generator (perform or find_existing) against the sandbox over HTTP:
    its output and every HTTP exchange."""
    with httpx.Client(timeout=10) as http:
        sender = HttpSender(http, AUTH, check=fits_xsd)
        return drive(steps, sender).value, sender.sent


def live(steps) -> Any:
    """The output of an action generator run against the sandbox over HTTP."""
    return drive_sent(steps)[0]


_ENDPOINTS = {"invoice": "Invoice", "payment": "Payment", "creditmemo": "CreditMemo",
              "refundreceipt": "RefundReceipt", "deposit": "Deposit"}


def _entity_of(url: str) -> str:
    return _ENDPOINTS[url.rsplit("/", 1)[1]]


def create(qbo, action, data, key, **settings):
    return drive_sent(action.perform(data, context(qbo, key, **settings)))


def stored(sandbox, action) -> list[dict]:
    return sandbox.entities(REALM, ENTITY[action.name].lower())


def item_lines(entity: dict) -> list[dict]:
    return [line for line in entity["Line"] if line.get("DetailType") != "SubTotalLineDetail"]


# --- each action creates its entity, amounts exactly as given ---------------------------------

@pytest.mark.parametrize("action", NEW, ids=IDS)
def test_each_action_creates_its_entity_from_its_sample(qbo, sandbox, action):
    data = action.sample
    if action is PAYMENT:  # the sample pays invoice 130; pay one that exists
        invoice, _ = create(qbo, INVOICE, INVOICE.sample, "sample-invoice")
        data = {**data, "InvoiceId": invoice["id"]}
    output, sent = create(qbo, action, data, f"sample-{action.name}")
    assert [r.status_code for r in sent] == [200]
    [entity] = [e for e in stored(sandbox, action)]
    assert output["id"] == entity["Id"] and output["sync_token"] == "0"
    assert output["total"] == entity["TotalAmt"] and output["currency"] == "USD"
    assert xsd.check(ENTITY[action.name], entity) == []
    # every amount stored is the amount sent, digit for digit
    body = jsonio.loads(sent[0].request.content)
    assert [str(line["Amount"]) for line in item_lines(entity)] == \
        [str(line["Amount"]) for line in body["Line"]]
    if action is not PAYMENT and "Total" in data:
        assert entity["TotalAmt"] == Decimal(data["Total"])
    logged = sandbox.requests()[-1]
    assert (logged["minorversion"], logged["requestid"], logged["status"]) == \
        ("75", f"sample-{action.name}", 200)


@pytest.mark.parametrize("code, home, rate, amounts, total", [
    ("USD", "USD", None, ["1234.56", "0.01"], "1234.57"),
    ("EUR", "USD", "1.0825", ["0.10", "0.20"], "0.30"),
    ("JPY", "USD", "0.0067", ["123456", "1"], "123457"),
    ("KWD", "USD", "3.2531", ["123.450", "0.005"], "123.455"),
    ("EUR", "EUR", None, ["99.90", "0.10"], "100.00"),
], ids=["usd", "eur", "jpy", "kwd", "eur-home"])
def test_invoice_amounts_are_stored_exactly(qbo, sandbox, code, home, rate, amounts, total):
    data = {"CustomerRef": "2", "CurrencyRef": code, "Total": total,
            "Lines": [{"ItemRef": "1", "Amount": amount, "Qty": 1} for amount in amounts]}
    if rate:
        data["ExchangeRate"] = rate
    trading_in(qbo.url, code, home=home)  # customer 2 trades in ``code``
    output, _ = create(qbo, INVOICE, data, f"fx-{code}-{home}", home_currency=home)
    [invoice] = stored(sandbox, INVOICE)
    assert [str(line["Amount"]) for line in invoice["Line"]] == amounts
    assert [str(line["SalesItemLineDetail"]["UnitPrice"]) for line in invoice["Line"]] == amounts
    assert str(invoice["TotalAmt"]) == total and str(output["total"]) == total
    assert invoice["CurrencyRef"]["value"] == code
    if rate:
        assert str(invoice["ExchangeRate"]) == rate
    else:
        assert "ExchangeRate" not in invoice


def test_a_payment_is_linked_to_the_invoice_created_first(qbo, sandbox):
    invoice, _ = create(qbo, INVOICE, {"CustomerRef": "1", "Total": "125.00",
                                       "Lines": [{"ItemRef": "1", "Qty": 5, "UnitPrice": "25.00"}]},
                        "inv-1")
    paid, sent = create(qbo, PAYMENT, {"CustomerRef": "1", "TotalAmt": "125.00",
                                       "InvoiceId": invoice["id"], "DepositToAccountRef": "4",
                                       "TxnDate": "2024-03-16", "PaymentRefNum": "INV-1"}, "pay-1")
    [stored_payment] = stored(sandbox, PAYMENT)
    [line] = stored_payment["Line"]
    assert (line["Amount"], line["LinkedTxn"]) == \
        (Decimal("125.00"), [{"TxnId": invoice["id"], "TxnType": "Invoice"}])
    assert stored_payment["TotalAmt"] == Decimal("125.00") and stored_payment["UnappliedAmt"] == 0
    assert stored_payment["DepositToAccountRef"] == {"value": "4", "name": "Undeposited Funds"}
    assert paid == {"id": stored_payment["Id"], "sync_token": "0", "txn_date": "2024-03-16",
                    "total": Decimal("125.00"), "currency": "USD"}
    # the linked invoice exists (the sandbox does not itself check LinkedTxn ids, so the test does)
    with httpx.Client(timeout=5) as http:
        resp = http.get(f"{qbo.url}/v3/company/{REALM}/invoice/{invoice['id']}",
                        params={"minorversion": "75"}, headers=AUTH)
    assert resp.status_code == 200
    assert jsonio.loads(resp.content)["Invoice"]["TotalAmt"] == Decimal("125.00")


@pytest.mark.parametrize("action", NEW, ids=IDS)
def test_the_same_requestid_creates_nothing_twice(qbo, sandbox, action):
    data = {**action.sample, "InvoiceId": "1"} if action is PAYMENT else action.sample
    first, sent1 = create(qbo, action, data, "same-key")
    second, sent2 = create(qbo, action, data, "same-key")
    assert first == second
    assert sent2[0].content == sent1[0].content  # byte for byte
    assert len(stored(sandbox, action)) == 1
    stats = sandbox.stats()
    assert stats["created"][REALM] == {ENTITY[action.name].lower(): 1}
    assert stats["replayed"] == 1


@pytest.mark.parametrize("action", NEW, ids=IDS)
def test_find_existing_finds_what_perform_created_in_the_sandbox(qbo, sandbox, action):
    data = {**action.sample, "InvoiceId": "1"} if action is PAYMENT else action.sample
    assert live(action.find_existing(data, context(qbo))) is None
    created, _ = create(qbo, action, data, "lost-answer")
    # another one the same day, from another event
    other = {**data, "PrivateNote": "another event"}
    other.pop("DocNumber", None)
    create(qbo, action, other, "other-event")
    assert len(stored(sandbox, action)) == 2
    found = live(action.find_existing(data, context(qbo)))
    assert found == created
    assert sandbox.stats()["created"][REALM] == {ENTITY[action.name].lower(): 2}  # read only


def test_a_refund_receipt_and_a_credit_memo_without_optional_fields(qbo, sandbox):
    out, _ = create(qbo, REFUND_RECEIPT, {"DepositToAccountRef": "35",
                                          "Lines": [{"ItemRef": "2", "Amount": "7.50"}]}, "rr")
    [receipt] = stored(sandbox, REFUND_RECEIPT)
    assert "CustomerRef" not in receipt and receipt["TotalAmt"] == Decimal("7.50")
    assert out["doc_number"] == receipt["DocNumber"]  # numbered by QuickBooks
    out, _ = create(qbo, CREDIT_MEMO, {"CustomerRef": "3", "Lines": [{"ItemRef": "1", "Amount": "3"}],
                                       "Discount": {"Amount": ["0.50", "0.25"], "DiscountAccountRef": "90"}},
                    "cm")
    [memo] = stored(sandbox, CREDIT_MEMO)
    assert memo["TotalAmt"] == Decimal("2.25") and memo["RemainingCredit"] == Decimal("2.25")
    assert memo["Line"][1]["DiscountLineDetail"]["DiscountAccountRef"]["name"] == "Sales Returns"


def test_a_deposit_with_a_fee_line_adds_up_exactly(qbo, sandbox):
    out, _ = create(qbo, DEPOSIT, {"DepositToAccountRef": "35", "Total": "97.10", "TxnDate": "2024-03-25",
                                   "Lines": [{"Amount": "100.00", "AccountRef": "4",
                                              "Entity": {"Type": "Customer", "EntityRef": "1"}},
                                             {"Amount": "-2.90", "AccountRef": "62"}]}, "dep")
    [made] = stored(sandbox, DEPOSIT)
    assert made["TotalAmt"] == Decimal("97.10") == out["total"]
    assert made["Line"][0]["DepositLineDetail"]["Entity"] == {"value": "1", "type": "CUSTOMER",
                                                             "name": "Amy's Bird Sanctuary"}


def test_a_sandbox_refusal_is_a_permanent_vendor_error(qbo, sandbox):
    with pytest.raises(VendorError) as info:
        create(qbo, INVOICE, {"CustomerRef": "1", "Lines": [{"ItemRef": "999", "Amount": "1"}]}, "bad-item")
    assert info.value.kind == "permanent" and "code 2500" in str(info.value)
    assert stored(sandbox, INVOICE) == []


def test_refusals_happen_before_anything_is_sent(qbo, sandbox):
    with pytest.raises(InputError):
        create(qbo, INVOICE, {"CustomerRef": "1", "CurrencyRef": "EUR",
                              "Lines": [{"ItemRef": "1", "Amount": "10.00"}]}, "eur-no-rate")
    with pytest.raises(InputError):
        create(qbo, INVOICE, {"CustomerRef": "1", "Lines": [{"ItemRef": "1", "Amount": 10.0}]}, "float")
    with pytest.raises(InputError):
        create(qbo, INVOICE, {"CustomerRef": "1", "Lines": [
            {"ItemRef": "1", "Amount": "10.00", "Qty": 3, "UnitPrice": "3.33"}]}, "mismatch")
    assert sandbox.requests() == []


# --- the recipes ----------------------------------------------------------------------------------

def test_the_new_recipes_exist_and_are_described():
    for path in NEW_RECIPES.values():
        recipe = json.loads(path.read_text())
        assert path.stem == recipe["id"]
        assert len(recipe["description"].split()) >= 12


def dry_run(run_cli, path, *extra):
    code, out, err = run_cli("dry-run", str(path), *extra)
    assert code == 0, err
    return jsonio.loads(out)


@pytest.mark.parametrize("name", NEW_RECIPES, ids=list(NEW_RECIPES))
def test_each_new_recipe_dry_runs_to_valid_qbo_bodies(run_cli, name):
    report = dry_run(run_cli, NEW_RECIPES[name])
    assert report["matched"] is True and report["sent"] is False
    for step in report["steps"]:
        assert step["status"] == "would_run"
        request = step["request"]
        entity = _entity_of(request["url"].split("?", 1)[0])
        assert "?minorversion=75&requestid=" in request["url"]
        assert xsd.check(entity, request["body"]) == []


def test_invoice_recipe_dry_run_maps_lines_and_links_the_payment(run_cli):
    report = dry_run(run_cli, NEW_RECIPES["invoice"])
    invoice, paid = report["steps"]
    assert (invoice["id"], paid["id"]) == ("invoice", "payment")
    body = invoice["request"]["body"]
    assert body["CustomerRef"] == {"value": "1", "name": "Amy's Bird Sanctuary"}
    assert body["Line"] == [{
        "Description": "My First Invoice Item (created for API docs)", "Amount": Decimal("10.00"),
        "DetailType": "SalesItemLineDetail",
        "SalesItemLineDetail": {"ItemRef": {"value": "1", "name": "Services"},
                                "UnitPrice": Decimal("10.00"), "Qty": 1, "TaxCodeRef": {"value": "NON"}}}]
    assert invoice["input"]["Total"] == Decimal("10.00")
    pay = paid["request"]["body"]
    # linked to the invoice step's output (the sample answer's Id in a dry-run)
    assert pay["Line"] == [{"Amount": Decimal("10.00"),
                            "LinkedTxn": [{"TxnId": invoice["sample_output"]["id"], "TxnType": "Invoice"}]}]
    assert pay["TotalAmt"] == Decimal("10.00") and pay["TxnDate"] == "2023-11-14"
    assert pay["DepositToAccountRef"]["value"] == "4"


def for_currency(tmp_path, name: str, currency: str):
    """A copy of a new recipe, enabled (the examples ship disabled: they are alternatives to the
    journal-entry recipes), and a config whose QuickBooks company has ``currency`` as its home
    currency: what a company keeping its books in it uses."""
    data = json.loads(NEW_RECIPES[name].read_text())
    data["enabled"] = True
    recipe = tmp_path / NEW_RECIPES[name].name
    recipe.write_text(json.dumps(data))
    config = tmp_path / "ledgerlink.toml"
    config.write_text(f'[connections.quickbooks]\nconnector = "quickbooks"\nrealm_id = "{REALM}"\n'
                      f'home_currency = "{currency.upper()}"\n')
    return recipe, config


def event_file(tmp_path, event) -> str:
    path = tmp_path / "event.json"
    path.write_bytes(to_body(event))
    return str(path)


@pytest.mark.parametrize("shape", ["2023-08-16", "latest"])
@pytest.mark.parametrize("currency, minor, lines, exact", [
    ("usd", 123456, [123000, 456], ["1230.00", "4.56"]),
    ("jpy", 123456, [123456], ["123456"]),
    ("kwd", 123450, [100000, 23450], ["100.000", "23.450"]),
])
def test_invoice_recipe_is_exact_in_every_currency_and_shape(run_cli, tmp_path, shape, currency,
                                                            minor, lines, exact):
    event = invoice_paid_event(currency, minor, shape=shape, line_amounts=lines)
    event["data"]["object"]["customer"] = "cus_Oaxlz8kB0PJWGa"
    recipe, config = for_currency(tmp_path, "invoice", currency)
    report = dry_run(run_cli, recipe, "--event", event_file(tmp_path, event), "--config", str(config))
    body = report["steps"][0]["request"]["body"]
    assert [str(line["Amount"]) for line in body["Line"]] == exact
    assert body["CurrencyRef"] == {"value": currency.upper()}
    pay = report["steps"][1]["request"]["body"]
    assert str(pay["TotalAmt"]) == str(sum(Decimal(x) for x in exact))


def test_a_foreign_currency_never_reaches_quickbooks_without_a_rate(run_cli, tmp_path):
    event = invoice_paid_event("eur", 1000)
    event["data"]["object"]["customer"] = "cus_Oaxlz8kB0PJWGa"
    # the shipped recipe, for a USD company: a EUR invoice fails visibly (no ExchangeRate in the
    # event), before anything is sent; it is never booked at a silent 1:1 rate
    code, out, err = run_cli("dry-run", str(NEW_RECIPES["invoice"]), "--event", event_file(tmp_path, event))
    assert code != 0
    assert "CurrencyRef is EUR, not the company's home currency USD" in out + err


def run_live(qbo, path, event: dict, catalog, **settings: Any) -> list:
    """Run a recipe's steps for real against the sandbox, as a worker would (the trigger
    filter is the worker's business and is not applied here); ``settings`` are more
    connection settings, e.g. ``home_currency``."""
    recipe = load_recipe(path, catalog, Config())
    incoming = IncomingEvent(id=event["id"], trigger=recipe.trigger.name, payload=event)

    def connection_for(name):
        return Connection(name, "quickbooks", {"base_url": qbo.url, "realm_id": REALM, **settings})

    with httpx.Client(timeout=10) as http:
        sender = HttpSender(http, AUTH)
        return run_recipe(recipe, incoming, connection_for, lambda step, action, ctx, request: sender(request))


def test_invoice_recipe_runs_against_the_sandbox_and_replays_to_nothing_new(qbo, sandbox, catalog):
    event = invoice_paid_event("usd", 123456, line_amounts=[123000, 456])
    event["data"]["object"]["customer"] = "cus_Oaxlz8kB0PJWGa"
    invoice_step, payment_step = run_live(qbo, NEW_RECIPES["invoice"], event, catalog)
    [invoice] = stored(sandbox, INVOICE)
    [paid] = stored(sandbox, PAYMENT)
    assert invoice_step.output["id"] == invoice["Id"]
    assert [line["Amount"] for line in invoice["Line"]] == [Decimal("1230.00"), Decimal("4.56")]
    assert invoice["TotalAmt"] == Decimal("1234.56") == paid["TotalAmt"]
    assert paid["Line"][0]["LinkedTxn"] == [{"TxnId": invoice["Id"], "TxnType": "Invoice"}]
    assert invoice["PrivateNote"].endswith(event["id"])
    # the same event again (a redelivery, a retry): same requestids, nothing new
    again = run_live(qbo, NEW_RECIPES["invoice"], event, catalog)
    assert [s.output for s in again] == [invoice_step.output, payment_step.output]
    assert sandbox.stats()["created"][REALM] == {"invoice": 1, "payment": 1}
    assert sandbox.stats()["replayed"] == 2


@pytest.mark.parametrize("name, entity, total", [
    ("credit_note", "creditmemo", Decimal("16.90")),
    ("refund", "refundreceipt", Decimal("1.00")),
    ("payout", "deposit", Decimal("11.00")),
])
def test_other_recipes_run_against_the_sandbox_on_their_sample_events(qbo, sandbox, catalog, name,
                                                                      entity, total):
    recipe = load_recipe(NEW_RECIPES[name], catalog, Config())
    event = dict(recipe.trigger.sample)
    [step] = run_live(qbo, NEW_RECIPES[name], event, catalog)
    [made] = sandbox.entities(REALM, entity)
    assert step.output["id"] == made["Id"] and made["TotalAmt"] == total == step.output["total"]


def test_credit_note_recipe_is_exact(qbo, sandbox, catalog):
    event = credit_note_created_event("usd", 1690, line_amounts=[1190, 500])
    event["data"]["object"]["customer"] = "cus_Oaxlz8kB0PJWGa"
    run_live(qbo, NEW_RECIPES["credit_note"], event, catalog)
    [memo] = stored(sandbox, CREDIT_MEMO)
    assert [line["Amount"] for line in memo["Line"]] == [Decimal("11.90"), Decimal("5.00")]
    assert memo["TotalAmt"] == Decimal("16.90")
    assert memo["CustomerRef"] == {"value": "1", "name": "Amy's Bird Sanctuary"}


def test_a_foreign_credit_note_run_anyway_is_refused_not_booked(qbo, sandbox, catalog):
    event = credit_note_created_event("kwd", 5120)
    event["data"]["object"]["customer"] = "cus_Oaxlz8kB0PJWGa"
    recipe = load_recipe(NEW_RECIPES["credit_note"], catalog, Config())
    assert recipe.matches(document(recipe, IncomingEvent(event["id"], recipe.trigger.name, event))) is True
    with pytest.raises(InputError) as info:  # a USD company: refused before anything is sent, never booked 1:1
        run_live(qbo, NEW_RECIPES["credit_note"], event, catalog)
    assert "CurrencyRef is KWD" in str(info.value)
    assert stored(sandbox, CREDIT_MEMO) == [] and sandbox.requests() == []


@pytest.mark.parametrize("name", NEW_RECIPES, ids=list(NEW_RECIPES))
def test_every_id_a_new_recipe_names_exists_in_the_sandbox_company(qbo, sandbox, catalog, name):
    """The ids of the recipes' lookups are the sandbox's seeded ones, as `ledgerlink check` sees them."""
    from ledgerlink.engine.preflight import references
    from ledgerlink_quickbooks import CONNECTOR

    recipe = load_recipe(NEW_RECIPES[name], catalog, Config())
    wanted: dict[str, set[str]] = {}
    for step in recipe.steps:
        template = recipe.raw["steps"][int(step.pointer.split("/")[-1])]["input"]
        schema = step.action.input_schema
        for entity, ident, _ in references(template, schema, schema, recipe.lookups, step.pointer):
            wanted.setdefault(entity, set()).add(ident)
    assert "Account" in wanted
    connection = Connection("quickbooks", "quickbooks", {"base_url": qbo.url, "realm_id": REALM})
    for entity, ids in wanted.items():
        assert live(CONNECTOR.check_references(entity, sorted(ids), connection)) == {}, entity
