"""Credit notes (``/accounting/account/{account_id}/credit_notes/credit_notes``).

FreshBooks has credit notes as their own resource (https://www.freshbooks.com/api/credit_notes;
FreshBooks' Python SDK serves them as ``credit_notes``, single ``credit_note``): a note to a
client (``clientid``), dated (``create_date``), in a currency (the client's unless given), with
lines as an invoice has them (``qty`` × ``unit_cost``, taxes by name and percentage; answered
only with ``include[]=lines``). Its ``amount`` is the lines and their taxes. FreshBooks keeps
the amount as the client's credit, to be applied to invoices or refunded; the sandbox's ledger
books it against accounts receivable (:mod:`.ledger`). No recorded answer of a credit note was
found: the fields answered are the sandbox's reading of FreshBooks' page, named like the
invoice's.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from . import errors, resources
from .businesses import Business
from .errors import Problem
from .invoices import lines_of, totals
from .money import currency_of, money

WRITABLE = ("notes", "terms", "language", "credit_type", "credit_number")


def _client(business: Business, number: Any, problems: list[Problem]) -> dict[str, Any] | None:
    found = business.get("clients", number) if isinstance(number, int) else None
    if found is None or found.get("vis_state") == 1:
        problems.append(Problem(errors.NOT_FOUND, "Client not found.", "clientid", "credit_note", str(number)))
    return found


def _work_out(note: dict[str, Any]) -> None:
    net, tax, _discount = totals(note)
    note["amount"] = money(net + tax, note["currency_code"])
    note["paid"] = money(Decimal(0), note["currency_code"])


def create(business: Business, fields: dict[str, Any]) -> tuple[dict[str, Any] | None, list[Problem]]:
    problems: list[Problem] = []
    client = _client(business, fields.get("clientid"), problems)
    date = str(fields.get("create_date", ""))
    if not resources.DATE.match(date):
        problems.append(Problem(errors.INVALID_FIELD, "create_date must be YYYY-MM-DD.", "create_date",
                                "credit_note", date))
    currency = currency_of(fields.get("currency_code"), (client or {}).get("currency_code") or business.currency,
                           "credit_note", problems)
    lines = lines_of(fields.get("lines"), "credit_note", currency, problems, business.now())
    if not lines and not problems:
        problems.append(Problem(errors.INVALID_FIELD, "A credit note needs at least one line.", "lines", "credit_note"))
    if problems:
        return None, problems
    number = len(business.all("credit_notes")) + 1
    note = {"accounting_systemid": business.account_id, "clientid": fields["clientid"], "create_date": date,
            "credit_number": fields.get("credit_number") or f"CN{number:05d}", "credit_type": "credit",
            "currency_code": currency, "display_status": "draft", "status": "created", "language": "en",
            "lines": lines, "notes": "", "terms": "", "organization": (client or {}).get("organization", ""),
            "fname": (client or {}).get("fname", ""), "lname": (client or {}).get("lname", ""),
            "updated": business.now(), "vis_state": 0,
            **{key: fields[key] for key in WRITABLE if key in fields}}
    _work_out(note)
    saved = business.add("credit_notes", note)
    for line in saved["lines"]:
        line["creditid"] = saved["id"]
    return saved, []


def update(business: Business, note: dict[str, Any], changes: dict[str, Any]) -> list[Problem]:
    problems: list[Problem] = []
    lines = lines_of(changes["lines"], "credit_note", note["currency_code"], problems, business.now()) \
        if "lines" in changes else None
    if problems:
        return problems
    note.update({key: changes[key] for key in (*WRITABLE, "create_date") if key in changes})
    if lines is not None:
        note["lines"] = [{**line, "creditid": note["id"]} for line in lines]
    _work_out(note)
    return []


CREDIT_NOTES = resources.register(resources.Kind(
    collection="credit_notes", path="credit_notes/credit_notes", singular="credit_note",
    create_schema="CreditNoteCreateObject", update_schema="CreditNoteCreateObject", create=create, update=update,
    includes=("lines",), event="credit_note"))

__all__ = ["CREDIT_NOTES"]
