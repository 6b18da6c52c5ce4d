"""The QuickBooks sandbox's general ledger, over loopback HTTP: what each transaction posts,
how an update, a void and a delete move it back, and the trial balance an accountant reads.

Balances are read as a client reads them: ``Account.CurrentBalance`` by ``GET
…/account/<id>`` and by query, the trial balance by ``GET …/reports/TrialBalance``.
Every figure is an exact Decimal.
"""

from __future__ import annotations

from decimal import Decimal

import httpx
import pytest

from ledgerlink import jsonio
from ledgerlink_sandboxes.quickbooks import DEFAULT_REALM, xsd

REALM = DEFAULT_REALM
AUTH = {"Authorization": "Bearer sandbox-access-token"}
V3 = f"/v3/company/{REALM}"
MV = {"minorversion": "75"}
# the seeded accounts
SERVICES, UNDEPOSITED, PAYABLE, CHECKING, CHARGES, RECEIVABLE, RETURNS = "1", "4", "33", "35", "62", "84", "90"


@pytest.fixture
def client(qbo, sandbox):
    with httpx.Client(base_url=qbo.url, headers=AUTH, timeout=5) as c:
        yield c


def D(text: str) -> Decimal:
    return Decimal(text)


def post(client, entity: str, body: dict, **params) -> httpx.Response:
    return client.post(f"{V3}/{entity}", params={**MV, **params}, content=jsonio.dumps(body),
                       headers={"Content-Type": "application/json"})


def made(client, entity: str, body: dict, **params) -> dict:
    resp = post(client, entity, body, **params)
    assert resp.status_code == 200, resp.text
    name, = (k for k in jsonio.loads(resp.content) if k != "time")
    return jsonio.loads(resp.content)[name]


def fault(client, entity: str, body: dict, **params) -> dict:
    resp = post(client, entity, body, **params)
    assert resp.status_code == 400, resp.text
    [error] = jsonio.loads(resp.content)["Fault"]["Error"]
    return error


def balance(client, account: str) -> Decimal:
    resp = client.get(f"{V3}/account/{account}", params=MV)
    return jsonio.loads(resp.content)["Account"]["CurrentBalance"]


def balances(client, *accounts: str) -> list[Decimal]:
    return [balance(client, account) for account in accounts]


def account(client, name: str, account_type: str, currency: str | None = None) -> str:
    body = {"Name": name, "AccountType": account_type}
    if currency:
        body["CurrencyRef"] = {"value": currency}
    return made(client, "account", body)["Id"]


def sale_lines(*amounts: str, item: str = "1") -> list[dict]:
    return [{"Amount": D(a), "DetailType": "SalesItemLineDetail",
             "SalesItemLineDetail": {"ItemRef": {"value": item}}} for a in amounts]


def invoice(client, *amounts: str, customer: str = "1", **fields) -> dict:
    return made(client, "invoice", {"CustomerRef": {"value": customer}, **fields,
                                    "Line": sale_lines(*amounts)})


def payment(client, applied: dict[str, str], total: str, customer: str = "1", **fields) -> dict:
    return made(client, "payment", {
        "CustomerRef": {"value": customer}, "TotalAmt": D(total), **fields,
        "Line": [{"Amount": D(a), "LinkedTxn": [{"TxnId": i, "TxnType": "Invoice"}]}
                 for i, a in applied.items()]})


def expense(account_id: str, amount: str, paid_from: str, payment_type: str = "Check", **fields) -> dict:
    return {"PaymentType": payment_type, "AccountRef": {"value": paid_from}, **fields,
            "Line": [{"Amount": D(amount), "DetailType": "AccountBasedExpenseLineDetail",
                      "AccountBasedExpenseLineDetail": {"AccountRef": {"value": account_id}}}]}


def transfer(source: str, target: str, amount: str, **fields) -> dict:
    return {"FromAccountRef": {"value": source}, "ToAccountRef": {"value": target},
            "Amount": D(amount), **fields}


def trial_balance(client, **params) -> dict:
    resp = client.get(f"{V3}/reports/TrialBalance", params={**MV, **params})
    assert resp.status_code == 200, resp.text
    report = jsonio.loads(resp.content)
    assert xsd.check("Report", report) == []  # Intuit's Report shape
    return report


def tb_rows(report: dict) -> dict[str, tuple[str, str]]:
    """account name -> (debit, credit) as the report's text; the TOTAL row checked equal."""
    *rows, total = report["Rows"]["Row"]
    out = {row["ColData"][0]["value"]: (row["ColData"][1]["value"], row["ColData"][2]["value"])
           for row in rows}
    label, debits, credits = (cell["value"] for cell in total["Summary"]["ColData"])
    assert label == "TOTAL" and debits == credits
    assert D(debits) == sum((D(d) for d, _ in out.values() if d), Decimal(0))
    assert D(credits) == sum((D(c) for _, c in out.values() if c), Decimal(0))
    return out


