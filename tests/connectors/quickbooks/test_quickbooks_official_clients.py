"""The QuickBooks sandbox driven by real clients: Intuit's ``intuit-oauth`` and ``python-quickbooks``.

Both are used exactly as an application uses them against Intuit; only configuration a
user can set points them at the loopback sandbox:

- ``AuthClient(..., environment=<discovery URL>)``: intuit-oauth takes any environment that
  is not "sandbox" or "production" as the URL of the discovery document, and reads every
  OAuth endpoint from it;
- ``QuickBooks.api_url_v3``: the base URL of the Accounting API, an attribute of the client;
- ``OAUTHLIB_INSECURE_TRANSPORT=1``: oauthlib's own switch for plain-HTTP test servers
  (python-quickbooks sends its calls through a requests-oauthlib session).

What python-quickbooks sends by default is what thousands of applications send QuickBooks
Online: amounts as decimal strings, ``SyncToken`` as the number 0, ``LineNum`` 0, ``""`` for
every date not set. The sandbox must accept all of it, as QBO does, and refuse what QBO
refuses whoever sends it.
"""

from __future__ import annotations

from decimal import Decimal
from urllib.parse import parse_qs, urlsplit

import pytest
import requests

from ledgerlink import jsonio
from ledgerlink_sandboxes.quickbooks import DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET, DEFAULT_REALM

from intuitlib.client import AuthClient
from intuitlib.enums import Scopes
from intuitlib.exceptions import AuthClientError
from quickbooks import QuickBooks
from quickbooks.exceptions import QuickbooksException
from quickbooks.objects.account import Account
from quickbooks.objects.base import Ref
from quickbooks.objects.creditmemo import CreditMemo
from quickbooks.objects.customer import Customer
from quickbooks.objects.deposit import Deposit, DepositLine, DepositLineDetail
from quickbooks.objects.detailline import SalesItemLine, SalesItemLineDetail
from quickbooks.objects.invoice import Invoice
from quickbooks.objects.item import Item
from quickbooks.objects.journalentry import JournalEntry, JournalEntryLine, JournalEntryLineDetail
from quickbooks.objects.payment import Payment, PaymentLine
from quickbooks.objects.refundreceipt import RefundReceipt

from qbo_company import trading_in

REALM = DEFAULT_REALM
REDIRECT = "http://127.0.0.1:9/callback"  # never called: the consent redirect is read, not followed


# --- the sandbox and the clients ---------------------------------------------------------

#: the sandbox as QuickBooks is: its rate limits enforced
QBO_SANDBOX: dict = {}


@pytest.fixture(autouse=True)
def insecure_transport(monkeypatch):
    """The clients' OAuth library refuses http:// unless told the transport is a test's loopback."""
    monkeypatch.setenv("OAUTHLIB_INSECURE_TRANSPORT", "1")


def discovery_url(qbo) -> str:
    return f"{qbo.url}/.well-known/openid_sandbox_configuration"


def auth_client(qbo, **tokens) -> AuthClient:
    return AuthClient(DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET, REDIRECT,
                      environment=discovery_url(qbo), **tokens)


def consent(auth: AuthClient) -> dict[str, str]:
    """Open the authorization URL as a browser would; the query of the redirect back."""
    url = auth.get_authorization_url([Scopes.ACCOUNTING], state_token="csrf-123")
    answer = requests.get(url, allow_redirects=False, timeout=5)
    assert answer.status_code == 302
    location = answer.headers["Location"]
    assert location.startswith(REDIRECT + "?")
    return {key: values[0] for key, values in parse_qs(urlsplit(location).query).items()}


def connected(qbo) -> QuickBooks:
    """A python-quickbooks client connected through the whole OAuth flow."""
    auth = auth_client(qbo)
    back = consent(auth)
    auth.get_bearer_token(back["code"], realm_id=back["realmId"])
    client = QuickBooks(auth_client=auth, refresh_token=auth.refresh_token,
                        company_id=back["realmId"], minorversion=75)
    client.api_url_v3 = f"{qbo.url}/v3"
    return client


def ref(value: str) -> Ref:
    out = Ref()
    out.value = value
    return out


def sent(obj) -> dict:
    """The JSON body python-quickbooks sends for ``obj`` (parsed, numbers as Decimal)."""
    return jsonio.loads(obj.to_json())


