"""What a step booked, as ``ledgerlink export`` lists it: :attr:`Action.entry` made from names.

Most actions answer (or are given) the booking's date, total and currency under fixed keys;
:func:`read_entry` makes their ``entry`` from those keys, read from the step's logged output
first (the ledger's own figures) and then from its input::

    entry=read_entry(date=("txn_date",), amount=("total",), currency=("currency",))
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

from ledgerlink.contract.components import Entry
from ledgerlink.contract.money import answer_decimal

Reader = Callable[[Mapping[str, Any], Mapping[str, Any]], Entry]


def read_entry(*, date: Sequence[str] = (), amount: Sequence[str] = (),
               currency: Sequence[str] = ()) -> Reader:
    """An ``entry(input, output)`` taking each of date, amount and currency from the first of
    its keys found in the output, else in the input (a currency given as ``{"value": "USD"}``
    is read from its ``value``)."""

    def first(keys: Sequence[str], data: Mapping[str, Any], output: Mapping[str, Any]) -> Any:
        for source in (output, data):
            for key in keys:
                value = source.get(key) if isinstance(source, Mapping) else None
                if isinstance(value, Mapping):
                    value = value.get("value")
                if value is not None and value != "":
                    return value
        return None

    def entry(data: Mapping[str, Any], output: Mapping[str, Any]) -> Entry:
        day, code = first(date, data, output), first(currency, data, output)
        return Entry(date=str(day)[:10] if day is not None else None,
                     amount=answer_decimal(first(amount, data, output)),
                     currency=str(code).upper() if code is not None else None)

    return entry


__all__ = ["Reader", "read_entry"]