def void(client, entity: str, row: dict) -> dict:
    return made(client, entity, {"Id": row["Id"], "SyncToken": row["SyncToken"]}, operation="void")


def delete(client, entity: str, row: dict) -> httpx.Response:
    return post(client, entity, {"Id": row["Id"], "SyncToken": row["SyncToken"]}, operation="delete")


# --- what each transaction posts ------------------------------------------------------------------

def test_an_invoice_its_payment_and_their_deposit_move_the_accounts_as_qbo_posts_them(client):
    sale = invoice(client, "100.00", "25.50")
    assert balances(client, RECEIVABLE, SERVICES) == [D("125.50"), D("125.50")]  # Dr A/R, Cr income
    paid = payment(client, {sale["Id"]: "125.50"}, "125.50")  # no DepositToAccountRef
    assert balances(client, RECEIVABLE, UNDEPOSITED) == [D("0.00"), D("125.50")]
    made(client, "deposit", {"DepositToAccountRef": {"value": CHECKING}, "Line": [
        {"Amount": D("125.50"), "LinkedTxn": [{"TxnId": paid["Id"], "TxnType": "Payment", "TxnLineId": "0"}]}]})
    assert balances(client, UNDEPOSITED, CHECKING) == [D("0.00"), D("125.50")]
    # a query answers the same balances
    resp = client.get(f"{V3}/query", params={**MV, "query": "select * from Account where Id in ('35', '1')"})
    rows = {a["Id"]: a["CurrentBalance"] for a in jsonio.loads(resp.content)["QueryResponse"]["Account"]}
    assert rows == {CHECKING: D("125.50"), SERVICES: D("125.50")}


def test_credit_memo_refund_receipt_and_journal_entry_post_their_lines(client):
    bank = account(client, "Stripe USD", "Bank")
    made(client, "creditmemo", {"CustomerRef": {"value": "1"}, "Line": sale_lines("20.00")})
    assert balances(client, RECEIVABLE, SERVICES) == [D("-20.00"), D("-20.00")]  # Dr income, Cr A/R
    made(client, "refundreceipt", {"CustomerRef": {"value": "2"}, "DepositToAccountRef": {"value": bank},
                                   "Line": sale_lines("7.25")})
    assert balances(client, bank, SERVICES) == [D("-7.25"), D("-27.25")]  # Cr the account it pays from
    made(client, "journalentry", {"Line": [
        {"Amount": D("50.00"), "DetailType": "JournalEntryLineDetail",
         "JournalEntryLineDetail": {"PostingType": "Debit", "AccountRef": {"value": bank}}},
        {"Amount": D("50.00"), "DetailType": "JournalEntryLineDetail",
         "JournalEntryLineDetail": {"PostingType": "Credit", "AccountRef": {"value": PAYABLE},
                                    "Entity": {"Type": "Vendor", "EntityRef": {"value": "56"}}}}]})
    assert balances(client, bank, PAYABLE) == [D("42.75"), D("50.00")]  # a liability grows with credits


def test_a_sales_receipt_an_expense_and_a_transfer_through_a_clearing_account(client):
    """The clearing-account pattern: sale into "Stripe", its fee out of it, the payout to the bank."""
    stripe = account(client, "Stripe", "Bank")
    receipt = made(client, "salesreceipt", {"DepositToAccountRef": {"value": stripe},
                                            "Line": sale_lines("100.00", "0.30")})
    assert receipt["TotalAmt"] == D("100.30") and "CustomerRef" not in receipt
    fee = made(client, "purchase", expense(CHARGES, "3.21", stripe, EntityRef={"value": "56", "type": "Vendor"}))
    assert fee["TotalAmt"] == D("3.21") and fee["EntityRef"]["name"] == "Bob's Burger Joint"
    payout = made(client, "transfer", transfer(stripe, CHECKING, "97.09", TxnDate="2026-11-02"))
    assert payout["Amount"] == D("97.09") and "TotalAmt" not in payout
    assert balances(client, stripe, CHARGES, CHECKING, SERVICES) == [
        D("0.00"), D("3.21"), D("97.09"), D("100.30")]
    # read by id and by query, as any entity
    for entity, row in (("transfer", payout), ("purchase", fee), ("salesreceipt", receipt)):
        got = jsonio.loads(client.get(f"{V3}/{entity}/{row['Id']}", params=MV).content)
        assert got[next(k for k in got if k != "time")] == row
    answer = client.get(f"{V3}/query", params={**MV, "query": "select * from Transfer where TxnDate = '2026-11-02'"})
    assert [t["Id"] for t in jsonio.loads(answer.content)["QueryResponse"]["Transfer"]] == [payout["Id"]]
    # a card credit (a refund of an expense) runs the other way
    card = account(client, "Company Card", "Credit Card")
    made(client, "purchase", expense(CHARGES, "10.00", card, "CreditCard"))
    made(client, "purchase", expense(CHARGES, "4.00", card, "CreditCard", Credit=True))
    assert balances(client, card, CHARGES) == [D("6.00"), D("9.21")]