def sales_line(amount: Decimal, item: str = "1", cls=SalesItemLine) -> SalesItemLine:
    line = cls()
    line.Amount = amount
    line.SalesItemLineDetail = SalesItemLineDetail()
    line.SalesItemLineDetail.ItemRef = ref(item)
    return line


def invoice_of(amount: str, customer: str = "1", currency: str | None = None) -> Invoice:
    invoice = Invoice()
    invoice.CustomerRef = ref(customer)
    invoice.Line.append(sales_line(Decimal(amount)))
    if currency:
        invoice.CurrencyRef = ref(currency)
    return invoice


def payment_of(total: str, applied: dict[str, str], customer: str = "1") -> Payment:
    payment = Payment()
    payment.CustomerRef = ref(customer)
    payment.TotalAmt = Decimal(total)
    for invoice_id, amount in applied.items():
        line = PaymentLine()
        line.Amount = Decimal(amount)
        invoice = Invoice()
        invoice.Id = invoice_id
        line.LinkedTxn.append(invoice.to_linked_txn())
        payment.Line.append(line)
    return payment


def journal_of(*lines: tuple[str, str, str]) -> JournalEntry:
    entry = JournalEntry()
    for posting, amount, account in lines:
        line = JournalEntryLine()
        line.Amount = Decimal(amount)
        line.JournalEntryLineDetail = JournalEntryLineDetail()
        line.JournalEntryLineDetail.PostingType = posting
        line.JournalEntryLineDetail.AccountRef = ref(account)
        entry.Line.append(line)
    return entry


def refused(obj, client: QuickBooks) -> QuickbooksException:
    with pytest.raises(QuickbooksException) as info:
        obj.save(qb=client)
    return info.value


# --- OAuth through intuit-oauth ------------------------------------------------------------

def test_intuit_oauth_reads_the_discovery_document_and_runs_the_whole_flow(qbo, sandbox):
    auth = auth_client(qbo)
    assert (auth.auth_endpoint, auth.token_endpoint, auth.revoke_endpoint, auth.user_info_url) == (
        f"{qbo.url}/connect/oauth2", f"{qbo.url}/oauth2/v1/tokens/bearer",
        f"{qbo.url}/v2/oauth2/tokens/revoke", f"{qbo.url}/v1/openid_connect/userinfo")
    # Intuit's path ends in a slash (intuit-oauth's own constants); both forms are served
    assert requests.get(discovery_url(qbo) + "/", timeout=5).json()["issuer"] == auth.issuer_uri

    back = consent(auth)
    assert back["state"] == "csrf-123" and back["realmId"] == REALM
    auth.get_bearer_token(back["code"], realm_id=back["realmId"])
    assert auth.access_token and auth.refresh_token and auth.expires_in == 3600
    with pytest.raises(AuthClientError) as reused:  # an authorization code is single-use
        auth.get_bearer_token(back["code"])
    assert reused.value.status_code == 400 and b"invalid_grant" in reused.value.content

    first_refresh, first_access = auth.refresh_token, auth.access_token
    auth.refresh()
    assert auth.refresh_token != first_refresh and auth.access_token != first_access
    with pytest.raises(AuthClientError) as stale:  # rotated: the old refresh token is spent
        auth.refresh(refresh_token=first_refresh)
    assert stale.value.status_code == 400 and b"invalid_grant" in stale.value.content

    assert auth.get_user_info().json()["sub"]
    client = QuickBooks(auth_client=auth, refresh_token=auth.refresh_token, company_id=REALM,
                        minorversion=75)
    client.api_url_v3 = f"{qbo.url}/v3"
    assert Customer.get("1", qb=client).DisplayName == "Amy's Bird Sanctuary"

    assert auth.revoke() is True
    with pytest.raises(QuickbooksException) as gone:  # the grant's access token died with it
        Customer.get("1", qb=client)
    assert gone.value.error_code == 401


