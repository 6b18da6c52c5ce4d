"""A recipe's trigger options (``trigger.options``): checked against the trigger's
``options_schema``, then by its ``check_options``, each problem at its JSON pointer."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import jsonschema

from ledgerlink.contract import Trigger
from ledgerlink.errors import Problem


def option_problems(trigger: Trigger, trigger_raw: Mapping[str, Any], timezone: str, file: str) -> list[Problem]:
    """What is wrong with a recipe's ``trigger.options``: against the trigger's schema, then its check."""
    if trigger.options_schema is None:
        if "options" in trigger_raw:
            return [Problem(file, "/trigger/options", f"trigger {trigger.name!r} takes no options; "
                                                      f"remove /trigger/options")]
        return []
    options = trigger_raw.get("options", {})
    found = [Problem(file, "/trigger/options" + "".join(f"/{p}" for p in error.absolute_path),
                     f"{error.message} (trigger {trigger.name!r} options)")
             for error in jsonschema.Draft202012Validator(trigger.options_schema).iter_errors(options)]
    if not found and trigger.check_options is not None:
        found = [Problem(file, f"/trigger/options{pointer}", message)
                 for pointer, message in trigger.check_options(options, timezone)]
    return found