def test_an_update_reposts_a_void_and_a_delete_take_back_what_was_posted(client):
    stripe = account(client, "Stripe", "Bank")
    sale = invoice(client, "80.00")
    changed = made(client, "invoice", {**sale, "Line": sale_lines("100.00")})
    assert changed["SyncToken"] == "1"
    assert balances(client, RECEIVABLE, SERVICES) == [D("100.00"), D("100.00")]
    paid = payment(client, {sale["Id"]: "100.00"}, "100.00", DepositToAccountRef={"value": stripe})
    assert balances(client, RECEIVABLE, stripe) == [D("0.00"), D("100.00")]
    voided = void(client, "payment", paid)
    assert voided["TotalAmt"] == 0
    assert balances(client, RECEIVABLE, stripe) == [D("100.00"), D("0.00")]
    void(client, "invoice", changed)
    assert balances(client, RECEIVABLE, SERVICES) == [D("0.00"), D("0.00")]
    sold = made(client, "salesreceipt", {"DepositToAccountRef": {"value": stripe}, "Line": sale_lines("8.00")})
    assert balances(client, stripe, SERVICES) == [D("8.00"), D("8.00")]
    assert void(client, "salesreceipt", sold)["PrivateNote"] == "Voided"
    assert balances(client, stripe, SERVICES) == [D("0.00"), D("0.00")]

    moved = made(client, "transfer", transfer(stripe, CHECKING, "40.00"))
    moved = made(client, "transfer", {**moved, "Amount": D("45.00")})  # a full update
    assert balances(client, stripe, CHECKING) == [D("-45.00"), D("45.00")]
    fee = made(client, "purchase", expense(CHARGES, "1.50", stripe))
    receipt = made(client, "salesreceipt", {"DepositToAccountRef": {"value": stripe}, "Line": sale_lines("9.99")})
    for entity, row in (("transfer", moved), ("purchase", fee), ("salesreceipt", receipt)):
        answer = delete(client, entity, row)
        assert jsonio.loads(answer.content)[next(k for k in jsonio.loads(answer.content) if k != "time")][
            "status"] == "Deleted"
        assert client.get(f"{V3}/{entity}/{row['Id']}", params=MV).status_code == 400  # 610
    assert balances(client, stripe, CHECKING, CHARGES, SERVICES) == [D("0.00")] * 4
    assert tb_rows(trial_balance(client)) == {}
    # a delete with an old SyncToken is refused, and takes nothing back
    sold = made(client, "salesreceipt", {"Line": sale_lines("5.00")})
    made(client, "salesreceipt", {**sold, "Line": sale_lines("6.00")})
    assert delete(client, "salesreceipt", sold).status_code == 400
    assert balance(client, UNDEPOSITED) == D("6.00")


def test_the_new_entities_are_in_change_data_capture(client, sandbox):
    stripe = account(client, "Stripe", "Bank")
    moved = made(client, "transfer", transfer(stripe, CHECKING, "1.00"))
    made(client, "purchase", expense(CHARGES, "1.00", stripe))
    made(client, "salesreceipt", {"Line": sale_lines("1.00")})
    delete(client, "transfer", moved)
    since = sandbox.entities(REALM, "account")[0]["MetaData"]["CreateTime"]
    answer = client.get(f"{V3}/cdc", params={**MV, "entities": "Transfer,Purchase,SalesReceipt",
                                             "changedSince": since})
    found = {name: rows for block in jsonio.loads(answer.content)["CDCResponse"][0]["QueryResponse"]
             for name, rows in block.items() if name in ("Transfer", "Purchase", "SalesReceipt")}
    [gone] = found["Transfer"]
    assert (gone["Id"], gone["status"]) == (moved["Id"], "Deleted")
    assert len(found["Purchase"]) == len(found["SalesReceipt"]) == 1


# --- what QBO refuses -------------------------------------------------------------------------

