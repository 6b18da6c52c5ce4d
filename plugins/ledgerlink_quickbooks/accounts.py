"""``quickbooks.find_account``: one account of the chart of accounts, by name or by number.

Read-only. Exactly one of ``Name`` and ``AcctNum`` names the account:

- ``Name`` is queried in the QBO query language (``Name = '…'``, the value escaped), inactive
  accounts included (``Active IN (true, false)``: a query naming no ``Active`` answers active
  ones only, and an inactive account must be reported as such, not as missing). A name with
  colons (``"Bank Fees:Stripe"``) is a full name, matched against ``FullyQualifiedName`` among
  the accounts with its last part as Name; a bare name two sub-accounts share is refused as
  ambiguous.
- ``AcctNum`` is not filterable in QBO's query language, so the chart of accounts is read
  (1000 accounts a request) and the number matched here.

An inactive account is an error naming it unless ``require_active`` is false (QuickBooks
refuses to post to it). Not found: ``id`` null, or an error when ``required`` is true.
"""

from __future__ import annotations

from collections.abc import Generator, Mapping
from typing import Any

from ledgerlink import contract
from ledgerlink.contract import Action, ActionContext, Request, Response
from ledgerlink.errors import VendorError

from . import queries

ACTION_NAME = "quickbooks.find_account"
#: QBO answers at most this many entities a query
PAGE = 1000
#: and reads the chart of accounts at most this many pages deep when looking for a number
MAX_PAGES = 20

INPUT_SCHEMA = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "title": "find a QuickBooks account by name or number",
    "type": "object",
    "additionalProperties": False,
    "oneOf": [{"required": ["Name"]}, {"required": ["AcctNum"]}],
    "properties": {
        "Name": {"type": "string", "minLength": 1, "maxLength": 100,
                 "description": "The account's name, e.g. \"Undeposited Funds\", or its full name "
                                "with colons for a sub-account, e.g. \"Bank Fees:Stripe\". Give "
                                "Name or AcctNum, not both."},
        "AcctNum": {"type": "string", "minLength": 1, "maxLength": 20,
                    "description": "The account's number in the chart of accounts, e.g. \"1200\" "
                                   "(when the company numbers its accounts). Give Name or AcctNum, "
                                   "not both."},
        "require_active": {"type": "boolean", "default": True,
                           "description": "true (the default): an inactive account is an error "
                                          "naming it, since QuickBooks posts nothing to it; false: "
                                          "it is returned with active false."},
        "required": {"type": "boolean", "default": False,
                     "description": "true: no such account is an error; false (the default): the "
                                    "output's id is null."},
    },
}

OUTPUT_SCHEMA = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "type": "object",
    "required": ["id"],
    "properties": {
        "id": {"type": ["string", "null"], "description": "The account's QuickBooks Id (null: not found)."},
        "name": {"type": ["string", "null"], "description": "The account's Name."},
        "number": {"type": ["string", "null"],
                   "description": "The account's number (AcctNum); null when it has none."},
        "type": {"type": ["string", "null"],
                 "description": "The account's AccountType, e.g. \"Bank\", \"Income\", \"Other "
                                "Current Asset\"."},
        "active": {"type": ["boolean", "null"], "description": "Whether the account is active."},
    },
}

SAMPLE = {"Name": "Undeposited Funds"}

_KEYS = ("Name", "AcctNum", "require_active", "required")


def _read(input: Any) -> tuple[str, str, bool, bool]:
    """(``"Name"`` or ``"AcctNum"``, its value, require_active, required), checked."""
    problems = contract.Problems(ACTION_NAME, "an account lookup")
    if not isinstance(input, Mapping):
        problems.add("/", f"the input must be an object, got {contract.show(input)}")
        problems.raise_if_any()
    contract.unknown_keys(input, _KEYS, "", "input key", problems)
    given = [key for key in ("Name", "AcctNum") if key in input]
    if len(given) != 1:
        problems.add("/", "give exactly one of Name and AcctNum" + (", not both" if given else ""))
    for key in given:
        value = input[key]
        if not isinstance(value, str) or not value.strip():
            problems.add(f"/{key}", f"{key} must be a non-empty string, got {contract.show(value)}")
    flags = {}
    for key, default in (("require_active", True), ("required", False)):
        value = input.get(key, default)
        if not isinstance(value, bool):
            problems.add(f"/{key}", f"{key} must be true or false, got {contract.show(value)}")
        flags[key] = value is True
    problems.raise_if_any()
    key = given[0]
    return key, input[key], flags["require_active"], flags["required"]


