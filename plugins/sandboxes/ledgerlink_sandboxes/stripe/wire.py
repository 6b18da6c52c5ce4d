"""Stripe's wire habits: form-encoded parameters and errors in Stripe's shape.

Stripe reads POST bodies and query strings as ``application/x-www-form-urlencoded`` with
brackets for structure (https://docs.stripe.com/api/request_ids, https://docs.stripe.com/api
/expanding_objects): ``metadata[order]=7`` is a hash, ``expand[]=data.source`` a list,
``created[gte]=1700000000`` a range. :func:`decode` reads them into plain dicts and lists;
:func:`check` refuses a parameter the endpoint does not know with Stripe's
``parameter_unknown``, as Stripe does (https://docs.stripe.com/error-codes#parameter-unknown).
Errors are :class:`StripeError`, answered as ``{"error": {"type", "code", "message",
"param"}}`` (https://docs.stripe.com/api/errors).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any
from urllib.parse import parse_qsl

from ledgerlink.errors import LedgerlinkError
from ledgerlink.testing.sandbox import Reply

_KEY = re.compile(r"^([^\[\]]+)((?:\[[^\[\]]*\])*)$")


class StripeError(LedgerlinkError):
    """An answer Stripe gives instead of an object: HTTP status, error type, code, param."""

    def __init__(self, status: int, kind: str, message: str, code: str | None = None,
                 param: str | None = None, headers: Mapping[str, str] | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.kind = kind
        self.error_code = code
        self.param = param
        self.headers = dict(headers or {})

    def reply(self, request_id: str) -> Reply:
        error: dict[str, Any] = {"type": self.kind, "message": self.message,
                                 "request_log_url": None}
        if self.error_code:
            error["code"] = self.error_code
            error["doc_url"] = f"https://stripe.com/docs/error-codes/{self.error_code.replace('_', '-')}"
        if self.param:
            error["param"] = self.param
        return Reply.json(self.status, {"error": error}, {**self.headers, "Request-Id": request_id})


def missing(resource: str, ident: str, param: str = "id") -> StripeError:
    """Stripe's 404 for an object that does not exist."""
    return StripeError(404, "invalid_request_error", f"No such {resource}: '{ident}'",
                       "resource_missing", param)


def invalid(message: str, param: str | None = None, code: str | None = None) -> StripeError:
    """A 400 ``invalid_request_error``."""
    return StripeError(400, "invalid_request_error", message, code, param)


def decode(raw: str) -> dict[str, Any]:
    """A form-encoded string as nested dicts and lists (``a[b]=1``, ``a[]=1``, and
    ``a[0]=1&a[1]=2`` as stripe-python sends a list: a hash whose keys are all indices is
    a list in index order, outside ``metadata``)."""
    result: dict[str, Any] = {}
    for key, value in parse_qsl(raw, keep_blank_values=True):
        match = _KEY.match(key)
        if match is None:
            raise invalid(f"Invalid parameter name: {key}", key)
        path = [match.group(1)] + re.findall(r"\[([^\[\]]*)\]", match.group(2))
        node: Any = result
        for index, part in enumerate(path):
            last = index == len(path) - 1
            following = None if last else path[index + 1]
            if isinstance(node, list):
                raise invalid(f"Invalid array: {key}", path[0])
            if last:
                if part == "":
                    raise invalid(f"Invalid parameter name: {key}", path[0])
                node[part] = value
            elif following == "":
                items = node.setdefault(part, [])
                if not isinstance(items, list):
                    raise invalid(f"Invalid array: {key}", path[0])
                items.append(value)
                break
            else:
                child = node.setdefault(part, {})
                if not isinstance(child, dict):
                    raise invalid(f"Invalid hash: {key}", path[0])
                node = child
    return _indexed_lists(result)


def _indexed_lists(node: Any, name: str = "") -> Any:
    if not isinstance(node, dict) or name == "metadata":
        return node
    if node and name and all(key.isdigit() for key in node):
        return [_indexed_lists(node[key]) for key in sorted(node, key=int)]
    return {key: _indexed_lists(value, key) for key, value in node.items()}


def check(params: Mapping[str, Any], allowed: Iterable[str], required: Iterable[str] = ()) -> None:
    """Refuse a parameter not in ``allowed`` and a missing ``required`` one, as Stripe does."""
    known = set(allowed) | {"expand"}
    for name in params:
        if name not in known:
            raise invalid(f"Received unknown parameter: {name}", name, "parameter_unknown")
    for name in required:
        if params.get(name) in (None, ""):
            raise invalid(f"Missing required param: {name}.", name, "parameter_missing")


def integer(params: Mapping[str, Any], name: str, *, minimum: int = 0,
            maximum: int | None = None, default: int | None = None) -> int | None:
    """Parameter ``name`` as an integer, or Stripe's ``parameter_invalid_integer``."""
    value = params.get(name)
    if value is None:
        return default
    if not isinstance(value, str) or not re.fullmatch(r"-?\d+", value):
        raise invalid(f"Invalid integer: {value}", name, "parameter_invalid_integer")
    number = int(value)
    if number < minimum or (maximum is not None and number > maximum):
        bound = f"between {minimum} and {maximum}" if maximum is not None else f"at least {minimum}"
        raise invalid(f"Invalid {name}: must be {bound}", name)
    return number


def boolean(params: Mapping[str, Any], name: str) -> bool | None:
    """Parameter ``name`` as a boolean (``true``/``false``), or Stripe's invalid boolean."""
    value = params.get(name)
    if value is None:
        return None
    if value not in ("true", "false"):
        raise invalid(f"Invalid boolean: {value}", name, "parameter_invalid_boolean")
    return value == "true"


def metadata(params: Mapping[str, Any]) -> dict[str, str] | None:
    """The ``metadata`` hash (``""`` for a key unsets it, as Stripe does), or None."""
    value = params.get("metadata")
    if value is None:
        return None
    if value == "":
        return {}
    if not isinstance(value, dict) or any(not isinstance(v, str) for v in value.values()):
        raise invalid("Invalid hash", "metadata")
    if len(value) > 50:
        raise invalid("Metadata can have at most 50 keys", "metadata")
    return value


def expansions(params: Mapping[str, Any]) -> list[str]:
    """The ``expand[]`` paths; indexed ``expand[0]=a&expand[1]=b`` (how Stripe's SDKs encode a
    GET's arrays) is the same array, in index order."""
    value = params.get("expand", [])
    if isinstance(value, dict) and value and all(key.isdigit() for key in value):
        value = [value[key] for key in sorted(value, key=int)]
    if not isinstance(value, list):
        raise invalid("Invalid array", "expand")
    return value


__all__ = ["StripeError", "boolean", "check", "decode", "expansions", "integer", "invalid",
           "metadata", "missing"]
