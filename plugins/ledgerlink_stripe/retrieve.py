"""A read of one Stripe object by its id (``GET /v1/<objects>/{id}``), as an action: what a
recipe compares with the ledger's copy when Stripe is the source of truth of that kind."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from ledgerlink.contract import Action, ActionContext
from ledgerlink.contract.problems import begin, show

from . import api


def described(description: str, **schema: Any) -> dict[str, Any]:
    """A JSON Schema with its description first."""
    return {"description": description, **schema}


def retrieve_action(*, noun: str, prefix: str, objects: str, summary: str, output: dict[str, Any],
                    sample: Mapping[str, Any]) -> Action:
    """``stripe.retrieve_<noun>``: input ``{noun: "<prefix>_…"}``, the id checked before
    anything is sent; the output the object as Stripe returns it."""
    ident = re.compile(rf"^{prefix}_[A-Za-z0-9]+$")
    name = f"stripe.retrieve_{noun}"
    schema = described(f"The {noun} to read.", type="object", required=[noun], additionalProperties=False,
                       properties={noun: described(f"The Stripe {noun}'s id ({prefix}_…).", type="string",
                                                   pattern=ident.pattern)})

    def retrieve(data: Mapping[str, Any], ctx: ActionContext):
        problems = begin(name, f"a Stripe {noun} read", data, schema["properties"])
        value = data.get(noun)
        if not isinstance(value, str) or not ident.match(value):
            problems.add(f"/{noun}", f"{noun} must be a Stripe {noun} id ({prefix}_…), got {show(value)}")
        problems.raise_if_any()
        return api.checked((yield api.get(ctx, f"/v1/{objects}/{{}}", str(value))))

    retrieve.__doc__ = f"GET /v1/{objects}/{{id}}."
    return Action(name=name, summary=summary, input_schema=schema, output_schema=output,
                  sample={noun: str(sample["id"])}, sample_response=dict(sample), perform=retrieve,
                  idempotency="none")