def _query(ctx: ActionContext, where: str, start: int) -> Generator[Request, Response, list[dict[str, Any]]]:
    text = f"SELECT * FROM Account WHERE {where} STARTPOSITION {start} MAXRESULTS {PAGE}"
    rows = yield from queries.run_query(ctx.connection.settings, "Account", text)
    return [dict(row) for row in rows if row.get("Id")]


def _by_name(ctx: ActionContext, name: str) -> Generator[Request, Response, list[dict[str, Any]]]:
    leaf = name.rsplit(":", 1)[-1]
    rows = yield from _query(ctx, f"Name = {queries.quote(leaf)} AND Active IN (true, false)", 1)
    if ":" in name:
        rows = [row for row in rows if row.get("FullyQualifiedName") == name]
    return rows


def _by_number(ctx: ActionContext, number: str) -> Generator[Request, Response, list[dict[str, Any]]]:
    found: list[dict[str, Any]] = []
    for page in range(MAX_PAGES):
        rows = yield from _query(ctx, "Active IN (true, false)", page * PAGE + 1)
        found += [row for row in rows if str(row.get("AcctNum") or "") == number]
        if len(rows) < PAGE:
            return found
    raise VendorError(f"{ACTION_NAME}: the chart of accounts has more than {MAX_PAGES * PAGE} accounts, "
                      f"and account number {number!r} is not among the first {MAX_PAGES * PAGE}; find the "
                      f"account by Name instead", kind="permanent")


def find_account(input: Mapping[str, Any], ctx: ActionContext) -> Generator[Request, Response, dict[str, Any]]:
    """The account named ``Name`` or numbered ``AcctNum``: id, name, number, type, active."""
    key, value, require_active, required = _read(input)
    what = f"named {value!r}" if key == "Name" else f"numbered {value!r}"
    rows = yield from (_by_name(ctx, value) if key == "Name" else _by_number(ctx, value))
    if len(rows) > 1:
        names = ", ".join(f"{row.get('FullyQualifiedName') or row.get('Name')!r} (Id {row['Id']})"
                          for row in rows)
        raise VendorError(f"{ACTION_NAME}: {len(rows)} QuickBooks accounts are {what}: {names}; "
                          f"give the full name with its parent (\"Parent:Child\")"
                          + (" or the AcctNum" if key == "Name" else ""), kind="permanent")
    if not rows:
        if required:
            raise VendorError(f"{ACTION_NAME}: no QuickBooks account is {what} (inactive ones "
                              f"included); check the chart of accounts or the recipe", kind="permanent")
        return {"id": None, "name": None, "number": None, "type": None, "active": None}
    account = rows[0]
    active = account.get("Active") is not False
    label = account.get("FullyQualifiedName") or account.get("Name")
    if require_active and not active:
        raise VendorError(f"{ACTION_NAME}: the QuickBooks account {label!r} (Id {account['Id']}"
                          + (f", number {account['AcctNum']}" if account.get("AcctNum") else "")
                          + ") is inactive, and QuickBooks posts nothing to an inactive account; "
                            "make it active again (Accounting > Chart of accounts, include "
                            "inactive, Make active) or map another account", kind="permanent")
    number = account.get("AcctNum")
    return {"id": str(account["Id"]), "name": str(account.get("Name", "")),
            "number": str(number) if number not in (None, "") else None,
            "type": account.get("AccountType"), "active": active}


def _sample_response(request: Request) -> Response:
    return Response(status=200, json={"QueryResponse": {"Account": [
        {"Id": "4", "SyncToken": "0", "Name": "Undeposited Funds", "FullyQualifiedName": "Undeposited Funds",
         "AcctNum": "1200", "AccountType": "Other Current Asset", "AccountSubType": "UndepositedFunds",
         "Classification": "Asset", "Active": True, "SubAccount": False}],
        "startPosition": 1, "maxResults": 1}, "time": "2024-03-15T10:00:00.000-07:00"})


ACTION = Action(
    name=ACTION_NAME,
    summary="Find a QuickBooks account by name or by number (read-only): its id, name, number, "
            "type and whether it is active; an inactive one is an error unless allowed.",
    input_schema=INPUT_SCHEMA, output_schema=OUTPUT_SCHEMA, sample=SAMPLE,
    perform=find_account, sample_response=_sample_response, idempotency="none")

ACTIONS = (ACTION,)

__all__ = ["ACTION", "ACTIONS", "find_account"]
