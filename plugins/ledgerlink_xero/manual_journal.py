"""``xero.create_manual_journal``: a balanced manual journal in the base currency, exactly once.

``PUT /ManualJournals?summarizeErrors=false`` with the step's ``Idempotency-Key``
(https://developer.xero.com/documentation/api/accounting/manualjournals). Each input line is
a ``Debit`` or a ``Credit`` (positive decimals); Xero's ``LineAmount`` is the debit positive,
the credit negative ([spec] ``ManualJournalLine.LineAmount``). At least two lines, and the
debits equal the credits exactly: Xero refuses anything else ("The total debits (100.00) must
equal total credits (-10.00)"), so it is refused here before a request exists, naming both
totals. At most two tracking categories a line. No line may be on a bank account: Xero
refuses that (https://help.xero.com/nz/Q_JournalBankAcc); a bank account moves by a bank
transaction or transfer. Manual journals are in the base currency,
so amounts are exact in its decimals. The journal is found again by its ``Narration`` (which
should carry the source id) and date, matched on its lines; undo voids a posted journal and
deletes a draft.
"""

from __future__ import annotations

from collections.abc import Generator, Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from ledgerlink.contract import ActionContext, Request, Response, answer_decimal, total
from ledgerlink.contract.problems import begin, date, line_objects, text
from ledgerlink.contract.writes import CreateSteps, Schemas, create_action

from . import api
from .errors import classify
from .fields import DEFAULT_BASE_CURRENCY, MONEY, amount_in_xero, code, string
from .undo import status_undo

MAX_TRACKING = 2
LINE_KEYS = ("AccountCode", "Debit", "Credit", "Description", "TaxType", "Tracking")

TRACKING = {"type": "array", "maxItems": MAX_TRACKING,
            "description": "At most two tracking categories, each a Name and an Option.",
            "items": {"type": "object", "additionalProperties": False, "required": ["Name", "Option"],
                      "properties": {"Name": string("The tracking category's name."),
                                     "Option": string("The option chosen in that category.")}}}

INPUT_SCHEMA = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "title": "a balanced Xero manual journal",
    "type": "object",
    "required": ["Narration", "Date", "JournalLines"],
    "additionalProperties": False,
    "properties": {
        "Narration": string("What the journal is for, with the source id (e.g. \"Stripe payout po_…\"): how it "
                            "is found again; at most 4000 characters.", minLength=1),
        "Date": string("The journal date, YYYY-MM-DD.", format="date"),
        "Status": {"enum": ["DRAFT", "POSTED"], "description": "DRAFT or POSTED (default: POSTED)."},
        "JournalLines": {"type": "array", "minItems": 2, "description": "The lines: debits equal credits.",
                         "items": {"type": "object", "additionalProperties": False, "required": ["AccountCode"],
                                   "properties": {
                                       "AccountCode": string("The account's code (not a bank account's).",
                                                             **{"x-ledgerlink-ref": "JournalAccount"}),
                                       "Debit": {**MONEY, "description": "A debit, a positive decimal."},
                                       "Credit": {**MONEY, "description": "A credit, a positive decimal."},
                                       "Description": string("The line's description."),
                                       "TaxType": string("A tax rate's TaxType (default: the account's).",
                                                         **{"x-ledgerlink-ref": "TaxRate"}),
                                       "Tracking": TRACKING}}},
    },
}

OUTPUT_SCHEMA = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "type": "object",
    "required": ["id"],
    "properties": {"id": string("The Xero ManualJournalID."),
                   "status": string("The journal's Status in Xero."),
                   "total": string("The total of its debits (= its credits)."),
                   "currency": string("Its currency: the organisation's base currency (a manual journal has no "
                                      "other), as the connection's base_currency names it.")},
}

#: (a journal cannot post to a bank account in Xero: the payout's side is a current asset here)
SAMPLE = {"Narration": "Stripe payout po_1QFzvY2eZvKYlo2C", "Date": "2026-11-30",
          "JournalLines": [{"AccountCode": "610", "Debit": "96.80", "Description": "Payout on its way to the bank"},
                           {"AccountCode": "404", "Debit": "3.20", "Description": "Stripe fees"},
                           {"AccountCode": "200", "Credit": "100.00", "Description": "Sales"}]}


@dataclass(frozen=True)
class BuiltJournal:
    body: dict[str, Any]
    total: Decimal
    currency: str = DEFAULT_BASE_CURRENCY


