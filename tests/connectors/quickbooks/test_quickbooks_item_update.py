"""quickbooks.update_item against the QuickBooks sandbox over HTTP (each body checked against
QuickBooks' XSD): a sparse update of the fields given, nothing sent when the item holds them,
a stale SyncToken read again, a name in use refused; and the ``quickbooks.item.*`` triggers
that tell of an item's change."""

from __future__ import annotations

from decimal import Decimal

import pytest

from ledgerlink.contract import Request
from ledgerlink.errors import VendorError
from ledgerlink_quickbooks.item_updates import UPDATE_ITEM
from test_quickbooks_items_updates import FIND_OR_CREATE_ITEM, ITEM, http_get, posts, run, touch


def test_an_item_update_sends_only_what_it_names_and_nothing_when_it_holds_it(qbo, sandbox):
    made = run(qbo, FIND_OR_CREATE_ITEM, ITEM, "item-made")
    sent: list[Request] = []
    out = run(qbo, UPDATE_ITEM, {"Id": made["id"], "Name": "Bird seed, 5 kg", "UnitPrice": "14.00"}, "item-1", sent=sent)
    assert posts(sent)[0].json == {"Id": made["id"], "SyncToken": "0", "sparse": True,
                                   "Name": "Bird seed, 5 kg", "UnitPrice": Decimal("14.00")}
    assert out == {"id": made["id"], "sync_token": "1", "status": "updated", "changed": ["Name", "UnitPrice"],
                   "name": "Bird seed, 5 kg", "active": True}
    item = http_get(qbo, "item", made["id"])
    assert (item["Name"], Decimal(str(item["UnitPrice"])), item["Description"]) == (
        "Bird seed, 5 kg", Decimal("14.00"), "A bag of bird seed")  # the description kept
    again: list[Request] = []
    same = run(qbo, UPDATE_ITEM, {"Id": made["id"], "UnitPrice": "14.0"}, "item-2", sent=again)
    assert same["status"] == "unchanged" and posts(again) == []


def test_a_stale_item_is_read_again_and_a_name_in_use_is_refused(qbo, sandbox):
    made = run(qbo, FIND_OR_CREATE_ITEM, ITEM, "item-made")
    other = run(qbo, FIND_OR_CREATE_ITEM, {**ITEM, "source_id": "prod_suet", "Name": "Suet balls"}, "item-other")
    moved: list[dict] = []

    def someone_edits_it(request):
        if not moved:
            moved.append(touch(qbo, "item", made["id"], Description="Seed, bagged"))

    sent: list[Request] = []
    out = run(qbo, UPDATE_ITEM, {"Id": made["id"], "UnitPrice": "13.00"}, "item-stale", sent=sent,
              before_post=someone_edits_it)
    assert out["status"] == "updated" and [r.method for r in sent] == ["GET", "POST", "GET", "POST"]
    item = http_get(qbo, "item", made["id"])
    assert (item["Description"], Decimal(str(item["UnitPrice"]))) == ("Seed, bagged", Decimal("13.00"))
    with pytest.raises(VendorError) as info:
        run(qbo, UPDATE_ITEM, {"Id": made["id"], "Name": "Suet balls"}, "item-taken")
    assert info.value.vendor_code == "6240" and other["id"] != made["id"]


def test_item_triggers_say_their_entity_and_change_time(catalog):
    for operation in ("created", "updated"):
        trigger = catalog.triggers[f"quickbooks.item.{operation}"]
        assert (trigger.entity, trigger.source_id_path, trigger.changed_at_path) == ("Item", "$.entity_id", "$.changed_at")
        assert trigger.sample["data"]["Name"] and trigger.sample["entity_type"] == "Item"
    assert UPDATE_ITEM.entity == "Item"  # its write is recorded: QuickBooks' webhook about it is the echo
