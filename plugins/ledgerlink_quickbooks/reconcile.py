"""QuickBooks as one side of ``ledgerlink reconcile``: the transactions of a period.

Each transaction entity the connector's actions create is listed by its ``TxnDate`` through
the query language (``STARTPOSITION`` pages of 1000), one entity type after another, and
read as a neutral :class:`~ledgerlink.contract.Record`: its kind, Id, total (``TotalAmt``; a
Transfer's ``Amount``) in the currency's minor units, currency (``CurrencyRef``, the home
currency when absent) and date, labelled by its ``PrivateNote``. QuickBooks keeps no source
id of its own: a record made by hand is known by carrying no link.

The clearing account's balance at a date is its row of the ``TrialBalance`` report
(``GET …/reports/TrialBalance?end_date=``, Intuit's Report shape: ``Header``, ``Columns``,
``Rows.Row`` of ``ColData`` ``[{"value": name, "id": Id}, {"value": debit}, {"value":
credit}]``; developer.intuit.com/app/developer/qbo/docs/api/accounting/report-entities/
trialbalance): every posting dated up to ``end_date``, debit positive, in the home currency
(the report's ``Header.Currency``). The connection's ``clearing_account`` names the account by
its Id or its full name (``Stripe USD``); an account with nothing posted has no row (zero).
"""

from __future__ import annotations

from collections.abc import Generator, Mapping
from decimal import Decimal
from typing import Any

from ledgerlink.contract import ActionContext, Request, Response, exponent
from ledgerlink.contract.reconcile import CLEARING_SETTING, Listing, Reconcile, Record, end_of_day
from ledgerlink.errors import ConfigError, VendorError

from .api import classify, entity_url, params
from .fields import home_currency, ref_value
from .queries import quote, run_query

#: entity → the kind of record it is, in the order they are listed
KINDS = {"Invoice": "invoice", "Payment": "payment", "SalesReceipt": "payment", "CreditMemo": "credit_note",
         "RefundReceipt": "refund", "Purchase": "fee", "Deposit": "deposit", "Transfer": "payout",
         "JournalEntry": "journal"}
#: the actions that create each entity (a link's target_type) → the entity
ENTITIES = {"quickbooks.create_invoice": "Invoice", "quickbooks.create_payment": "Payment",
            "quickbooks.create_sales_receipt": "SalesReceipt", "quickbooks.create_credit_memo": "CreditMemo",
            "quickbooks.create_refund_receipt": "RefundReceipt", "quickbooks.create_purchase": "Purchase",
            "quickbooks.create_deposit": "Deposit", "quickbooks.create_transfer": "Transfer",
            "quickbooks.create_journal_entry": "JournalEntry"}
PAGE = 1000
#: the connection setting naming the clearing account (its Id or full name)


def _minor(value: Any, currency: str) -> int:
    """A QuickBooks amount (a Decimal read from JSON, or text) in minor units of ``currency``."""
    amount = value if isinstance(value, Decimal) else Decimal(str(value if value is not None else 0))
    return int(amount.scaleb(exponent(currency)).to_integral_value())


def record(entity: str, found: Mapping[str, Any], home: str) -> Record:
    """The neutral record of one stored ``entity``."""
    currency = (ref_value(found.get("CurrencyRef")) or home).upper()
    total = found.get("Amount") if entity == "Transfer" else found.get("TotalAmt")
    return Record(kind=KINDS[entity], id=str(found.get("Id")), amount=_minor(total, currency), currency=currency,
                  date=str(found.get("TxnDate", "")), entity=entity, label=str(found.get("PrivateNote") or ""))


def records(since: str, until: str, cursor: str | None,
            ctx: ActionContext) -> Generator[Request, Response, Listing]:
    """One page: up to 1000 entities of one type dated in ``[since, until]``; the cursor is
    ``Entity:next position``."""
    entity, position = (cursor.split(":", 1) if cursor else (next(iter(KINDS)), "1"))
    start = int(position)
    text = (f"SELECT * FROM {entity} WHERE TxnDate >= {quote(since)} AND TxnDate <= {quote(until)} "
            f"STARTPOSITION {start} MAXRESULTS {PAGE}")
    found = yield from run_query(ctx.connection.settings, entity, text)
    home = home_currency(ctx)
    listed = [record(entity, item, home) for item in found]
    if len(found) == PAGE:
        return Listing(listed, f"{entity}:{start + PAGE}")
    names = list(KINDS)
    following = names.index(entity) + 1
    return Listing(listed, f"{names[following]}:1" if following < len(names) else None)


def _data_rows(rows: Any) -> list[Mapping[str, Any]]:
    """Every ``Data`` row of a report's ``Rows``, sections opened (QBO nests rows in them)."""
    found: list[Mapping[str, Any]] = []
    for row in (rows or {}).get("Row") or [] if isinstance(rows, Mapping) else []:
        if not isinstance(row, Mapping):
            continue
        if isinstance(row.get("ColData"), list) and row.get("type", "Data") == "Data":
            found.append(row)
        found += _data_rows(row.get("Rows"))
    return found


def _cell(value: Any) -> Decimal:
    text = str(value or "").replace(",", "").strip()
    try:
        return Decimal(text) if text else Decimal(0)
    except ArithmeticError:
        raise VendorError(f"QuickBooks answered the trial balance with the amount {value!r}", kind="retry") from None


def balance(at: str, ctx: ActionContext) -> Generator[Request, Response, Mapping[str, int]]:
    """The clearing account's balance at the end of ``at``, debit positive, in the home currency."""
    wanted = str(ctx.connection.settings.get(CLEARING_SETTING) or "").strip()
    if not wanted:
        raise ConfigError(f"connection {ctx.connection.name!r} has no {CLEARING_SETTING}: name the account Stripe's "
                          f"money is booked into, by its name or Id (e.g. clearing_account = \"Stripe USD\")")
    day, _ = end_of_day(at)
    response = yield Request("GET", entity_url(ctx.connection.settings, "reports") + "/TrialBalance",
                             params={**params(None), "end_date": day}, headers={"Accept": "application/json"})
    error = classify(response)
    if error is not None:
        raise error
    report = response.json if isinstance(response.json, Mapping) else {}
    if not isinstance(report.get("Header"), Mapping):
        raise VendorError("QuickBooks answered reports/TrialBalance without a report Header", kind="retry")
    currency = str(report["Header"].get("Currency") or home_currency(ctx)).upper()
    for row in _data_rows(report.get("Rows")):
        cells = row["ColData"]
        first = cells[0] if cells and isinstance(cells[0], Mapping) else {}
        if wanted in (str(first.get("id") or ""), str(first.get("value") or "")):
            debit = _cell(cells[1].get("value") if len(cells) > 1 and isinstance(cells[1], Mapping) else None)
            credit = _cell(cells[2].get("value") if len(cells) > 2 and isinstance(cells[2], Mapping) else None)
            return {currency: _minor(debit - credit, currency)}
    return {currency: 0}


RECONCILE = Reconcile(records=records, entities=ENTITIES, kinds=tuple(dict.fromkeys(KINDS.values())),
                      balance=balance)
