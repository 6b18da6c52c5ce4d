"""QuickBooks as one side of ``ledgerlink reconcile``: the transactions of a period.

Each transaction entity the connector's actions create is listed by its ``TxnDate`` through
the query language (``STARTPOSITION`` pages of 1000), one entity type after another, and
read as a neutral :class:`~ledgerlink.contract.Record`: its kind, Id, total (``TotalAmt``; a
Transfer's ``Amount``) in the currency's minor units, currency (``CurrencyRef``, the home
currency when absent) and date, labelled by its ``PrivateNote``. QuickBooks keeps no source
id of its own: a record made by hand is known by carrying no link.
"""

from __future__ import annotations

from collections.abc import Generator, Mapping
from decimal import Decimal
from typing import Any

from ledgerlink.contract import ActionContext, Request, Response, exponent
from ledgerlink.contract.reconcile import Listing, Reconcile, Record

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


RECONCILE = Reconcile(records=records, entities=ENTITIES, kinds=tuple(dict.fromkeys(KINDS.values())))
