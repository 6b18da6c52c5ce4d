"""Dry-run: the exact request a live run would send, for events of both Stripe API shapes.

An event in a currency is dry-run for a company keeping its books in that currency (connection
setting ``home_currency``), as a company invoicing in yen or dinars does; one in a currency
other than the company's is refused unless the recipe maps an ExchangeRate.
"""

import json
import socket
from decimal import Decimal

import pytest

from runtime_fixtures import RECIPES
from ledgerlink import jsonio
from stripe_events import credit_note_created_event, invoice_paid_event, to_body

INVOICE_RECIPE = RECIPES / "stripe-invoice-paid-to-quickbooks-journal.json"
CREDIT_RECIPE = RECIPES / "stripe-credit-note-to-quickbooks-journal.json"

# (currency, minor units, exact amount QuickBooks must receive)
AMOUNTS = [("usd", 123456, "1234.56"), ("jpy", 123456, "123456"), ("kwd", 123450, "123.450"),
           ("usd", 1, "0.01"), ("kwd", 10, "0.010"), ("jpy", 1, "1")]
SHAPES = ["2023-08-16", "latest"]


@pytest.fixture(autouse=True)
def no_network(monkeypatch):
    """A dry-run opens no socket at all."""
    def refuse(*args, **kwargs):
        raise AssertionError("dry-run tried to open a network connection")
    monkeypatch.setattr(socket, "create_connection", refuse)
    monkeypatch.setattr(socket.socket, "connect", refuse)


def home_config(tmp_path, currency):
    """A config whose QuickBooks company keeps its books in ``currency``."""
    config = tmp_path / "ledgerlink.toml"
    config.write_text(f'[connections.quickbooks]\nconnector = "quickbooks"\nrealm_id = "9130350000000000"\n'
                      f'home_currency = "{currency.upper()}"\n')
    return config


def dry_run(run_cli, recipe, event, tmp_path, home=None):
    """The dry-run report (and its text) of ``recipe`` on ``event``, for a company whose home
    currency is ``home`` (None: the default, USD)."""
    event_file = tmp_path / "event.json"
    event_file.write_bytes(to_body(event))
    config = ["--config", str(home_config(tmp_path, home))] if home else []
    before = sorted(p.name for p in tmp_path.iterdir())
    code, out, err = run_cli("dry-run", str(recipe), "--event", str(event_file), *config)
    assert code == 0, err
    assert sorted(p.name for p in tmp_path.iterdir()) == before, "a dry-run wrote a file"
    return jsonio.loads(out), out


def lines_total(body, posting):
    return sum((line["Amount"] for line in body["Line"]
                if line["JournalEntryLineDetail"]["PostingType"] == posting), Decimal(0))


@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("currency, minor, exact", AMOUNTS)
def test_invoice_paid_exact_and_balanced(run_cli, tmp_path, currency, minor, exact, shape):
    event = invoice_paid_event(currency, minor, shape=shape)
    report, text = dry_run(run_cli, INVOICE_RECIPE, event, tmp_path, home=currency)
    assert report["recipe"] == {"id": "stripe-invoice-paid-to-quickbooks-journal", "version": 2,
                                "file": str(INVOICE_RECIPE)}
    assert report["matched"] is True and report["sent"] is False
    customer, step = report["steps"]
    assert customer["action"] == "quickbooks.find_or_create_customer"
    request = step["request"]
    assert request["method"] == "POST"
    assert "/v3/company/" in request["url"] and "/journalentry?minorversion=75&requestid=" in request["url"]
    body = request["body"]
    amounts = [line["Amount"] for line in body["Line"]]
    assert all(isinstance(a, (int, Decimal)) and not isinstance(a, bool) for a in amounts)
    assert [str(a) for a in amounts] == [exact, exact]
    assert lines_total(body, "Debit") == lines_total(body, "Credit") == Decimal(exact)
    assert body["CurrencyRef"] == {"value": currency.upper()}
    assert "ExchangeRate" not in body  # the company's own currency
    # the JSON text carries the exact digits (123.450, not 123.45)
    assert f'"Amount": {exact}' in text
    assert step["input"]["Lines"][0]["Amount"] == Decimal(exact)


