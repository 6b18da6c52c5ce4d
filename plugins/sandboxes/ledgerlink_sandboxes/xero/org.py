"""One Xero organisation in the sandbox: its settings and its entities, seeded as a small
company.

Entities are kept as Xero answers them (the fields of Xero's schemas, ids as uuids), by
collection (``Contacts``, ``Accounts`` …) and id, in creation order. The seed, for every
organisation alike:

- accounts (Code, Name, Type): 090 Business Bank Account (BANK, base currency), one bank
  account ``09x <CUR> Bank Account`` per other enabled currency, 200 Sales (REVENUE),
  260 Other Revenue (REVENUE), 404 Bank Fees (EXPENSE), 610 Accounts Receivable (CURRENT,
  system account DEBTORS), 800 Accounts Payable (CURRLIAB, CREDITORS), 820 Sales Tax
  (CURRLIAB), 3000 Retained Earnings (EQUITY), 499 Realised Currency Gains (EXPENSE,
  REALISEDCURRENCYGAIN);
- tax rates ``NONE`` (Tax Exempt, 0 %) and ``OUTPUT`` (Sales Tax, 8.5 %);
- the enabled currencies (the base currency first);
- item ``SUB-BASIC`` (Basic subscription, sold into 200 at 10.00).
"""

from __future__ import annotations

import calendar
import re
import time
import threading
import uuid
from collections.abc import Callable
from decimal import Decimal
from typing import Any

from ledgerlink.testing.sandbox import SandboxClock

DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
MS_DATE = re.compile(r"/Date\((-?\d+)")
#: currency names for ``GET /Currencies`` (``Description``)
CURRENCY_NAMES = {"USD": "United States Dollar", "EUR": "Euro", "GBP": "British Pound",
                  "JPY": "Japanese Yen", "KWD": "Kuwaiti Dinar", "AUD": "Australian Dollar",
                  "NZD": "New Zealand Dollar", "CAD": "Canadian Dollar"}

ACCOUNTS: list[tuple[str, str, str, dict[str, Any]]] = [
    ("200", "Sales", "REVENUE", {"TaxType": "OUTPUT"}),
    ("260", "Other Revenue", "REVENUE", {"TaxType": "OUTPUT"}),
    ("404", "Bank Fees", "EXPENSE", {"TaxType": "NONE"}),
    ("610", "Accounts Receivable", "CURRENT", {"TaxType": "NONE", "SystemAccount": "DEBTORS"}),
    ("800", "Accounts Payable", "CURRLIAB", {"TaxType": "NONE", "SystemAccount": "CREDITORS"}),
    ("820", "Sales Tax", "CURRLIAB", {"TaxType": "NONE"}),
    ("3000", "Retained Earnings", "EQUITY", {"TaxType": "NONE"}),
    ("499", "Realised Currency Gains", "EXPENSE", {"TaxType": "NONE", "SystemAccount": "REALISEDCURRENCYGAIN"}),
]


def new_id() -> str:
    return str(uuid.uuid4())


def ms_date(wall: float) -> str:
    """Xero's ``/Date(ms+0000)/`` for Unix time ``wall``."""
    return f"/Date({int(wall * 1000)}+0000)/"


def _unix(day: str) -> float:
    return calendar.timegm(time.strptime(day, "%Y-%m-%d"))


