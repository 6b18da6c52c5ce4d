"""``freshbooks.update_client``: set a FreshBooks client's names and email to the given ones.

The client is read (``GET …/users/clients/{id}``, https://www.freshbooks.com/api/clients);
only the fields given whose value differs are sent, as ``PUT {"client": {…}}`` (FreshBooks
changes the fields a PUT names and keeps the others). A client that already holds every value
is not written at all, so a repeated step changes nothing. A deleted client (``vis_state`` 1)
is refused: it is not brought back by an update.

The action declares the entity it writes (``client``): FreshBooks' callback about this very
change is then known as ledgerlink's echo (``freshbooks.client.updated`` declares it too).
"""

from __future__ import annotations

from collections.abc import Generator, Mapping
from typing import Any

from ledgerlink.contract import Action, ActionContext, Request, Response
from ledgerlink.contract.problems import begin, text
from ledgerlink.contract.writes import update_output_schema
from ledgerlink.errors import VendorError

from . import api, records
from .fields import positive_id
from .references import ref

ACTION_NAME = "freshbooks.update_client"
PATH = "users/clients"
KIND = "client"
#: the fields an update may set (FreshBooks keeps at most 255 characters of each)
FIELDS = ("organization", "fname", "lname", "email")

INPUT_SCHEMA = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "title": "update a FreshBooks client",
    "type": "object",
    "required": ["clientid"],
    "anyOf": [{"required": [name]} for name in FIELDS],
    "additionalProperties": False,
    "properties": {
        "clientid": {"type": ["integer", "string"], "pattern": "^[1-9][0-9]*$", "minimum": 1, **ref("client"),
                     "description": "The FreshBooks client to change (its id, e.g. the one linked to the "
                                    "source customer)."},
        "organization": {"type": "string", "minLength": 1, "maxLength": 255,
                         "description": "The client's organization (the name FreshBooks shows)."},
        "fname": {"type": "string", "maxLength": 255, "description": "The client's first name."},
        "lname": {"type": "string", "maxLength": 255, "description": "The client's last name."},
        "email": {"type": "string", "maxLength": 255, "description": "The client's email address."},
    },
}

OUTPUT_SCHEMA = update_output_schema(vendor="FreshBooks", what="the client", id_is="The client's id.")

SAMPLE = {"clientid": "12345", "organization": "American Cyanamid Ltd", "email": "ap@cyanamid.example"}


def _fields(data: Any) -> tuple[int, dict[str, str]]:
    """The client id and the fields to set; every input problem at once."""
    problems = begin(ACTION_NAME, "a FreshBooks client update", data, INPUT_SCHEMA["properties"])
    number = positive_id(data.get("clientid"), "/clientid", problems)
    fields: dict[str, str] = {}
    for name in FIELDS:
        if name in data:
            value = text(data[name], f"/{name}", name, 255, problems, keeper="FreshBooks")
            if value is not None:
                fields[name] = value
    if not any(name in data for name in FIELDS):
        problems.add("/", f"no field to change; give at least one of {', '.join(FIELDS)}")
    if fields.get("organization") == "":
        problems.add("/organization", "organization is empty; leave it out to keep the current one")
    problems.raise_if_any()
    return int(number or 0), fields


def update_client(data: Mapping[str, Any], ctx: ActionContext) -> Generator[Request, Response, dict[str, Any]]:
    """Read the client; send only the fields whose value differs, or nothing."""
    number, fields = _fields(data)
    current = yield api.read(ctx, PATH, number)
    if records.deleted(current, KIND):
        raise VendorError(f"FreshBooks has no client {number} (deleted, or never made); it is not "
                          f"brought back by an update: restore it in FreshBooks first",
                          kind="permanent", status=current.status)
    client = api.written(current, KIND)
    changes = {name: value for name, value in fields.items() if (client.get(name) or "") != value}
    if not changes:
        return {"id": str(number), "status": "unchanged", "changed": []}
    api.written((yield api.update(ctx, PATH, number, KIND, changes)), KIND)
    return {"id": str(number), "status": "updated", "changed": sorted(changes)}


_SAMPLE_CLIENT = {"id": 12345, "userid": 12345, "organization": "American Cyanamid", "fname": "Gordon",
                  "lname": "Shumway", "email": "gordon.shumway@AmericanCyanamid.com", "vis_state": 0}


def _sample_response(request: Request) -> Response:
    client = dict(_SAMPLE_CLIENT)
    if request.method == "PUT" and isinstance(request.json, Mapping):
        client.update(request.json.get(KIND) or {})
    return Response(status=200, json={"response": {"result": {KIND: client}}})


UPDATE_CLIENT = Action(
    name=ACTION_NAME,
    summary="Sets a FreshBooks client's organization, names or email (only those that differ are sent; "
            "nothing when it holds them already).",
    input_schema=INPUT_SCHEMA, output_schema=OUTPUT_SCHEMA, sample=SAMPLE,
    perform=update_client, sample_response=_sample_response, idempotency="lookup", entity=KIND)

__all__ = ["UPDATE_CLIENT", "update_client"]