def test_a_client_with_only_a_refresh_token_gets_its_access_token_from_the_sandbox(qbo, sandbox):
    first = auth_client(qbo)
    back = consent(first)
    first.get_bearer_token(back["code"])
    # an application that stored only the refresh token: python-quickbooks refreshes at start
    later = auth_client(qbo)
    client = QuickBooks(auth_client=later, refresh_token=first.refresh_token, company_id=REALM,
                        minorversion=75)
    client.api_url_v3 = f"{qbo.url}/v3"
    assert later.access_token and later.refresh_token != first.refresh_token
    assert [c.DisplayName for c in Customer.filter(Id="2", qb=client)] == ["Bill's Windsurf Shop"]


# --- what python-quickbooks sends by default is accepted --------------------------------------

def test_python_quickbooks_sends_amounts_as_strings_zeros_and_empty_dates_by_default():
    """The premise of the next test, checked on the client itself."""
    body = sent(invoice_of("25.50"))
    assert body["Line"][0]["Amount"] == "25.50"  # a Decimal is written as a JSON string
    assert body["Line"][0]["LineNum"] == 0 and body["SyncToken"] == 0
    assert body["TxnDate"] == "" and body["DueDate"] == "" and body["TotalAmt"] == ""
    assert sent(payment_of("25.50", {"7": "25.50"}))["Line"][0]["LinkedTxn"][0]["TxnLineId"] == 1
    assert sent(RefundReceipt())["PaymentType"] == ""
    assert sent(Customer())["OpenBalanceDate"] == ""


def test_python_quickbooks_creates_reads_and_updates_every_entity(qbo, sandbox):
    client = connected(qbo)

    customer = Customer()
    customer.DisplayName = "Dora's Dog Spa"
    customer = customer.save(qb=client)
    item = Item()
    item.Name, item.Type, item.IncomeAccountRef = "Grooming", "Service", ref("1")
    item = item.save(qb=client)
    account = Account()
    account.Name, account.AccountType = "Stripe Clearing", "Other Current Asset"
    account = account.save(qb=client)

    invoice = invoice_of("25.50", customer=customer.Id)
    invoice.Line[0].SalesItemLineDetail.ItemRef = item.to_ref()
    invoice = invoice.save(qb=client)
    payment = payment_of("25.50", {invoice.Id: "25.50"}, customer=customer.Id).save(qb=client)
    entry = journal_of(("Debit", "10.00", "35"), ("Credit", "10.00", account.Id)).save(qb=client)
    deposit = Deposit()
    deposit.DepositToAccountRef = ref("35")
    line = DepositLine()
    line.Amount = Decimal("5.00")
    line.DepositLineDetail = DepositLineDetail()
    line.DepositLineDetail.AccountRef = ref("4")
    deposit.Line.append(line)
    deposit = deposit.save(qb=client)
    credit = CreditMemo()
    credit.CustomerRef = ref("1")
    credit.Line.append(sales_line(Decimal("3.00")))
    credit = credit.save(qb=client)
    refund = RefundReceipt()
    refund.DepositToAccountRef = ref("35")
    refund.Line.append(sales_line(Decimal("2.00")))
    refund = refund.save(qb=client)

    assert sandbox.stats()["created"][REALM] == {
        "customer": 1, "item": 1, "account": 1, "invoice": 1, "payment": 1, "journalentry": 1,
        "deposit": 1, "creditmemo": 1, "refundreceipt": 1}
    # read back through the client: every amount is the one sent, digit for digit
    read = Invoice.get(invoice.Id, qb=client)
    assert read.CustomerRef.name == "Dora's Dog Spa" and read.Line[0].SalesItemLineDetail.ItemRef.value == item.Id
    stored = {name: sandbox.entities(REALM, name)[-1] for name in (
        "invoice", "payment", "journalentry", "deposit", "creditmemo", "refundreceipt")}
    assert stored["invoice"]["TotalAmt"] == Decimal("25.50") and "TxnDate" in stored["invoice"]
    assert "DueDate" not in stored["invoice"]  # "" was no date, not a bad one
    assert stored["payment"]["Line"][0]["Amount"] == Decimal("25.50")
    assert stored["payment"]["Line"][0]["LinkedTxn"][0] == {
        "TxnId": invoice.Id, "TxnType": "Invoice", "TxnLineId": "1"}
    assert stored["payment"]["UnappliedAmt"] == 0
    assert [line["Amount"] for line in stored["journalentry"]["Line"]] == [Decimal("10.00")] * 2
    assert stored["deposit"]["TotalAmt"] == Decimal("5.00")
    assert stored["creditmemo"]["RemainingCredit"] == Decimal("3.00")
    assert stored["refundreceipt"]["TotalAmt"] == Decimal("2.00")
    assert all(obj.Id and obj.SyncToken == "0" for obj in (payment, entry, deposit, credit, refund))

    # the client's list queries: Item.all asks for "SELECT *, Sku FROM Item …"
    assert [i.Name for i in Item.all(qb=client)] == ["Services", "Hours", "Design", "Gadget",
                                                     "Grooming"]  # the inactive one left out
    assert [c.Id for c in Customer.filter(DisplayName="Dora's Dog Spa", qb=client)] == [customer.Id]

    # a full update as python-quickbooks makes it: read, change, save (SyncToken as read)
    again = Customer.get(customer.Id, qb=client)
    again.Notes = "VIP"
    updated = again.save(qb=client)
    assert (updated.SyncToken, Customer.get(customer.Id, qb=client).Notes) == ("1", "VIP")
    # and a stale one is refused as QBO refuses it
    again.Notes = "stale"
    assert refused(again, client).error_code == 5010
    # an invoice void through the client
    Invoice.get(invoice.Id, qb=client).void(qb=client)
    assert Invoice.get(invoice.Id, qb=client).Balance == 0


