"""``xero.find_contact`` and ``xero.find_or_create_contact``.

The contact a source system (Stripe) knows by its own id is found, in this order:

1. the links table (``LinkQuery``): the Xero contact ledgerlink already created or found for
   that source id — no request at all;
2. ``GET /Contacts?where=ContactNumber=="<source id>"`` (archived contacts too): Xero's
   ``ContactNumber`` is the field it keeps for "identifying contacts in external systems"
   ([spec] ``Contact.ContactNumber``, at most 50 characters, set through the API only), and
   ledgerlink sets it to the source id on every contact it creates. Never by ``Name`` alone:
   two customers may share a name;
3. only then (find_or_create) ``PUT /Contacts`` with the step's ``Idempotency-Key``.

Whatever is found or created is linked to the source id, so one Stripe customer never
becomes two Xero contacts — even when two runs race: the loser's create is refused because
Xero keeps contact names unique, and it looks the source id up again and takes the winner's.
"""

from __future__ import annotations

from collections.abc import Generator, Mapping
from typing import Any

from ledgerlink.contract import Action, ActionContext, Request, Response, linked_target
from ledgerlink.contract.problems import begin, text
from ledgerlink.errors import InputError, VendorError

from . import api

TARGET_TYPE = "xero.contact"
MAX_CONTACT_NUMBER = 50

INPUT_SCHEMA = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "title": "find a Xero contact (and create it if it is not there)",
    "type": "object",
    "required": ["source_id", "Name"],
    "additionalProperties": False,
    "properties": {
        "source_id": {"type": "string", "minLength": 1, "maxLength": MAX_CONTACT_NUMBER,
                      "description": "The customer's id in the source system, e.g. Stripe's cus_…: the link "
                                     "ledgerlink keeps, and the contact's ContactNumber in Xero."},
        "Name": {"type": "string", "minLength": 1, "maxLength": 255,
                 "description": "The contact's name (unique among Xero's active contacts), e.g. the Stripe "
                                "customer's name; set on a new contact, never used to find one."},
        "EmailAddress": {"type": "string", "maxLength": 255,
                         "description": "The contact's email address (set on a new contact)."},
        "DefaultCurrency": {"type": "string", "pattern": "^[A-Z]{3}$",
                            "description": "The contact's default currency, ISO 4217 (set on a new contact)."},
    },
}

OUTPUT_SCHEMA = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "type": "object",
    "required": ["id", "found_by"],
    "properties": {
        "id": {"type": ["string", "null"], "description": "The Xero ContactID (null: not found)."},
        "name": {"type": "string", "description": "The contact's Name in Xero."},
        "found_by": {"enum": ["link", "contact_number", "created", "none"],
                     "description": "How the contact was found: the links table, its ContactNumber, or "
                                    "created now."},
        "link": {"type": "object", "description": "What ledgerlink links: source id ↔ this contact."},
    },
}

SAMPLE = {"source_id": "cus_Oaxlz8kB0PJWGa", "Name": "Ridgeway University", "EmailAddress": "ap@ridgeway.example"}


def _found(contact_id: str, name: str, how: str, source_id: str) -> dict[str, Any]:
    return {"id": contact_id, "name": name, "found_by": how,
            "link": {"source_id": source_id, "target_type": TARGET_TYPE}}


def _read_input(input: Mapping[str, Any], action: str) -> None:
    problems = begin(action, "a Xero contact", input, INPUT_SCHEMA["properties"])
    text(input.get("source_id"), "/source_id", "source_id", MAX_CONTACT_NUMBER, problems, keeper="Xero")
    text(input.get("Name"), "/Name", "Name", 255, problems, keeper="Xero")
    problems.raise_if_any()


