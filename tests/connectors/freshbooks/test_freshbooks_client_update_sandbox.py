"""freshbooks.update_client against the FreshBooks sandbox on loopback: only the fields that
differ are sent, nothing when the client holds them already, a deleted client refused."""

from __future__ import annotations

import pytest

from fb_connector import context, objects, sandbox
from ledgerlink.errors import InputError, VendorError
from ledgerlink.testing import LinkTable, drive
from ledgerlink_freshbooks.client_update import UPDATE_CLIENT
from ledgerlink_freshbooks.clients import FIND_OR_CREATE_CLIENT

MADE = {"source_id": "cus_Upd1", "organization": "Ridgeway University", "email": "ap@ridgeway.example"}


def test_only_what_differs_is_sent_and_a_second_update_sends_nothing():
    with sandbox() as (loop, _, send):
        client = drive(FIND_OR_CREATE_CLIENT.perform(MADE, context(loop)), send, LinkTable()).value
        change = {"clientid": client["id"], "organization": "Ridgeway University Ltd", "email": "ap@ridgeway.example"}
        done = drive(UPDATE_CLIENT.perform(change, context(loop, key="update")), send)
        assert done.value == {"id": client["id"], "status": "updated", "changed": ["organization"]}
        assert [r.method for r in done.requests] == ["GET", "PUT"]
        assert done.requests[1].json == {"client": {"organization": "Ridgeway University Ltd"}}
        (kept,) = [c for c in objects(loop, "clients") if str(c["id"]) == client["id"]]
        assert (kept["organization"], kept["email"], kept["note"]) == (
            "Ridgeway University Ltd", "ap@ridgeway.example", "ledgerlink source cus_Upd1")
        again = drive(UPDATE_CLIENT.perform(change, context(loop, key="update-again")), send)
        assert again.value["status"] == "unchanged" and [r.method for r in again.requests] == ["GET"]


def test_a_deleted_client_is_refused_and_an_input_without_a_field_never_sent():
    with sandbox() as (loop, _, send):
        client = drive(FIND_OR_CREATE_CLIENT.perform(MADE, context(loop)), send, LinkTable()).value
        drive(FIND_OR_CREATE_CLIENT.undo(client["id"], context(loop)), send)
        with pytest.raises(VendorError, match="restore it in FreshBooks first"):
            drive(UPDATE_CLIENT.perform({"clientid": client["id"], "email": "x@example.com"}, context(loop)), send)
        with pytest.raises(InputError, match="no field to change") as refused:
            drive(UPDATE_CLIENT.perform({"clientid": "0"}, context(loop)), send)
        assert "clientid" in str(refused.value)
