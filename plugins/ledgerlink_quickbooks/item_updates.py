"""``quickbooks.update_item``: change fields of a QuickBooks item (product or service).

A sparse update, as :mod:`.updates` makes for invoices and customers: the item is read for its
``SyncToken``, only the fields given are sent (``"sparse": true``), nothing when it holds them
already, and a stale SyncToken (5010) is read again and retried once (:mod:`.synctoken`).
QuickBooks keeps an item's ``Name`` unique among items and refuses one in use (6240), with its
message. The action declares the entity it writes (``Item``), so QuickBooks' webhook about
this very change is known as ledgerlink's echo (``quickbooks.item.updated`` declares it too).
"""

from __future__ import annotations

from collections.abc import Generator, Mapping
from typing import Any

from ledgerlink import contract
from ledgerlink.contract import Action, ActionContext, Problems, Request, Response

from .fields import MAX_TEXT
from .items import MAX_NAME
from .synctoken import sparse_update
from .updates import (Field, boolean_field, posted, text_field, update_fields, update_input_schema, update_output,
                      update_output_schema)

UPDATE_ITEM_NAME = "quickbooks.update_item"


def _price(value: Any, problems: Problems) -> Any:
    price = contract.amount(value, "/UnitPrice", "UnitPrice", problems, sign="nonnegative")
    return None if price is None else contract.plain(price)


ITEM_FIELDS = (
    Field("Name", text_field("Name", MAX_NAME, empty=False),
          {"type": "string", "minLength": 1, "maxLength": MAX_NAME,
           "description": "The new name (unique among items; QuickBooks refuses one in use, code 6240)."}),
    Field("Description", text_field("Description", MAX_TEXT),
          {"type": "string", "maxLength": MAX_TEXT,
           "description": "The new sales description, printed on sales forms."}),
    Field("UnitPrice", _price,
          {"type": ["string", "number"], "pattern": "^[0-9]+(\\.[0-9]+)?$",
           "description": "The new default sales price: a decimal string such as \"10.00\" (an exact "
                          "Decimal, never a float)."}),
    Field("Active", boolean_field("Active"),
          {"type": "boolean", "description": "false makes the item inactive (QuickBooks' way of deleting it), "
                                             "true active again."}),
)

ITEM_SAMPLE = {"Id": "21", "Name": "Bird food subscription", "UnitPrice": "12.00"}


def update_item(input: Mapping[str, Any], ctx: ActionContext) -> Generator[Request, Response, dict[str, Any]]:
    """Change the fields given of an item (a sparse update), retried once on a stale SyncToken."""
    target, fields = update_fields(UPDATE_ITEM_NAME, "a QuickBooks item update", input, ITEM_FIELDS)
    done = yield from sparse_update(ctx, UPDATE_ITEM_NAME, "Item", "item", target, fields)
    return update_output(done, fields, {"name": done.entity.get("Name"),
                                        "active": done.entity.get("Active", True) is not False})


_TIME = "2024-03-15T10:00:00.000-07:00"
_SAMPLE_ITEM = {"Id": "21", "SyncToken": "1", "Name": "Bird food", "Type": "Service", "Active": True,
                "UnitPrice": "10.00", "IncomeAccountRef": {"value": "79", "name": "Sales of Product Income"}}


def _item_sample(request: Request) -> Response:
    if request.method == "GET":
        return Response(status=200, json={"Item": dict(_SAMPLE_ITEM), "time": _TIME})
    return Response(status=200, json={"Item": posted(request, _SAMPLE_ITEM), "time": _TIME})


UPDATE_ITEM = Action(
    name=UPDATE_ITEM_NAME,
    summary="Change fields of a QuickBooks item (name, description, price, active): a sparse update "
            "sending only those, retried once on a stale SyncToken.",
    input_schema=update_input_schema("update a QuickBooks item (sparse)", "item to change", "Item", ITEM_FIELDS),
    output_schema=update_output_schema({
        "name": {"type": "string", "description": "The item's Name after the update."},
        "active": {"type": "boolean", "description": "Whether the item is active after the update."}}),
    sample=ITEM_SAMPLE, perform=update_item, sample_response=_item_sample, idempotency="key", entity="Item")

__all__ = ["ITEM_FIELDS", "UPDATE_ITEM", "update_item"]