@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("currency, minor, exact", AMOUNTS[:3])
def test_credit_note_reverses_sale(run_cli, tmp_path, currency, minor, exact, shape):
    event = credit_note_created_event(currency, minor, shape=shape)
    report, _ = dry_run(run_cli, CREDIT_RECIPE, event, tmp_path, home=currency)
    body = report["steps"][-1]["request"]["body"]
    debit, credit = body["Line"]
    assert debit["JournalEntryLineDetail"]["PostingType"] == "Debit"
    assert debit["JournalEntryLineDetail"]["AccountRef"]["value"] == "1"  # sales, reversed
    assert credit["JournalEntryLineDetail"]["AccountRef"]["value"] == "84"  # receivable
    assert str(debit["Amount"]) == str(credit["Amount"]) == exact


@pytest.mark.parametrize("recipe", [INVOICE_RECIPE, CREDIT_RECIPE], ids=["invoice", "credit_note"])
@pytest.mark.parametrize("currency, minor", [("eur", 9990), ("jpy", 12000), ("kwd", 5120)])
def test_a_foreign_currency_without_an_exchange_rate_is_refused_not_booked_1_to_1(run_cli, tmp_path,
                                                                                  recipe, currency, minor):
    make = invoice_paid_event if recipe == INVOICE_RECIPE else credit_note_created_event
    path = tmp_path / "event.json"
    path.write_bytes(to_body(make(currency, minor)))
    code, out, err = run_cli("dry-run", str(recipe), "--event", str(path))  # a USD company
    assert code == 1 and out == ""
    upper = currency.upper()
    assert (f"/ExchangeRate: CurrencyRef is {upper}, not the company's home currency USD (connection "
            f"setting home_currency), so give ExchangeRate: how many USD one {upper} is worth") in err
    assert "Traceback" not in err


@pytest.mark.parametrize("currency, minor, exact, rate", [
    ("eur", 9990, "99.90", "1.0825"), ("jpy", 123456, "123456", "0.006712"), ("kwd", 123450, "123.450", "3.2531"),
])
def test_a_foreign_currency_with_an_exchange_rate_mapped_is_exact(run_cli, tmp_path, currency, minor, exact, rate):
    """A USD company, and a recipe copy that maps the rate of the event's currency (here from a
    lookup table; a real one would come from the Stripe balance transaction)."""
    recipe = json.loads(INVOICE_RECIPE.read_text())
    recipe["lookups"]["usd_per_unit"] = {currency: rate}
    recipe["steps"][-1]["input"]["ExchangeRate"] = {
        "$lookup": "usd_per_unit", "key": {"$path": "$.event.data.object.currency"}, "$as": "decimal"}
    path = tmp_path / "rated.json"
    path.write_text(json.dumps(recipe))
    report, text = dry_run(run_cli, path, invoice_paid_event(currency, minor), tmp_path)
    body = report["steps"][-1]["request"]["body"]
    assert body["CurrencyRef"] == {"value": currency.upper()}
    assert str(body["ExchangeRate"]) == rate and f'"ExchangeRate": {rate}' in text
    assert [str(line["Amount"]) for line in body["Line"]] == [exact, exact]
    assert f'"Amount": {exact}' in text


def test_idempotency_key_is_stable_per_recipe_version_event_and_step(run_cli, tmp_path):
    event = invoice_paid_event("usd", 1000, event_id="evt_same")
    first, _ = dry_run(run_cli, INVOICE_RECIPE, event, tmp_path)
    second, _ = dry_run(run_cli, INVOICE_RECIPE, event, tmp_path)
    other, _ = dry_run(run_cli, INVOICE_RECIPE, invoice_paid_event("usd", 1000, event_id="evt_other"), tmp_path)
    url = first["steps"][-1]["request"]["url"]
    assert url == second["steps"][-1]["request"]["url"]
    assert url != other["steps"][-1]["request"]["url"]
    key = url.split("requestid=")[1]
    assert len(key) == 36


