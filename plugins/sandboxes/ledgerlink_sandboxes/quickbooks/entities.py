"""What the sandbox company serves: its entity kinds, and the lists every company is seeded with.

The kinds are QBO's endpoint names (lower case, as in ``/v3/company/<realm>/<entity>``) with
the entity's name in bodies, whether it is a transaction and whether the sandbox lets a
client write it; :func:`seed` gives the accounts, customers, items, vendor and tax codes a
new company starts with (documented in :func:`~ledgerlink_sandboxes.quickbooks.create_sandbox`).
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

# --- what the sandbox serves ------------------------------------------------------------


@dataclass(frozen=True)
class Kind:
    """An entity type: its XSD name, whether it is a transaction, and whether it is writable."""

    name: str
    transaction: bool = False
    writable: bool = True
    #: how a duplicate-number fault names the type (``TxnType=Journal Entry``)
    label: str = ""


KINDS: dict[str, Kind] = {k.name.lower(): k for k in (
    Kind("JournalEntry", transaction=True, label="Journal Entry"),
    Kind("Invoice", transaction=True, label="Invoice"),
    Kind("Payment", transaction=True, label="Payment"),
    Kind("CreditMemo", transaction=True, label="Credit Memo"),
    Kind("RefundReceipt", transaction=True, label="Refund Receipt"),
    Kind("Deposit", transaction=True, label="Deposit"),
    Kind("Transfer", transaction=True, label="Transfer"),
    Kind("Purchase", transaction=True, label="Expense"),
    Kind("SalesReceipt", transaction=True, label="Sales Receipt"),
    Kind("Customer"),
    Kind("Item"),
    Kind("Account"),
    Kind("Vendor"),
    Kind("TaxCode", writable=False),
    # one per company, read by ``GET …/preferences`` and ``select * from Preferences``
    Kind("Preferences", writable=False),
)}

#: entities the sandbox creates (the lower-case endpoint names)
WRITABLE = tuple(name for name, kind in KINDS.items() if kind.writable)

USD = {"value": "USD", "name": "United States Dollar"}

REQUIRED: dict[str, tuple[str, ...]] = {
    "JournalEntry": ("Line",),
    "Invoice": ("CustomerRef", "Line"),
    "CreditMemo": ("CustomerRef", "Line"),
    "RefundReceipt": ("DepositToAccountRef", "Line"),
    "Payment": ("CustomerRef", "TotalAmt"),
    "Deposit": ("DepositToAccountRef", "Line"),
    "Transfer": ("FromAccountRef", "ToAccountRef", "Amount"),
    "Purchase": ("PaymentType", "AccountRef", "Line"),
    "SalesReceipt": ("Line",),
    "Item": ("Name",),
    "Account": ("Name",),
}

CLASSIFICATION = {
    "Bank": "Asset", "Accounts Receivable": "Asset", "Other Current Asset": "Asset",
    "Fixed Asset": "Asset", "Other Asset": "Asset", "Accounts Payable": "Liability",
    "Credit Card": "Liability", "Other Current Liability": "Liability",
    "Long Term Liability": "Liability", "Equity": "Equity", "Income": "Revenue",
    "Other Income": "Revenue", "Cost of Goods Sold": "Expense", "Expense": "Expense",
    "Other Expense": "Expense",
}

#: sales-form line types that add to the total, and the one that subtracts
ADDING_LINES = ("SalesItemLineDetail", "GroupLineDetail")
DISCOUNT_LINE = "DiscountLineDetail"

#: the accounts an item of each Type needs (QBO: an income account for what it sells)
ITEM_ACCOUNTS = {
    "Service": ("IncomeAccountRef",),
    "NonInventory": ("IncomeAccountRef",),
    "Inventory": ("IncomeAccountRef", "ExpenseAccountRef", "AssetAccountRef"),
}

#: entities QBO can void (``?operation=void``): the transaction stays, its amounts zeroed
VOIDABLE = ("invoice", "payment", "salesreceipt")

#: the accounts QBO keeps on the balance sheet (a Transfer moves money between two of them)
BALANCE_SHEET = ("Asset", "Liability", "Equity")

#: the seeded account a multicurrency company books exchange differences to (QBO creates
#: "Exchange Gain or Loss", an Other Expense account, when multicurrency is turned on)
EXCHANGE_ACCOUNT = "9100"


def _account(id_: str, name: str, account_type: str, sub_type: str, number: str,
             active: bool = True) -> dict[str, Any]:
    return {"Name": name, "SubAccount": False, "FullyQualifiedName": name, "Active": active,
            "Classification": CLASSIFICATION[account_type], "AccountType": account_type,
            "AccountSubType": sub_type, "AcctNum": number, "CurrentBalance": 0,
            "CurrentBalanceWithSubAccounts": 0, "CurrencyRef": dict(USD), "Id": id_}


def _item(id_: str, name: str, item_type: str, income_account: str, price: str = "0",
          active: bool = True) -> dict[str, Any]:
    return {"Name": name, "Active": active, "FullyQualifiedName": name, "Taxable": False,
            "UnitPrice": Decimal(price), "Type": item_type,
            "IncomeAccountRef": {"value": income_account, "name": "Services"}, "PurchaseCost": 0,
            "TrackQtyOnHand": False, "Id": id_}


def _customer(id_: str, name: str) -> dict[str, Any]:
    return {"Taxable": False, "Job": False, "BillWithParent": False, "Balance": 0,
            "BalanceWithJobs": 0, "CurrencyRef": dict(USD), "PreferredDeliveryMethod": "Print",
            "FullyQualifiedName": name, "CompanyName": name, "DisplayName": name,
            "PrintOnCheckName": name, "Active": True, "Id": id_}


def currency_ref(code: str) -> dict[str, str]:
    """A ``CurrencyRef`` as QBO answers it: the ISO code and its English name (CLDR)."""
    import babel.numbers
    if code == USD["value"]:
        return dict(USD)
    return {"value": code, "name": babel.numbers.get_currency_name(code, locale="en_US")}


def preferences(home: str, multicurrency: bool, book_close_date: str | None) -> dict[str, Any]:
    """The company's Preferences entity (the part the sandbox keeps), as QBO answers it."""
    accounting: dict[str, Any] = {"TrackDepartments": False, "ClassTrackingPerTxn": False,
                                  "CustomerTerminology": "Customers"}
    if book_close_date:
        accounting["BookCloseDate"] = book_close_date
    return {"AccountingInfoPrefs": accounting,
            "CurrencyPrefs": {"MultiCurrencyEnabled": multicurrency,
                              "HomeCurrency": {"value": home}},
            "Id": "1"}


