"""The primitives recipe expressions and conditions share: paths, pointers and the compile scope.

Both :mod:`ledgerlink.recipes.mapping` (expressions) and :mod:`ledgerlink.recipes.matching`
(conditions) build on these. A JSONPath is parsed once (jsonpath-ng) and checked against
what the document will hold (``$.event`` as the trigger's event schema allows it,
:mod:`ledgerlink.recipes.event_fields`; ``$.steps.<earlier step>``, ``$.lookups``,
``$.recipe``, ``$.linked.<name>`` and ``$.truth``); a path with one value reads it without jsonpath-ng at run time.
"""

from __future__ import annotations

import difflib
import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import jsonpath_ng
import jsonpath_ng.ext
from jsonpath_ng.exceptions import JsonPathLexerError, JsonPathParserError

from ledgerlink.contract import Transform
from ledgerlink.errors import MappingError, Problem
from ledgerlink.recipes.event_fields import missing_field


class _Missing:
    __slots__ = ()

    def __repr__(self) -> str:
        return "MISSING"

    def __bool__(self) -> bool:
        return False


#: the value of a path that found nothing
MISSING: Any = _Missing()

ROOTS = ("event", "steps", "lookups", "recipe", "linked", "truth")
EACH_ROOTS = ("item", "index")

Evaluator = Callable[[Mapping[str, Any]], Any]

#: keys of a run's document no path can read (a reviewed run's, :mod:`ledgerlink.engine.review`):
#: when present, a ``{path text: value}`` dict of the earlier steps' answers the mapping read
#: (each ``$.steps`` path is recorded there as it is read), and one whose values such a path
#: reads instead of the document's (the answers a reviewer was shown)
ANSWERS_READ = "$answers_read"
ANSWERS_SHOWN = "$answers_shown"


def pointer_join(pointer: str, *parts: Any) -> str:
    """Extend a JSON pointer, escaping ``~`` and ``/`` (RFC 6901)."""
    for part in parts:
        pointer += "/" + str(part).replace("~", "~0").replace("/", "~1")
    return pointer


def suggest(name: str, choices: Any) -> str:
    """``; did you mean "x"?`` when something close exists, else a list of what does."""
    choices = sorted(str(c) for c in choices)
    close = difflib.get_close_matches(str(name), choices, n=1, cutoff=0.6)
    if close:  # quoted as JSON: a name holding a newline stays on the problem's one line
        return f"; did you mean {json.dumps(close[0], ensure_ascii=False)}?"
    if choices and len(choices) <= 12:
        return "; known: " + ", ".join(c if c.isprintable() else json.dumps(c) for c in choices)
    return ""


@dataclass
class Scope:
    """What an expression may refer to while it is compiled."""

    file: str
    recipe_id: str
    step_id: str
    transforms: Mapping[str, Transform]
    lookups: Mapping[str, Any]
    #: ids of the steps before this one
    earlier_steps: tuple[str, ...] = ()
    #: ids of every step of the recipe
    all_steps: tuple[str, ...] = ()
    timezone: str = "UTC"
    in_each: bool = False
    problems: list[Problem] = field(default_factory=list)
    #: the recipe's trigger and its event schema: ``$.event`` paths are checked against it
    trigger: str = ""
    event_schema: Mapping[str, Any] | None = None
    #: the names of the recipe's ``linked`` lookups (``$.linked.<name>``)
    linked: tuple[str, ...] = ()

    def problem(self, pointer: str, message: str) -> None:
        self.problems.append(Problem(self.file, pointer, message))

    def fail(self, reason: str, pointer: str, path: str = "") -> MappingError:
        return MappingError(reason, recipe=self.recipe_id, step=self.step_id, pointer=pointer,
                            path=path)


# --- paths ------------------------------------------------------------------------------

_SIMPLE = (jsonpath_ng.Root, jsonpath_ng.Child, jsonpath_ng.Fields, jsonpath_ng.Index)


def _simple_steps(node: Any) -> list[Any] | None:
    """The key/index chain of a path with one value, or None for a multi-value path."""
    if isinstance(node, jsonpath_ng.Root):
        return []
    if isinstance(node, jsonpath_ng.Child):
        left = _simple_steps(node.left)
        if left is None:
            return None
        right = node.right
        if isinstance(right, jsonpath_ng.Fields) and len(right.fields) == 1 and right.fields[0] != "*":
            return left + [right.fields[0]]
        if (isinstance(right, jsonpath_ng.Index) and len(right.indices) == 1
                and isinstance(right.indices[0], int)):
            return left + [right.indices[0]]
        return None
    return None