def test_filter_not_matched(run_cli, tmp_path):
    event = invoice_paid_event("usd", 1000)
    event["data"]["object"]["amount_paid"] = 0
    report, _ = dry_run(run_cli, INVOICE_RECIPE, event, tmp_path)
    assert report["matched"] is False and report["steps"] == []


def test_sample_event_without_event_flag(run_cli):
    code, out, err = run_cli("dry-run", str(INVOICE_RECIPE))
    assert code == 0, err
    report = jsonio.loads(out)
    assert report["event"]["trigger"] == "stripe.invoice.paid"
    assert any("sample event" in w for w in report["warnings"])


def test_secrets_are_redacted_and_config_is_used(run_cli, tmp_path, monkeypatch):
    secret = "tok_live_should_never_show_7c1e"
    monkeypatch.setenv("QBO_ACCESS_TOKEN", secret)
    monkeypatch.setenv("QBO_CLIENT_SECRET", secret + "_cs")
    config = tmp_path / "ledgerlink.toml"
    config.write_text('[connections.stripe]\nconnector = "stripe"\nwebhook_secret = "${STRIPE_SECRET}"\n\n'
                      '[connections.quickbooks]\nconnector = "quickbooks"\nbase_url = "http://127.0.0.1:9"\n'
                      'realm_id = "9130350000000000"\nclient_id = "abc"\n'
                      'client_secret = "${QBO_CLIENT_SECRET}"\naccess_token = "${QBO_ACCESS_TOKEN}"\n')
    code, out, err = run_cli("dry-run", str(INVOICE_RECIPE), "--config", str(config))
    assert code == 0, err
    assert secret not in out + err
    report = jsonio.loads(out)
    request = report["steps"][-1]["request"]
    assert request["url"].startswith("http://127.0.0.1:9/v3/company/9130350000000000/journalentry?")
    assert request["headers"].get("authorization") == "Bearer [REDACTED]"
    assert not any("not configured" in w for w in report["warnings"])


@pytest.mark.parametrize("content, words", [
    (b"{not json", "not valid JSON at line 1"),
    (b'{"id": "evt_1", "object": "event", "type": "invoice.finalized", "data": {"object": {}}}',
     "is a 'stripe.invoice.finalized' event"),
    (b'{"id": "evt_1", "object": "event", "type": "invoice.paid", "data": {"object": {"object": "invoice"}}}',
     "does not fit trigger 'stripe.invoice.paid'"),
    (b"[]", "event"),
])
def test_bad_event_files(run_cli, tmp_path, content, words):
    path = tmp_path / "event.json"
    path.write_bytes(content)
    code, out, err = run_cli("dry-run", str(INVOICE_RECIPE), "--event", str(path))
    assert code == 1 and out == ""
    assert words in err and "Traceback" not in err


def test_missing_event_file(run_cli, tmp_path):
    code, _, err = run_cli("dry-run", str(INVOICE_RECIPE), "--event", str(tmp_path / "nope.json"))
    assert code == 1 and "cannot read the event file" in err


def test_mapping_error_names_recipe_step_pointer_and_path(run_cli, tmp_path):
    recipe = json.loads(INVOICE_RECIPE.read_text())
    recipe["steps"][-1]["input"]["TxnDate"] = {"$path": "$.event.data.object.paid_on", "$as": "date"}
    path = tmp_path / "recipe.json"
    path.write_text(json.dumps(recipe))
    code, _, err = run_cli("dry-run", str(path))
    assert code == 1
    for part in ("stripe-invoice-paid-to-quickbooks-journal", "'entry'", "/steps/1/input/TxnDate",
                 "$.event.data.object.paid_on"):
        assert part in err


def test_unbalanced_entry_is_refused_before_any_request(run_cli, tmp_path):
    recipe = json.loads(INVOICE_RECIPE.read_text())
    recipe["steps"][-1]["input"]["Lines"][1]["Amount"] = "9.99"
    path = tmp_path / "recipe.json"
    path.write_text(json.dumps(recipe))
    code, out, err = run_cli("dry-run", str(path))
    assert code == 1 and out == ""
    assert "unbalanced" in err.lower() or "debits" in err.lower()