# --- what QuickBooks refuses is refused, whoever sends it --------------------------------------

def test_a_journal_line_on_an_inactive_account_is_refused(qbo, sandbox):
    client = connected(qbo)
    error = refused(journal_of(("Debit", "10.00", "35"), ("Credit", "10.00", "91")), client)
    assert error.error_code == 2500 and error.message == "Invalid Reference Id"
    assert "has been made inactive" in error.detail and "Old Merchant Clearing" in error.detail
    # an inactive item on an invoice likewise
    invoice = invoice_of("5.00")
    invoice.Line[0].SalesItemLineDetail.ItemRef = ref("5")  # the inactive "Retired Plan"
    error = refused(invoice, client)
    assert error.error_code == 2500 and "Retired Plan" in error.detail
    assert sandbox.entities(REALM, "journalentry") == [] and sandbox.entities(REALM, "invoice") == []


def test_a_payment_may_not_apply_more_than_the_invoice_balance(qbo, sandbox):
    client = connected(qbo)
    invoice = invoice_of("25.50").save(qb=client)
    error = refused(payment_of("1000.00", {invoice.Id: "1000.00"}), client)
    assert error.error_code == 6000 and "open balance of 25.50" in error.detail
    assert sandbox.entities(REALM, "payment") == []
    # paid in part, then the rest: the second may apply only what is still open
    payment_of("20.00", {invoice.Id: "20.00"}).save(qb=client)
    error = refused(payment_of("10.00", {invoice.Id: "10.00"}), client)
    assert error.error_code == 6000 and "open balance of 5.50" in error.detail
    # a payment larger than the invoice is fine when the surplus stays unapplied
    paid = payment_of("1000.00", {invoice.Id: "5.50"}).save(qb=client)
    assert paid.UnappliedAmt == 994.5 and len(sandbox.entities(REALM, "payment")) == 2


@pytest.mark.parametrize("amount, currency, ok", [
    ("10.001", None, False), ("10.001", "USD", False), ("1.5", "JPY", False),
    ("10.000", None, True), ("1.234", "KWD", True), ("1500", "JPY", True),
], ids=["usd-default", "usd", "jpy", "usd-trailing-zero", "kwd", "jpy-whole"])
def test_amounts_have_at_most_the_decimals_of_their_currency(qbo, sandbox, amount, currency, ok):
    client = connected(qbo)
    if currency:
        trading_in(qbo.url, currency)  # a company keeping its books in that currency
    invoice = invoice_of(amount, currency=currency)
    if ok:
        saved = invoice.save(qb=client)
        assert sandbox.entities(REALM, "invoice")[0]["TotalAmt"] == Decimal(amount)
        assert saved.Id
        return
    error = refused(invoice, client)
    assert error.error_code == 6000
    assert f"Amount {amount} has more decimal places than {currency or 'USD'}" in error.detail
    assert sandbox.entities(REALM, "invoice") == []