def build(data: Mapping[str, Any], ctx: ActionContext) -> BuiltJournal:
    problems = begin("xero.create_manual_journal", "a Xero manual journal", data, INPUT_SCHEMA["properties"])
    base = str(ctx.connection.settings.get("base_currency") or DEFAULT_BASE_CURRENCY).upper()
    body: dict[str, Any] = {"Narration": text(data.get("Narration"), "/Narration", "Narration", 4000, problems,
                                              keeper="Xero"),
                            "Date": date(data.get("Date"), "/Date", problems),
                            "Status": data.get("Status", "POSTED"), "LineAmountTypes": "NoTax"}
    if body["Status"] not in ("DRAFT", "POSTED"):
        problems.add("/Status", "must be DRAFT or POSTED")
    lines, debits, credits = [], [], []
    raw_lines = data.get("JournalLines")
    if isinstance(raw_lines, list) and len(raw_lines) == 1:
        problems.add("/JournalLines", "a manual journal needs at least two lines (Xero refuses one)")
    for index, where, raw in line_objects(raw_lines, LINE_KEYS, ("AccountCode",), problems,
                                          array_of="journal lines", field="JournalLines",
                                          line_is="an object with AccountCode and a Debit or a Credit"):
        if ("Debit" in raw) == ("Credit" in raw):
            problems.add(where, f"line {index} needs exactly one of Debit and Credit")
            continue
        side = "Debit" if "Debit" in raw else "Credit"
        value = amount_in_xero(raw[side], base, f"{where}/{side}", side, problems)
        line: dict[str, Any] = {"AccountCode": code(raw.get("AccountCode"), f"{where}/AccountCode", "AccountCode",
                                                    problems, limit=10)}
        if value is not None:
            (debits if side == "Debit" else credits).append(value)
            line["LineAmount"] = value if side == "Debit" else -value
        if "Description" in raw:
            line["Description"] = text(raw["Description"], f"{where}/Description", "Description", 4000, problems,
                                       keeper="Xero")
        if "TaxType" in raw:
            line["TaxType"] = code(raw["TaxType"], f"{where}/TaxType", "TaxType", problems)
        tracking = raw.get("Tracking")
        if tracking is not None:
            if not isinstance(tracking, list) or len(tracking) > MAX_TRACKING \
                    or not all(isinstance(t, Mapping) and set(t) == {"Name", "Option"} for t in tracking):
                problems.add(f"{where}/Tracking", f"must be at most {MAX_TRACKING} objects of Name and Option "
                                                  f"(Xero drops a tracking it cannot read without a word)")
            else:
                line["Tracking"] = [{"Name": str(t["Name"]), "Option": str(t["Option"])} for t in tracking]
        lines.append(line)
    if debits and credits and total(debits) != total(credits):
        problems.add("/JournalLines", f"the total debits ({total(debits)}) must equal the total credits "
                                      f"({total(credits)}), as Xero requires")
    elif lines and not (debits and credits) and problems.count() == 0:
        problems.add("/JournalLines", "a journal needs both debits and credits")
    body["JournalLines"] = lines
    problems.raise_if_any()
    return BuiltJournal(body=body, total=total(debits), currency=base)


def _output(journal: Mapping[str, Any], built: BuiltJournal) -> dict[str, Any]:
    return {"id": str(journal["ManualJournalID"]), "status": str(journal.get("Status") or built.body["Status"]),
            "total": str(built.total), "currency": built.currency}


def read(response: Response, built: BuiltJournal) -> dict[str, Any]:
    return _output(api.created(response, "ManualJournals", "manual journal", "ManualJournalID"), built)


def lookup(built: BuiltJournal, ctx: ActionContext) -> Generator[Request, Response, list[dict[str, Any]]]:
    """The manual journals with the same Narration."""
    request = api.read(ctx, "ManualJournals", where=api.where_all([("Narration", built.body["Narration"])]))
    return api.elements((yield request), "ManualJournals", "manual journal")


def matches(stored: Mapping[str, Any], built: BuiltJournal, ctx: ActionContext) -> bool:
    """The same date and lines (account and amount), not deleted or voided."""
    def lines(journal_lines: Any) -> list[tuple[str, Decimal | None]]:
        return sorted(((str(line.get("AccountCode")), answer_decimal(line.get("LineAmount")))
                       for line in journal_lines or [] if isinstance(line, Mapping)), key=str)
    return (stored.get("Status") not in ("DELETED", "VOIDED")
            and str(api.xero_date(stored.get("Date"))) == built.body["Date"]
            and lines(stored.get("JournalLines")) == lines(built.body["JournalLines"]))


SAMPLE_RESPONSE = {"Id": "2b4c6a1e-0000-4000-8000-000000000030", "Status": "OK", "ManualJournals": [{
    "ManualJournalID": "4c8d2e1f-6a7b-4c9d-8e0f-1a2b3c4d5e6f", "Status": "POSTED",
    "Narration": SAMPLE["Narration"], "StatusAttributeString": "OK"}]}

ACTION = create_action(
    name="xero.create_manual_journal",
    summary="Creates a balanced Xero manual journal (debits positive, credits negative), exactly once.",
    what="a Xero manual journal",
    lookup_keys="Narration",
    schemas=Schemas(input=INPUT_SCHEMA, output=OUTPUT_SCHEMA, sample=SAMPLE, sample_response=SAMPLE_RESPONSE),
    steps=CreateSteps(build=build,
                      request=lambda built, ctx: api.create(ctx, "ManualJournals", built.body,
                                                            "xero.create_manual_journal"),
                      classify=classify, read=read, read_stored=_output, lookup=lookup, matches=matches),
    # Xero's spec requires Narration on every ManualJournal written, a status change too
    undo=status_undo("ManualJournals", "ManualJournalID", "manual journal",
                     target=lambda status: "DELETED" if status == "DRAFT" else "VOIDED",
                     body=lambda journal_id, status, read: {"ManualJournals": [{
                         "ManualJournalID": journal_id, "Narration": str(read.get("Narration") or ""),
                         "Status": status}]}),
)
