"""xero.update_contact against the Xero sandbox over loopback HTTP, each request held to Xero's
strict spec: only the fields that differ are sent, nothing when the contact holds them
already (Xero read back holds the new name), a name another contact has refused with Xero's
message."""

from __future__ import annotations

import pytest

from ledgerlink.errors import InputError, VendorError
from ledgerlink.testing import LinkTable, drive
from ledgerlink_xero.contact_update import UPDATE_CONTACT
from ledgerlink_xero.contacts import FIND_OR_CREATE_CONTACT
import test_xero_actions_sandbox as actions
from test_xero_actions_sandbox import ctx

#: the served Xero sandbox and a sender held to Xero's spec (the actions' fixture)
xero = actions.xero

RIDGEWAY = {"source_id": "cus_U1", "Name": "Ridgeway University", "EmailAddress": "ap@ridgeway.example"}


def _contact(settings, send, customer=RIDGEWAY, key="k-contact"):
    return drive(FIND_OR_CREATE_CONTACT.perform(customer, ctx(settings, key)), send, links=LinkTable()).value


def test_only_what_differs_is_sent_and_a_second_update_sends_nothing(xero):
    served, settings, send, _ = xero
    contact = _contact(settings, send)
    change = {"ContactID": contact["id"], "Name": "Ridgeway University Ltd", "EmailAddress": "ap@ridgeway.example"}
    done = drive(UPDATE_CONTACT.perform(change, ctx(settings, "k-update")), send)
    assert done.value == {"id": contact["id"], "status": "updated", "changed": ["Name"]}
    assert [r.method for r in done.requests] == ["GET", "POST"]
    assert done.requests[1].json == {"Contacts": [{"ContactID": contact["id"], "Name": "Ridgeway University Ltd"}]}
    assert done.requests[1].headers["Idempotency-Key"]
    read = drive(UPDATE_CONTACT.perform({**change, "Name": "Ridgeway University Ltd"}, ctx(settings, "k-again")), send)
    assert read.value["status"] == "unchanged" and [r.method for r in read.requests] == ["GET"]
    again = drive(UPDATE_CONTACT.perform({"ContactID": contact["id"], "EmailAddress": "ap@ridgeway.example"},
                                         ctx(settings, "k-email")), send)
    assert again.value["status"] == "unchanged"


def test_a_name_in_use_is_refused_with_xeros_message_and_bad_input_is_never_sent(xero):
    served, settings, send, _ = xero
    ours = _contact(settings, send)
    other = _contact(settings, send, {"source_id": "cus_U2", "Name": "Acme"}, key="k-other")
    with pytest.raises(VendorError, match="already assigned to another contact"):
        drive(UPDATE_CONTACT.perform({"ContactID": ours["id"], "Name": "Acme"}, ctx(settings, "k-taken")), send)
    with pytest.raises(InputError, match="no field to change") as refused:
        drive(UPDATE_CONTACT.perform({"ContactID": "cus_U1"}, ctx(settings, "k-bad")), send)
    assert "ContactID must be a Xero id" in str(refused.value)
    assert other["id"] != ours["id"]
