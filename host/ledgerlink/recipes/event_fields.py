"""Whether a recipe's ``$.event…`` path names fields the trigger's event can have.

A path is walked segment by segment through the trigger's ``event_schema``: a name through
``properties`` (then ``patternProperties``, then ``additionalProperties``), ``[n]``,
``[a:b]`` and filters through ``items`` (and ``prefixItems``), ``*`` through both, ``$ref``
within the schema, and ``anyOf``/``oneOf``/``allOf`` (a name is allowed when any branch
allows it). Only an object closed by ``additionalProperties: false`` refuses a name it does
not list; an open object, a schema that says nothing, a reference outside the schema and any
segment other than these (``..``, ``len``) accept everything beneath them, so a schema
refuses only what it really rules out.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import jsonpath_ng
import jsonpath_ng.ext.filter


@dataclass(frozen=True)
class Reach:
    """Where one segment leads from a schema: the schemas beneath (``conts``), anything
    (``open``), nowhere (``refused``, with the names the closed objects list), or nothing to
    say (``moot``: a value that is no object, such as the null of a nullable object, has no
    fields to refuse; a name is then judged by the other branches)."""

    conts: tuple[Any, ...] = ()
    open: bool = False
    refused: bool = False
    known: frozenset[str] = frozenset()
    moot: bool = False


OPEN = Reach(open=True)
_MOOT = Reach(moot=True)
_NEUTRAL = Reach()
#: a segment the walk does not follow: everything beneath it is accepted
_STOP = object()


@dataclass(frozen=True)
class Unknown:
    """A field the event cannot have: its name, the JSONPath of the object that lacks it,
    and the names that object does have."""

    name: str
    where: str
    known: frozenset[str]


def missing_field(parsed: Any, schema: Mapping[str, Any]) -> Unknown | None:
    """The first field of path ``parsed`` (a jsonpath-ng path starting ``$.event``) that no
    event of ``schema`` can have; None when every named field may exist."""
    segments = _segments(parsed)[1:]  # past $.event
    current: list[Any] = [schema]
    where = "$.event"
    for segment in segments:
        if segment is _STOP:
            return None
        if isinstance(segment, jsonpath_ng.Fields) and "*" not in segment.fields:
            step: list[Reach] = []
            for name in segment.fields:
                reached = [r for r in (_reach(s, _member(name), schema, frozenset()) for s in current)
                           if not r.moot]
                allowed = [r for r in reached if not r.refused]
                if reached and not allowed:
                    return Unknown(name, where, frozenset().union(*(r.known for r in reached)))
                if not allowed:
                    return None  # no object here: nothing a closed schema rules out
                step += allowed
            where += f".{segment.fields[0]}" if len(segment.fields) == 1 else \
                "[" + ",".join(json.dumps(f) for f in segment.fields) + "]"
        elif isinstance(segment, (jsonpath_ng.Index, jsonpath_ng.Slice, jsonpath_ng.ext.filter.Filter)):
            step = [_reach(s, _elements, schema, frozenset()) for s in current]
            where += str(segment) if isinstance(segment, jsonpath_ng.Index) else "[*]"
        elif isinstance(segment, (jsonpath_ng.Wildcard, jsonpath_ng.Fields)):
            step = [_reach(s, _anything_beneath, schema, frozenset()) for s in current]
            where += "[*]"
        else:
            return None
        if any(r.open or r.refused for r in step):
            return None  # anything may be beneath (an element refused: not a name's business)
        current = [c for r in step for c in r.conts]
    return None


def _segments(node: Any) -> list[Any]:
    """The segments of a path from its root; a part the walk does not follow is _STOP."""
    if isinstance(node, jsonpath_ng.Root):
        return []
    if isinstance(node, jsonpath_ng.Child):
        return _segments(node.left) + _right(node.right)
    if isinstance(node, jsonpath_ng.Descendants):
        return _segments(node.left) + [_STOP]
    return [_STOP]


def _right(node: Any) -> list[Any]:
    if isinstance(node, jsonpath_ng.Child):
        return _right(node.left) + _right(node.right)
    return [node]


Own = Callable[[Mapping[str, Any]], Reach]


def _reach(schema: Any, own: Own, root: Mapping[str, Any], seen: frozenset[int]) -> Reach:
    """Where ``own`` (one segment, read from a schema's own keywords) leads from ``schema``,
    through its ``$ref`` and its ``allOf``/``anyOf``/``oneOf`` branches."""
    if schema is False:
        return Reach(refused=True)
    if not isinstance(schema, Mapping):
        return OPEN
    mine = own(schema)
    if mine.refused or mine.moot:
        return mine
    branches = []
    ref = schema.get("$ref")
    if isinstance(ref, str):
        target = _resolve(ref, root)
        if target is None or id(target) in seen:
            branches.append(OPEN)
        else:
            branches.append(_reach(target, own, root, seen | {id(target)}))
    for key in ("allOf", "anyOf", "oneOf"):
        listed = schema.get(key)
        for branch in listed if isinstance(listed, list) else ():
            branches.append(_reach(branch, own, root, seen))
    if branches and all(b.moot for b in branches) and not mine.conts:
        return _MOOT
    branches = [b for b in branches if not b.moot]
    if not branches:
        return mine if mine.conts else OPEN
    allowed = [b for b in branches if not b.refused]
    if not allowed:
        return mine if mine.conts else Reach(refused=True, known=frozenset().union(*(b.known for b in branches)))
    if not mine.conts and any(b.open for b in allowed):
        return OPEN
    return Reach(conts=mine.conts + tuple(c for b in allowed for c in b.conts))


def _member(name: str) -> Own:
    """The segment ``.name``: the property's schema, or refused by a closed object."""
    def own(schema: Mapping[str, Any]) -> Reach:
        types = schema.get("type")
        if isinstance(types, (str, list)) and "object" not in ([types] if isinstance(types, str) else types):
            return _MOOT
        properties = schema.get("properties")
        properties = properties if isinstance(properties, Mapping) else {}
        if name in properties:
            return Reach(conts=(properties[name],))
        patterns = schema.get("patternProperties")
        for pattern, sub in (patterns.items() if isinstance(patterns, Mapping) else ()):
            try:
                if re.search(pattern, name):
                    return Reach(conts=(sub,))
            except re.error:  # a pattern Python cannot read may match: accept
                return OPEN
        extra = schema.get("additionalProperties")
        if extra is False:
            return Reach(refused=True, known=frozenset(str(k) for k in properties))
        if isinstance(extra, Mapping):
            return Reach(conts=(extra,))
        return _NEUTRAL
    return own


def _elements(schema: Mapping[str, Any]) -> Reach:
    """The segments ``[n]``, ``[a:b]``, ``[?(…)]``: an array's items."""
    conts: list[Any] = []
    for key in ("prefixItems", "items"):
        value = schema.get(key)
        if isinstance(value, list):
            conts += value
        elif isinstance(value, Mapping) or isinstance(value, bool):
            conts.append(value)
    if any(c is True for c in conts):
        return OPEN
    return Reach(conts=tuple(c for c in conts if c is not False))


def _anything_beneath(schema: Mapping[str, Any]) -> Reach:
    """The segment ``*``: an array's items or an object's values."""
    items = _elements(schema)
    if items.open:
        return items
    conts = list(items.conts)
    if any(k in schema for k in ("properties", "patternProperties", "additionalProperties")):
        extra = schema.get("additionalProperties")
        if extra is not False and not isinstance(extra, Mapping):
            return OPEN
        for key in ("properties", "patternProperties"):
            value = schema.get(key)
            conts += list(value.values()) if isinstance(value, Mapping) else []
        if isinstance(extra, Mapping):
            conts.append(extra)
    return Reach(conts=tuple(conts))


def _resolve(ref: str, root: Mapping[str, Any]) -> Any:
    """The schema ``ref`` points at inside ``root`` (``#``, ``#/$defs/x`` …); None for a
    reference elsewhere or one that leads nowhere."""
    if not ref.startswith("#"):
        return None
    node: Any = root
    for part in (ref[1:].split("/")[1:] if ref != "#" else []):
        part = part.replace("~1", "/").replace("~0", "~")
        if isinstance(node, Mapping) and part in node:
            node = node[part]
        elif isinstance(node, list) and part.isdigit() and int(part) < len(node):
            node = node[int(part)]
        else:
            return None
    return node