def _first_fields(node: Any) -> list[str]:
    """The leading plain field names of a path (``$.steps.entry.id`` → steps, entry, id)."""
    chain: list[Any] = []
    while isinstance(node, jsonpath_ng.Child):
        chain.append(node.right)
        node = node.left
    if not isinstance(node, jsonpath_ng.Root):
        return []
    names = []
    for part in reversed(chain):
        if isinstance(part, jsonpath_ng.Fields) and len(part.fields) == 1:
            names.append(part.fields[0])
        else:
            break
    return names


@dataclass(frozen=True)
class CompiledPath:
    text: str
    steps: tuple[Any, ...] | None
    parsed: Any
    #: a path into an earlier step's answer (``$.steps...``): recorded, or answered as shown
    answer: bool = False

    @property
    def multi(self) -> bool:
        return self.steps is None

    def get(self, doc: Any) -> Any:
        """The one value (or MISSING), or for a multi-value path the list of matches; for a
        ``$.steps`` path, recorded in ``doc[ANSWERS_READ]`` or read from ``doc[ANSWERS_SHOWN]``
        when the document has them."""
        if not self.answer:
            return self._find(doc)
        shown = doc.get(ANSWERS_SHOWN)
        if shown is not None and self.text in shown:
            return shown[self.text]
        value = self._find(doc)
        if ANSWERS_READ in doc and value is not MISSING:
            doc[ANSWERS_READ][self.text] = value
        return value

    def _find(self, doc: Any) -> Any:
        if self.steps is None:
            return [m.value for m in self.parsed.find(doc)]
        value = doc
        for step in self.steps:
            if type(value) is str:  # "abc"[0] must not read a character
                return MISSING
            try:
                value = value[step]
            except (KeyError, IndexError, TypeError):
                return MISSING
        return value


def compile_path(text: Any, pointer: str, scope: Scope) -> CompiledPath | None:
    """Parse a JSONPath once; a problem is recorded (and None returned) when it cannot be used."""
    if not isinstance(text, str) or not text.startswith("$"):
        scope.problem(pointer, f"a path must be a JSONPath string starting with \"$\", such as "
                               f"\"$.event.data.object.id\"; got {text!r}")
        return None
    try:
        parsed = jsonpath_ng.ext.parse(text)
    except (JsonPathLexerError, JsonPathParserError, Exception) as exc:  # ply raises plain Exception
        scope.problem(pointer, f"JSONPath {text!r} does not parse: {exc}; write it like "
                               f"\"$.event.data.object.lines.data[*].amount\"")
        return None
    names = _first_fields(parsed)
    roots = ROOTS + (EACH_ROOTS if scope.in_each else ())
    if text.strip() != "$":
        if not names:
            scope.problem(pointer, f"path {text!r} must start with one of "
                                   + ", ".join(f"$.{r}" for r in roots))
            return None
        if names[0] not in roots:
            hint = suggest(names[0], roots)
            if names[0] in EACH_ROOTS:
                hint = f"; $.{names[0]} exists only inside \"$each\""
            scope.problem(pointer, f"path {text!r} starts at $.{names[0]}, which does not exist"
                                   f"{hint}")
            return None
        if names[0] == "steps":
            if len(names) < 2:
                scope.problem(pointer, f"path {text!r} must name a step: $.steps.<step id>.<field>")
                return None
            ref = names[1]
            if ref not in scope.earlier_steps:
                if ref == scope.step_id:
                    msg = f"path {text!r} refers to step {ref!r} itself; a step can only read earlier steps"
                elif ref in scope.all_steps:
                    msg = (f"path {text!r} refers to step {ref!r}, which runs later; move that step "
                           f"before {scope.step_id!r} or read something else")
                else:
                    msg = f"path {text!r} refers to unknown step {ref!r}" + suggest(ref, scope.earlier_steps)
                scope.problem(pointer, msg)
                return None
        if names[0] == "lookups" and len(names) >= 2 and names[1] not in scope.lookups:
            scope.problem(pointer, f"path {text!r} reads lookup table {names[1]!r}, which the recipe "
                                   f"does not define" + suggest(names[1], scope.lookups))
            return None
        if names[0] == "linked" and (len(names) < 2 or names[1] not in scope.linked):
            scope.problem(pointer, f"path {text!r} reads a linked id the recipe's \"linked\" does not "
                                   f"name" + (suggest(names[1], scope.linked) if len(names) > 1 else ""))
            return None
        if names[0] == "event" and scope.event_schema is not None:
            unknown = missing_field(parsed, scope.event_schema)
            if unknown is not None:
                scope.problem(pointer, f"path {text!r}: the event of trigger {scope.trigger!r} has no field "
                                       f"{unknown.name!r} at {unknown.where}"
                                       + suggest(unknown.name, unknown.known)
                                       + "; read a field its event schema lists (`ledgerlink connectors "
                                         "--json` shows it)")
                return None
    steps = _simple_steps(parsed)
    return CompiledPath(text, None if steps is None else tuple(steps), parsed, answer=names[:1] == ["steps"])
