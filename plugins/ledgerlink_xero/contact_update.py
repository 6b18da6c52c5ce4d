"""``xero.update_contact``: set a Xero contact's name, email or person's names to the given ones.

The contact is read (``GET /Contacts/{ContactID}``,
https://developer.xero.com/documentation/api/accounting/contacts); only the fields given whose
value differs are sent, as ``POST /Contacts/{ContactID}`` with ``{"Contacts": [{"ContactID",
…}]}`` (Xero changes the fields an update names and keeps the others) carrying the step's
``Idempotency-Key``. A contact that already holds every value is not written at all, so a
repeated step changes nothing. An archived contact is refused: an update does not bring it
back. Xero keeps a contact's ``Name`` unique among active contacts and refuses one in use,
with its message.

The action declares the entity it writes (``Contact``): Xero's webhook about this very change
is then known as ledgerlink's echo (``xero.contact.updated`` declares it too).
"""

from __future__ import annotations

from collections.abc import Generator, Mapping
from typing import Any

from ledgerlink.contract import Action, ActionContext, Request, Response
from ledgerlink.contract.problems import begin, text
from ledgerlink.contract.writes import update_output_schema
from ledgerlink.errors import InputError, VendorError

from . import api
from .undo import current

ACTION_NAME = "xero.update_contact"
#: the fields an update may set, and how many characters Xero keeps of each
FIELDS = {"Name": 255, "EmailAddress": 255, "FirstName": 255, "LastName": 255}
_GUID = "^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$"

INPUT_SCHEMA = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "title": "update a Xero contact",
    "type": "object",
    "required": ["ContactID"],
    "anyOf": [{"required": [name]} for name in FIELDS],
    "additionalProperties": False,
    "properties": {
        "ContactID": {"type": "string", "pattern": _GUID,
                      "description": "The Xero contact to change (its ContactID, e.g. the one linked to the "
                                     "source customer)."},
        "Name": {"type": "string", "minLength": 1, "maxLength": 255,
                 "description": "The contact's new name (unique among Xero's active contacts)."},
        "EmailAddress": {"type": "string", "maxLength": 255, "description": "The contact's email address."},
        "FirstName": {"type": "string", "maxLength": 255, "description": "The contact person's first name."},
        "LastName": {"type": "string", "maxLength": 255, "description": "The contact person's last name."},
    },
}

OUTPUT_SCHEMA = update_output_schema(vendor="Xero", what="the contact", id_is="The contact's ContactID.")

SAMPLE = {"ContactID": "bd2270c3-8706-4c11-9cfb-000b551c3f51", "Name": "Ridgeway University Ltd",
          "EmailAddress": "ap@ridgeway.example"}


def _fields(data: Any) -> tuple[str, dict[str, str]]:
    """The ContactID and the fields to set; every input problem at once."""
    problems = begin(ACTION_NAME, "a Xero contact update", data, INPUT_SCHEMA["properties"])
    contact_id = data.get("ContactID")
    try:
        api.checked_id(contact_id)
    except InputError:  # reported with the other problems
        problems.add("/ContactID", f"ContactID must be a Xero id (a GUID), got {contact_id!r}")
    fields: dict[str, str] = {}
    for name, limit in FIELDS.items():
        if name in data:
            value = text(data[name], f"/{name}", name, limit, problems, keeper="Xero")
            if value is not None:
                fields[name] = value
    if not any(name in data for name in FIELDS):
        problems.add("/", f"no field to change; give at least one of {', '.join(FIELDS)}")
    if fields.get("Name", "x").strip() == "":
        problems.add("/Name", "Name is empty; leave it out to keep the current one")
    problems.raise_if_any()
    return str(contact_id), fields


def update_contact(data: Mapping[str, Any], ctx: ActionContext) -> Generator[Request, Response, dict[str, Any]]:
    """Read the contact; send only the fields whose value differs, or nothing."""
    contact_id, fields = _fields(data)
    answer = yield api.read(ctx, "Contacts", contact_id)
    if answer.status == 404:
        raise VendorError(f"Xero has no contact {contact_id}; give the ContactID of an existing contact",
                          kind="permanent", status=404)
    api.elements(answer, "Contacts", "contact")
    contact = current(answer, "Contacts")
    if contact.get("ContactStatus") == "ARCHIVED":
        raise VendorError(f"Xero contact {contact_id} is archived; it is not brought back by an update: "
                          f"restore it in Xero first", kind="permanent", status=answer.status)
    changes = {name: value for name, value in fields.items() if (contact.get(name) or "") != value}
    if not changes:
        return {"id": contact_id, "status": "unchanged", "changed": []}
    written = yield Request("POST", api.url(ctx, "Contacts", contact_id),
                            json={"Contacts": [{"ContactID": contact_id, **changes}]},
                            headers={**api.JSON_HEADERS, "Idempotency-Key": api.idempotency_key(ctx, ACTION_NAME)})
    api.created(written, "Contacts", "contact", "ContactID")
    return {"id": contact_id, "status": "updated", "changed": sorted(changes)}


_SAMPLE_CONTACT = {"ContactID": SAMPLE["ContactID"], "ContactNumber": "cus_Oaxlz8kB0PJWGa", "ContactStatus": "ACTIVE",
                   "Name": "Ridgeway University", "EmailAddress": "ap@ridgeway.example"}


def _sample_response(request: Request) -> Response:
    contact = dict(_SAMPLE_CONTACT)
    if request.method == "POST" and isinstance(request.json, Mapping):
        contact.update((request.json.get("Contacts") or [{}])[0])
    return Response(status=200, json={"Id": "e2b8b4a6-0000-4000-8000-000000000003", "Status": "OK",
                                      "Contacts": [contact]})


UPDATE_CONTACT = Action(
    name=ACTION_NAME,
    summary="Sets a Xero contact's Name, email or person's names (only those that differ are sent; nothing "
            "when it holds them already).",
    input_schema=INPUT_SCHEMA, output_schema=OUTPUT_SCHEMA, sample=SAMPLE,
    perform=update_contact, sample_response=_sample_response, idempotency="key", entity="Contact")

__all__ = ["UPDATE_CONTACT", "update_contact"]
