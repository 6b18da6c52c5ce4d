"""``freshbooks.find_or_create_client``: the FreshBooks client of a source customer, never two.

The client a source system (Stripe) knows by its own id is found, in this order:

1. the links table (``LinkQuery``): the client ledgerlink created or found for that source id
   before, read back (``GET …/users/clients/{id}``) so a client deleted since is not booked to;
2. ``GET …/users/clients?search[note_like]=ledgerlink source <id>``: the client's **note** keeps
   the source id. Of the fields FreshBooks searches clients by
   (https://www.freshbooks.com/api/clients: email, names, organization, phone, address, note),
   the note is the only one that is the integrator's alone — an email or a name may be shared
   or changed by the business, a note line is neither shown to the client nor used by
   FreshBooks. The search is a Like match, so every client found is checked for the exact mark
   (``cus_1`` is not ``cus_12``);
3. only then ``POST …/users/clients`` with that note.

FreshBooks keeps no idempotency key and no unique field we could set, so two runs may both
create: after a create the source id is searched again, and the client with the lowest id
wins — a run whose client is not the winner deletes its own (``vis_state`` 1) and takes the
winner's. One source id is one client.

Undo deletes a client ledgerlink created the FreshBooks way (``vis_state`` 1: FreshBooks
keeps it, restorable from its bin); a later run, finding its link pointing at a deleted
client, searches and creates again.
"""

from __future__ import annotations

from collections.abc import Generator, Mapping
from typing import Any

from ledgerlink.contract import Action, ActionContext, Request, Response, linked_target
from ledgerlink.contract.money import is_currency
from ledgerlink.contract.problems import begin, text
from ledgerlink.errors import VendorError

from . import api, records
from .errors import classify, gone

ACTION_NAME = "freshbooks.find_or_create_client"
TARGET_TYPE = "freshbooks.client"
PATH = "users/clients"
KIND = "client"
#: the longest source id kept (Stripe's ids are at most 255 characters)
MAX_SOURCE_ID = 255
#: names and organization: FreshBooks' client fields (https://www.freshbooks.com/api/clients)
NAME_FIELDS = ("organization", "fname", "lname", "email")

INPUT_SCHEMA = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "title": "find a FreshBooks client (and create it if it is not there)",
    "type": "object",
    "required": ["source_id"],
    "anyOf": [{"required": [name]} for name in NAME_FIELDS],
    "additionalProperties": False,
    "properties": {
        "source_id": {"type": "string", "minLength": 1, "maxLength": MAX_SOURCE_ID, "pattern": r"^\S+$",
                      "description": "The customer's id in the source system, e.g. Stripe's cus_…: the link "
                                     "ledgerlink keeps, and a line of the client's note in FreshBooks."},
        "organization": {"type": "string", "maxLength": 255,
                         "description": "The client's organization (set on a new client, never used to find "
                                        "one)."},
        "fname": {"type": "string", "maxLength": 255, "description": "The client's first name (a new client)."},
        "lname": {"type": "string", "maxLength": 255, "description": "The client's last name (a new client)."},
        "email": {"type": "string", "maxLength": 255, "description": "The client's email (a new client)."},
        "currency_code": {"type": "string", "pattern": "^[A-Z]{3}$",
                          "description": "The client's currency, ISO 4217 (a new client); FreshBooks' "
                                         "default is the business's."},
    },
}

OUTPUT_SCHEMA = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "type": "object",
    "required": ["id", "found_by"],
    "properties": {
        "id": {"type": "string", "description": "The FreshBooks client id (its userid)."},
        "found_by": {"enum": ["link", "note", "created"],
                     "description": "How the client was found: the links table, the source id in its "
                                    "note, or created now."},
        "link": {"type": "object", "description": "What ledgerlink links: source id ↔ this client."},
    },
}

SAMPLE = {"source_id": "cus_Oaxlz8kB0PJWGa", "organization": "Ridgeway University",
          "email": "ap@ridgeway.example", "currency_code": "USD"}


def _found(client_id: object, how: str, source_id: str) -> dict[str, Any]:
    return {"id": str(client_id), "found_by": how, "link": {"source_id": source_id, "target_type": TARGET_TYPE}}