def _by_number(input: Mapping[str, Any], ctx: ActionContext) -> Generator[Request, Response, dict[str, Any] | None]:
    request = api.read(ctx, "Contacts", where=api.where_all([("ContactNumber", input["source_id"])]),
                       includeArchived="true")
    contacts = api.elements((yield request), "Contacts", "contact")
    if not contacts:
        return None
    contact = contacts[0]
    if contact.get("ContactStatus") == "ARCHIVED":
        raise InputError(f"the Xero contact with ContactNumber {input['source_id']!r} "
                         f"({contact.get('Name')!r}, ContactID {contact.get('ContactID')}) is archived; "
                         f"restore it in Xero (Contacts > Archived) so runs can book to it")
    return _found(str(contact["ContactID"]), str(contact.get("Name", input["Name"])), "contact_number",
                  input["source_id"])


def _find(input: Mapping[str, Any], ctx: ActionContext) -> Generator[Any, Response, dict[str, Any] | None]:
    target = yield from linked_target(input["source_id"], TARGET_TYPE)
    if target:
        return _found(target, input["Name"], "link", input["source_id"])
    return (yield from _by_number(input, ctx))


def find_contact(input: Mapping[str, Any], ctx: ActionContext) -> Generator[Any, Response, dict[str, Any]]:
    """The contact linked to ``source_id``, else the one whose ContactNumber it is; id null if none."""
    _read_input(input, "xero.find_contact")
    found = yield from _find(input, ctx)
    return found or {"id": None, "name": input["Name"], "found_by": "none"}


def contact_body(input: Mapping[str, Any]) -> dict[str, Any]:
    """The new contact: its name, its ContactNumber (the source id), what else the input sets."""
    body: dict[str, Any] = {"Name": input["Name"], "ContactNumber": input["source_id"]}
    if input.get("EmailAddress"):
        body["EmailAddress"] = input["EmailAddress"]
    if input.get("DefaultCurrency"):
        body["DefaultCurrency"] = input["DefaultCurrency"]
    return body


def find_or_create_contact(input: Mapping[str, Any], ctx: ActionContext) -> Generator[Any, Response, dict[str, Any]]:
    """As find_contact, then create the contact when none is found."""
    _read_input(input, "xero.find_or_create_contact")
    found = yield from _find(input, ctx)
    if found:
        return found
    response = yield api.create(ctx, "Contacts", contact_body(input), "xero.find_or_create_contact")
    try:
        contact = api.created(response, "Contacts", "contact", "ContactID")
    except VendorError as error:
        if error.kind != "permanent":
            raise
        # another run created it meanwhile (Xero refuses its name twice): take that one
        raced = yield from _by_number(input, ctx)
        if raced:
            return raced
        raise
    return _found(str(contact["ContactID"]), str(contact.get("Name", input["Name"])), "created", input["source_id"])


SAMPLE_CONTACT = {"ContactID": "bd2270c3-8706-4c11-9cfb-000b551c3f51", "ContactNumber": SAMPLE["source_id"],
                  "ContactStatus": "ACTIVE", "Name": SAMPLE["Name"], "StatusAttributeString": "OK"}


def _sample_response(request: Request) -> Response:
    if request.method == "GET":
        return Response(status=200, json={"Id": "e2b8b4a6-0000-4000-8000-000000000001", "Status": "OK",
                                          "Contacts": []})
    return Response(status=200, json={"Id": "e2b8b4a6-0000-4000-8000-000000000002", "Status": "OK",
                                      "Contacts": [SAMPLE_CONTACT]})


FIND_CONTACT = Action(
    name="xero.find_contact",
    summary="Find the Xero contact of a source customer: linked before, or by its ContactNumber.",
    input_schema={**INPUT_SCHEMA, "title": "find a Xero contact"}, output_schema=OUTPUT_SCHEMA,
    sample=SAMPLE, perform=find_contact, sample_response=_sample_response, idempotency="none")

FIND_OR_CREATE_CONTACT = Action(
    name="xero.find_or_create_contact",
    summary="Find the Xero contact of a source customer, or create it; never two for one source id.",
    input_schema=INPUT_SCHEMA, output_schema=OUTPUT_SCHEMA, sample=SAMPLE,
    perform=find_or_create_contact, sample_response=_sample_response, idempotency="lookup")