class Organisation:
    """A tenant's books: settings and entities (see the module docstring)."""

    def __init__(self, tenant_id: str, name: str, base_currency: str, currencies: tuple[str, ...],
                 clock: SandboxClock) -> None:
        if base_currency not in currencies:
            currencies = (base_currency, *currencies)
        for code in currencies:
            if code not in CURRENCY_NAMES:
                raise ValueError(f"currency {code!r} is not one the sandbox knows: "
                                 f"{', '.join(sorted(CURRENCY_NAMES))}")
        self.tenant_id = tenant_id
        self.name = name
        self.base_currency = base_currency
        self.currencies = (base_currency, *[code for code in currencies if code != base_currency])
        self.clock = clock
        self.lock = threading.RLock()
        #: decimals of unit amounts in the write being served: 4 with ``unitdp=4``, else 2
        self.unit_places = 2
        self.period_lock_date: str | None = None  # YYYY-MM-DD
        self.end_of_year_lock_date: str | None = None
        self.entities: dict[str, dict[str, dict[str, Any]]] = {}
        #: called with (tenant id, collection, id, created, wall time) on every saved change
        self.listeners: list[Callable[[str, str, str, bool, float], None]] = []
        self.reset()

    def changed(self, collection: str, entity_id: str, created: bool) -> None:
        """Tell the listeners (the webhook notifier) that an element was saved."""
        for listener in list(self.listeners):
            listener(self.tenant_id, collection, entity_id, created, self.clock.wall())

    def now(self) -> str:
        return ms_date(self.clock.wall())

    def reset(self) -> None:
        """Forget every entity and seed the organisation again."""
        with self.lock:
            self.entities = {name: {} for name in (
                "Accounts", "Contacts", "Currencies", "TaxRates", "Items", "Invoices", "Payments",
                "ManualJournals", "CreditNotes", "BankTransactions", "BankTransfers")}
            self._seed()

    def add(self, collection: str, entity: dict[str, Any], id_field: str) -> dict[str, Any]:
        """Keep ``entity`` under a new id in ``id_field``; returns it."""
        with self.lock:
            entity[id_field] = entity.get(id_field) or new_id()
            self.entities[collection][entity[id_field]] = entity
            return entity

    def get(self, collection: str, entity_id: str) -> dict[str, Any] | None:
        with self.lock:
            return self.entities[collection].get(entity_id.lower())

    def all(self, collection: str) -> list[dict[str, Any]]:
        with self.lock:
            return list(self.entities[collection].values())

    def account_by_code(self, code: str) -> dict[str, Any] | None:
        return next((a for a in self.all("Accounts") if a.get("Code") == code), None)

    def set_lock_dates(self, period: object, end_of_year: object) -> None:
        """Set (or, with None, clear) the lock dates, each ``YYYY-MM-DD``."""
        for value in (period, end_of_year):
            if value is not None and not (isinstance(value, str) and DATE.fullmatch(value)):
                raise ValueError(f"a lock date is YYYY-MM-DD, got {value!r}")
        with self.lock:
            self.period_lock_date = period  # type: ignore[assignment]
            self.end_of_year_lock_date = end_of_year  # type: ignore[assignment]

    def locked(self, date: str) -> str | None:
        """Xero's message when ``date`` (``YYYY-MM-DD…`` or ``/Date(ms…)/``) falls on or before a
        lock date, else None."""
        found = MS_DATE.match(date)
        day = time.strftime("%Y-%m-%d", time.gmtime(int(found.group(1)) / 1000)) if found else date[:10]
        for kind, lock in (("end of year", self.end_of_year_lock_date), ("period", self.period_lock_date)):
            if lock and day <= lock:
                # Xero's words, as its answers quote them (e.g. github.com/waynerobinson/xeroizer
                # issue 92: "…before the end of year lock date, currently set at 31-Jul-2013")
                shown = time.strftime("%d-%b-%Y", time.strptime(lock, "%Y-%m-%d"))
                return f"The document date cannot be before the {kind} lock date, currently set at {shown}"
        return None

    def organisation(self) -> dict[str, Any]:
        """``GET /Organisation``'s element."""
        body: dict[str, Any] = {
            "OrganisationID": self.tenant_id, "Name": self.name, "LegalName": self.name,
            "Version": "US", "OrganisationType": "COMPANY", "BaseCurrency": self.base_currency,
            "CountryCode": "US", "IsDemoCompany": True, "OrganisationStatus": "ACTIVE",
            "FinancialYearEndDay": 31, "FinancialYearEndMonth": 12, "SalesTaxBasis": "ACCRUALS",
            "DefaultSalesTax": "Tax Exclusive", "Timezone": "EASTERNSTANDARDTIME",
            "OrganisationEntityType": "COMPANY", "ShortCode": "!sandbox", "Class": "PREMIUM",
            "Edition": "BUSINESS", "CreatedDateUTC": self.now(),
        }
        if self.period_lock_date:
            body["PeriodLockDate"] = ms_date(_unix(self.period_lock_date))
        if self.end_of_year_lock_date:
            body["EndOfYearLockDate"] = ms_date(_unix(self.end_of_year_lock_date))
        return body

    def _seed(self) -> None:
        now = self.now()
        bank_codes = ["090", *[f"09{index}" for index in range(1, len(self.currencies))]]
        for code, currency in zip(bank_codes, self.currencies):
            name = "Business Bank Account" if currency == self.base_currency else f"{currency} Bank Account"
            self.add("Accounts", {"Code": code, "Name": name, "Type": "BANK", "BankAccountType": "BANK",
                                  "BankAccountNumber": f"1200{code}", "CurrencyCode": currency,
                                  "Status": "ACTIVE", "Class": "ASSET", "TaxType": "NONE",
                                  "EnablePaymentsToAccount": False, "ShowInExpenseClaims": False,
                                  "UpdatedDateUTC": now}, "AccountID")
        classes = {"REVENUE": "REVENUE", "EXPENSE": "EXPENSE", "CURRENT": "ASSET",
                   "CURRLIAB": "LIABILITY", "EQUITY": "EQUITY"}
        for code, name, kind, extra in ACCOUNTS:
            self.add("Accounts", {"Code": code, "Name": name, "Type": kind, "Status": "ACTIVE",
                                  "Class": classes[kind], "EnablePaymentsToAccount": False,
                                  "ShowInExpenseClaims": False, "UpdatedDateUTC": now, **extra}, "AccountID")
        for code in self.currencies:
            self.entities["Currencies"][code] = {"Code": code, "Description": CURRENCY_NAMES[code]}
        for tax_type, name, rate in (("NONE", "Tax Exempt", Decimal("0.0000")),
                                     ("OUTPUT", "Sales Tax", Decimal("8.5000"))):
            self.entities["TaxRates"][tax_type] = {
                "Name": name, "TaxType": tax_type, "Status": "ACTIVE", "ReportTaxType": "OUTPUT",
                "CanApplyToAssets": True, "CanApplyToEquity": True, "CanApplyToExpenses": True,
                "CanApplyToLiabilities": True, "CanApplyToRevenue": True,
                "DisplayTaxRate": rate, "EffectiveRate": rate,
                "TaxComponents": [{"Name": name, "Rate": rate, "IsCompound": False, "IsNonRecoverable": False}]}
        self.add("Items", {"Code": "SUB-BASIC", "Name": "Basic subscription", "Description": "Basic subscription",
                           "IsSold": True, "IsPurchased": False, "IsTrackedAsInventory": False,
                           "SalesDetails": {"UnitPrice": Decimal("10.00"), "AccountCode": "200", "TaxType": "NONE"},
                           "UpdatedDateUTC": now}, "ItemID")


__all__ = ["ACCOUNTS", "CURRENCY_NAMES", "Organisation", "ms_date", "new_id"]