@pytest.mark.parametrize("entity, body, code, element", [
    ("transfer", {"FromAccountRef": {"value": "35"}, "Amount": D("1.00")}, "2020", "ToAccountRef"),
    ("transfer", transfer("35", "4", "1.00", Bogus=1), "2010", "Bogus"),
    ("transfer", transfer("35", "999", "1.00"), "2500", "ToAccountRef"),
    ("transfer", transfer("35", "91", "1.00"), "2500", "ToAccountRef"),  # inactive
    ("transfer", transfer("35", "4", "0"), "6000", "Amount"),
    ("transfer", transfer("35", "4", "-5.00"), "6000", "Amount"),
    ("transfer", transfer("35", "35", "5.00"), "6000", "ToAccountRef"),
    ("transfer", transfer("35", "1", "5.00"), "6000", "ToAccountRef"),  # an income account
    ("transfer", transfer("62", "35", "5.00"), "6000", "FromAccountRef"),  # an expense account
    ("transfer", transfer("35", "4", "1.005"), "6000", "Amount"),  # more decimals than USD has
    ("purchase", {"AccountRef": {"value": "35"}, "Line": expense("62", "1.00", "35")["Line"]},
     "2020", "PaymentType"),
    ("purchase", {**expense("62", "1.00", "35"), "PaymentType": "Barter"}, "2010", "PaymentType"),
    ("purchase", expense("62", "1.00", "35", "CreditCard"), "6000", "AccountRef"),  # a bank, not a card
    ("purchase", expense("62", "1.00", "1", "Cash"), "6000", "AccountRef"),  # paid from income
    ("purchase", {**expense("62", "1.00", "35"), "Line": [
        {"Amount": D("1.00"), "DetailType": "SalesItemLineDetail",
         "SalesItemLineDetail": {"ItemRef": {"value": "1"}}}]}, "2010", "Line.DetailType"),
    ("purchase", {**expense("62", "1.00", "35"), "Line": [
        {"Amount": D("1.00"), "DetailType": "AccountBasedExpenseLineDetail",
         "AccountBasedExpenseLineDetail": {}}]}, "2020", "Line.AccountBasedExpenseLineDetail.AccountRef"),
    ("purchase", expense("62", "1.00", "35", EntityRef={"value": "999", "type": "Vendor"}), "2500", "EntityRef"),
    ("deposit", {"DepositToAccountRef": {"value": "35"}, "Line": [  # a negative payout is no deposit
        {"Amount": D("-5.00"), "DetailType": "DepositLineDetail",
         "DepositLineDetail": {"AccountRef": {"value": "4"}}}]}, "6000", "Line.Amount"),
    ("salesreceipt", {"DepositToAccountRef": {"value": "35"}}, "2020", "Line"),
    ("salesreceipt", {"Line": [{"Amount": D("1.00"), "DetailType": "SalesItemLineDetail",
                                "SalesItemLineDetail": {}}]}, "2020", "Line.SalesItemLineDetail.ItemRef"),
    ("salesreceipt", {"CustomerRef": {"value": "999"}, "Line": sale_lines("1.00")}, "2500", "CustomerRef"),
    ("salesreceipt", {"Line": sale_lines("1.00", item="5")}, "2500", "Line.SalesItemLineDetail.ItemRef"),
], ids=lambda v: v if isinstance(v, str) and len(v) < 40 else "")
def test_what_qbo_refuses_is_refused_with_its_fault_and_posts_nothing(client, sandbox, entity, body,
                                                                      code, element):
    error = fault(client, entity, body)
    assert error["code"] == code and error["element"].startswith(element), error
    assert sandbox.entities(REALM, entity) == []
    assert tb_rows(trial_balance(client)) == {}


def test_an_item_without_an_expense_account_cannot_be_bought(client):
    body = {"PaymentType": "Cash", "AccountRef": {"value": CHECKING}, "Line": [
        {"Amount": D("2.00"), "DetailType": "ItemBasedExpenseLineDetail",
         "ItemBasedExpenseLineDetail": {"ItemRef": {"value": "1"}}}]}
    assert fault(client, "purchase", body)["code"] == "6000"
    bought = made(client, "item", {"Name": "Paper", "Type": "NonInventory", "IncomeAccountRef": {"value": "1"},
                                   "ExpenseAccountRef": {"value": CHARGES}})
    body["Line"][0]["ItemBasedExpenseLineDetail"]["ItemRef"] = {"value": bought["Id"]}
    made(client, "purchase", body)
    assert balances(client, CHECKING, CHARGES) == [D("-2.00"), D("2.00")]


def test_a_balance_cannot_be_written_only_posted(client):
    stripe = account(client, "Stripe", "Bank")
    made(client, "transfer", transfer(CHECKING, stripe, "12.00"))
    row = jsonio.loads(client.get(f"{V3}/account/{stripe}", params=MV).content)["Account"]
    renamed = made(client, "account", {**row, "Name": "Stripe clearing", "CurrentBalance": D("999")})
    assert renamed["CurrentBalance"] == D("12.00") and balance(client, stripe) == D("12.00")