def seed(home: str = "USD", multicurrency: bool = False) -> dict[str, list[dict[str, Any]]]:
    """The lists every sandbox company starts with (ids are strings, as in QBO), in its home
    currency; a multicurrency company also has QBO's "Exchange Gain or Loss" account."""
    lists = _seed()
    for rows in lists.values():
        for row in rows:
            if "CurrencyRef" in row:
                row["CurrencyRef"] = currency_ref(home)
    if multicurrency:
        gain_loss = _account(EXCHANGE_ACCOUNT, "Exchange Gain or Loss", "Other Expense",
                             "ExchangeGainOrLoss", "7100")
        gain_loss["CurrencyRef"] = currency_ref(home)
        lists["account"].append(gain_loss)
    return lists


def _seed() -> dict[str, list[dict[str, Any]]]:
    return {
        "account": [
            _account("1", "Services", "Income", "ServiceFeeIncome", "4000"),
            _account("4", "Undeposited Funds", "Other Current Asset", "UndepositedFunds", "1200"),
            _account("33", "Accounts Payable (A/P)", "Accounts Payable", "AccountsPayable",
                     "2000"),
            _account("35", "Checking", "Bank", "Checking", "1000"),
            _account("62", "Bank Charges", "Expense", "BankCharges", "6100"),
            _account("84", "Accounts Receivable (A/R)", "Accounts Receivable",
                     "AccountsReceivable", "1100"),
            _account("90", "Sales Returns", "Income", "DiscountsRefundsGiven", "4900"),
            # inactive: a query names Active to see it (QBO answers active list entities only)
            _account("91", "Old Merchant Clearing", "Other Current Asset", "OtherCurrentAssets",
                     "1290", active=False),
        ],
        "customer": [
            _customer("1", "Amy's Bird Sanctuary"),
            _customer("2", "Bill's Windsurf Shop"),
            _customer("3", "Cool Cars"),
        ],
        "item": [
            _item("1", "Services", "Service", "1"),
            _item("2", "Hours", "Service", "1"),
            _item("3", "Design", "Service", "1", "75.00"),
            _item("4", "Gadget", "NonInventory", "1", "12.50"),
            _item("5", "Retired Plan", "Service", "1", active=False),
        ],
        "vendor": [
            {"Balance": 0, "Vendor1099": False, "CurrencyRef": dict(USD),
             "CompanyName": "Bob's Burger Joint", "DisplayName": "Bob's Burger Joint",
             "PrintOnCheckName": "Bob's Burger Joint", "Active": True, "Id": "56"},
        ],
        "taxcode": [
            {"Name": "TAX", "Description": "TAX", "Active": True, "Taxable": True,
             "TaxGroup": False, "Id": "TAX"},
            {"Name": "NON", "Description": "NON", "Active": True, "Taxable": False,
             "TaxGroup": False, "Id": "NON"},
        ],
    }


__all__ = ["ADDING_LINES", "BALANCE_SHEET", "CLASSIFICATION", "DISCOUNT_LINE", "EXCHANGE_ACCOUNT",
           "ITEM_ACCOUNTS", "KINDS", "Kind", "REQUIRED", "USD", "VOIDABLE", "WRITABLE",
           "currency_ref", "preferences", "seed"]