def test_unknown_connection_in_config(run_cli, tmp_path):
    config = tmp_path / "ledgerlink.toml"
    config.write_text('[connections.books]\nconnector = "quickbooks"\nrealm_id = "1"\n')
    code, out, _ = run_cli("validate", str(INVOICE_RECIPE), "--config", str(config))
    # "quickbooks" and "stripe" still resolve to the connectors' defaults; a misspelt name does not
    assert code == 0
    recipe = json.loads(INVOICE_RECIPE.read_text())
    recipe["steps"][0]["connection"] = "bookz"
    path = tmp_path / "recipe.json"
    path.write_text(json.dumps(recipe))
    code, out, _ = run_cli("validate", str(path), "--config", str(config))
    assert code == 1
    assert f"{path}:/steps/0/connection: unknown connection 'bookz' in {config}" in out
    assert 'did you mean "books"' in out


def test_console_script_dry_run(run_subprocess):
    result = run_subprocess("dry-run", "recipes/stripe-credit-note-to-quickbooks-journal.json")
    assert result.returncode == 0, result.stderr
    assert jsonio.loads(result.stdout)["recipe"]["id"] == "stripe-credit-note-to-quickbooks-journal"


@pytest.mark.parametrize("currency, lines, exact", [
    ("usd", [7000, 2500, 500], ["70.00", "25.00", "5.00"]),
    ("kwd", [5000, 120], ["5.000", "0.120"]),
    ("jpy", [9000, 1000], ["9000", "1000"]),
])
def test_multi_line_entry_one_credit_per_invoice_line_with_a_class_each(run_cli, tmp_path, currency, lines, exact):
    """A debit for the amount paid, then (``$each`` with ``$spread``) one credit line per Stripe
    invoice line carrying its class and the customer Entity on Accounts Receivable."""
    recipe = json.loads(INVOICE_RECIPE.read_text())
    recipe["lookups"]["classes"] = {"default": {"value": "5", "name": "Online"}}
    entry = recipe["steps"][-1]["input"]
    debit = entry["Lines"][0]
    entry["Lines"] = [debit, {
        "$each": "$.event.data.object.lines.data[*]", "$spread": True,
        "map": {"PostingType": "Credit",
                "Amount": {"$path": "$.item.amount", "$as": "stripe.money",
                           "currency": {"$path": "$.item.currency"}},
                "AccountRef": {"$lookup": "accounts", "key": "accounts_receivable"},
                "Entity": {"Type": "Customer", "EntityRef": "1"},
                "ClassRef": {"$lookup": "classes", "key": "default"},
                "Description": {"$concat": ["Line ", {"$path": "$.index"}]}}}]
    path = tmp_path / "multi.json"
    path.write_text(json.dumps(recipe))
    assert run_cli("validate", str(path))[0] == 0
    event = invoice_paid_event(currency, sum(lines), line_amounts=lines)
    report, _ = dry_run(run_cli, path, event, tmp_path, home=currency)
    body = report["steps"][-1]["request"]["body"]
    credits = [line for line in body["Line"] if line["JournalEntryLineDetail"]["PostingType"] == "Credit"]
    assert [str(line["Amount"]) for line in credits] == exact
    assert all(line["JournalEntryLineDetail"]["ClassRef"] == {"value": "5", "name": "Online"} for line in credits)
    assert all(line["JournalEntryLineDetail"]["Entity"]["EntityRef"] == {"value": "1"} for line in credits)
    assert lines_total(body, "Debit") == lines_total(body, "Credit")
    from ledgerlink_sandboxes.quickbooks import xsd
    assert xsd.check("JournalEntry", body) == []


def test_spread_needs_a_list(run_cli, tmp_path):
    recipe = json.loads(INVOICE_RECIPE.read_text())
    entry = recipe["steps"][-1]["input"]
    entry["Lines"] = [entry["Lines"][0], {"$path": "$.event.data.object.id", "$spread": True}]
    path = tmp_path / "bad.json"
    path.write_text(json.dumps(recipe))
    code, _, err = run_cli("dry-run", str(path))
    assert code == 1 and '"$spread" needs a list' in err and "/steps/1/input/Lines/1" in err
