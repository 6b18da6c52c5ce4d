"""The QuickBooks connector's part in ``ledgerlink demo``: a connection to its loopback sandbox
and the amount a refused journal entry, invoice or other sales form was to book."""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal, InvalidOperation
from typing import Any

from ledgerlink.contract import Demo


def booked_amount(data: Mapping[str, Any]) -> tuple[Decimal, str] | None:
    """What a mapped input was to book: its ``Amount`` or the sum of its Debit lines, in its
    ``CurrencyRef``; None when the input says neither (or the total is zero)."""
    currency = data.get("CurrencyRef")
    currency = currency.get("value") if isinstance(currency, dict) else currency
    try:
        if "Amount" in data:
            total = Decimal(str(data["Amount"]))
        else:
            total = sum((Decimal(str(line["Amount"])) for line in data.get("Lines") or []
                         if isinstance(line, dict) and line.get("PostingType") == "Debit"), Decimal(0))
    except (InvalidOperation, KeyError, TypeError):
        return None
    if not total or not isinstance(currency, str):
        return None
    return total, currency


DEMO = Demo(
    # the realm the sandbox seeds, the home currency of its company, and the access token it
    # always accepts
    settings={"realm_id": "9130350000000000", "home_currency": "USD",
              "access_token": "sandbox-access-token"},
    entry_title="QuickBooks entry",
    amount=booked_amount,
)