def client_body(input: Mapping[str, Any]) -> dict[str, Any]:
    """The new client: what the input names, and the source id's mark in its note. Input
    problems raise, every one at once."""
    problems = begin(ACTION_NAME, "a FreshBooks client", input, INPUT_SCHEMA["properties"])
    source = text(input.get("source_id"), "/source_id", "source_id", MAX_SOURCE_ID, problems, keeper="ledgerlink")
    if source is not None and (not source or any(c.isspace() for c in source)):
        problems.add("/source_id", "source_id must be a non-empty id without spaces")
    body: dict[str, Any] = {}
    for name in NAME_FIELDS:
        if name in input:
            value = text(input[name], f"/{name}", name, 255, problems, keeper="FreshBooks")
            if value:
                body[name] = value
    if not body:
        problems.add("/", f"a client needs one of {', '.join(NAME_FIELDS)}")
    currency = input.get("currency_code")
    if currency is not None and not (isinstance(currency, str) and currency.isupper() and is_currency(currency)):
        problems.add("/currency_code", f"currency_code must be an ISO 4217 code such as USD, got {currency!r}")
    problems.raise_if_any()
    if currency:
        body["currency_code"] = currency
    body["note"] = api.mark(input["source_id"])
    return body


def by_note(source_id: str, ctx: ActionContext) -> Generator[Request, Response, list[Mapping[str, Any]]]:
    """The clients whose note carries ``source_id``'s mark, lowest id (the first made) first."""
    found = yield from api.search(ctx, PATH, "clients", {"note_like": api.mark(source_id)})
    mine = [client for client in found if api.marked(client.get("note"), source_id)]
    return sorted(mine, key=lambda client: int(str(client.get("id") or client.get("userid") or 0)))


def _linked(source_id: str, ctx: ActionContext) -> Generator[Any, Response, dict[str, Any] | None]:
    """The linked client, if it is still there."""
    target = yield from linked_target(source_id, TARGET_TYPE)
    if not target:
        return None
    answer = yield api.read(ctx, PATH, target)
    if gone(answer):
        return None
    error = classify(answer)
    if error is not None:
        raise error
    client = api.result(answer, KIND)
    if client is None or client.get("vis_state") == api.DELETED:
        return None
    return _found(target, "link", source_id)


def find_existing(input: Mapping[str, Any], ctx: ActionContext) -> Generator[Any, Response, dict[str, Any] | None]:
    """The client linked to the source id, else the first whose note carries it; None if none
    (read-only)."""
    client_body(input)
    source_id = input["source_id"]
    linked = yield from _linked(source_id, ctx)
    if linked:
        return linked
    found = yield from by_note(source_id, ctx)
    return _found(found[0]["id"], "note", source_id) if found else None


def find_or_create_client(input: Mapping[str, Any], ctx: ActionContext) -> Generator[Any, Response, dict[str, Any]]:
    """As :func:`find_existing`, then create the client when none is found; after a race the
    first client made for the source id is the one."""
    body = client_body(input)
    source_id = input["source_id"]
    existing = yield from find_existing(input, ctx)
    if existing:
        return existing
    client = api.written((yield api.create(ctx, PATH, KIND, body)), KIND)
    ours = str(client["id"])
    found = yield from by_note(source_id, ctx)
    winner = str(found[0]["id"]) if found else ours
    if winner == ours:
        return _found(ours, "created", source_id)
    deleted = yield api.update(ctx, PATH, ours, KIND, {"vis_state": api.DELETED})
    error = None if gone(deleted) else classify(deleted)
    if error is not None:
        raise VendorError(f"another run made FreshBooks client {winner} for {source_id} at the same time; "
                          f"deleting this run's twin {ours} failed: {error.message}", kind=error.kind,
                          status=error.http_status, retry_after=error.retry_after)
    return _found(winner, "note", source_id)


#: delete a client ledgerlink made the FreshBooks way (``vis_state`` 1)
undo_client = records.soft_delete(PATH, KIND)


SAMPLE_CLIENT = {"id": 73625, "userid": 73625, "organization": SAMPLE["organization"], "email": SAMPLE["email"],
                 "currency_code": "USD", "note": api.mark(SAMPLE["source_id"]), "vis_state": 0}


def _sample_response(request: Request) -> Response:
    if request.method == "GET":
        return Response(status=200, json={"response": {"result": {"clients": [], "page": 1, "pages": 0,
                                                                  "per_page": api.PER_PAGE, "total": 0}}})
    return Response(status=200, json={"response": {"result": {"client": SAMPLE_CLIENT}}})


FIND_OR_CREATE_CLIENT = Action(
    name=ACTION_NAME,
    summary="Find the FreshBooks client of a source customer (linked, or by the source id in its note), "
            "or create it; never two for one source id.",
    input_schema=INPUT_SCHEMA, output_schema=OUTPUT_SCHEMA, sample=SAMPLE,
    perform=find_or_create_client, sample_response=_sample_response, idempotency="lookup",
    find_existing=find_existing, undo=undo_client)
