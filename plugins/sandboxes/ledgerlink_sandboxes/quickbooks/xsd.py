"""Check QuickBooks Online JSON bodies against Intuit's own XSDs.

Intuit publishes no OpenAPI for the Accounting API; the XSD set that ships with its Java
SDK (copied beside this module, Apache-2.0) is the machine-readable truth, and the JSON
API uses its element names as keys. :func:`check` walks a JSON body along the XSD::

    >>> check("JournalEntry", {"Line": [{"Amount": Decimal("1.00"),
    ...     "JournalEntryLineDetail": {"PostingType": "Debet"}}]})
    ["/Line/0/JournalEntryLineDetail/PostingType: 'Debet' is not one of Credit, Debit"]

How JSON maps onto the XSD (the rules QBO's JSON follows):

- a key of an object is an element of that complexType, including every element inherited
  through ``complexContent/extension`` and every member of a substitution group (so
  ``IntuitResponse`` accepts ``"JournalEntry"``, ``"Invoice"`` …), or one of its attributes
  (entities carry ``domain``, ``sparse`` and ``status`` as plain keys);
- a complexType with simple content (``ReferenceType``) is an object whose ``"value"`` is
  the text and whose other keys are attributes: ``{"value": "84", "name": "Sales"}``;
- an element that may repeat (its ``maxOccurs``, times that of the groups around it, is
  above one) is a JSON array; one that may not is never an array;
- at most one branch of an ``xs:choice`` that does not repeat is present;
- a leaf fits its simple type: ``xs:decimal`` is a ``Decimal`` or ``int`` (never a float or
  a bool), integer types are ``int``, ``xs:boolean`` is a bool, ``xs:date`` is
  ``"YYYY-MM-DD"``, ``xs:dateTime`` an ISO 8601 string, strings are ``str``, and
  enumerations and other facets hold;
- ``xs:any`` (``IntuitAnyType`` extension slots) accepts anything.

:func:`coerce` reads a body the lenient way QBO's own JSON reader does (a number given as a
string, a string given as a number, an empty string for an optional date or number) before
:func:`check` holds it to the strict rules above; see its docstring for each rule's source.

``minOccurs`` is not checked: every element of a QBO entity is optional in the XSD, and
sparse updates leave out what they do not change.

The schema is built once per folder (about two seconds) and shared between threads;
each complexType's shape is then computed once, so later checks are fast.
"""

from __future__ import annotations

import difflib
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import xmlschema

from .xsd_types import (ABSENT, Simple, check_simple, coerce_simple, describe, escape, simple_type,
                        type_name)

#: the folder of XSDs shipped with this package
XSD_DIR = Path(__file__).resolve().parent / "xsd"
#: the XSD that includes all the others (IntuitRestServiceDef → Finance, Report → base types)
ROOT_XSD = "SalesTax.xsd"

# --- complex types ------------------------------------------------------------------------

@dataclass
class _Field:
    element: Any
    repeated: bool


@dataclass
class _Shape:
    """How a JSON object of one complexType looks."""

    name: str
    fields: dict[str, _Field] = field(default_factory=dict)
    attributes: dict[str, Simple] = field(default_factory=dict)
    #: the simple type of the text (``"value"`` key) for simpleContent types
    text: Simple | None = None
    #: an ``xs:any`` wildcard: unknown keys are accepted
    open: bool = False
    #: non-repeating choices: each a list of branches, each branch the keys it may use
    choices: list[list[frozenset[str]]] = field(default_factory=list)


class Checker:
    """The checker for one folder of QBO XSDs. Build it with :func:`load`, not directly."""

    def __init__(self, xsd_dir: Path) -> None:
        root = Path(xsd_dir) / ROOT_XSD
        if not root.is_file():
            raise FileNotFoundError(f"{root} does not exist; the QuickBooks XSD folder must hold "
                                    f"{ROOT_XSD} and the files it includes")
        # allow="local": the XSDs include local files only, never the network ("sandbox" would
        # also block validating simple values, which xmlschema 4 wraps in a dummy resource)
        self.schema = xmlschema.XMLSchema(str(root), allow="local")
        self._shapes: dict[int, _Shape] = {}
        self._simples: dict[int, Simple] = {}
        self._lock = threading.Lock()

    # the entry point -----------------------------------------------------------------
    def check(self, entity_name: str, body: Any) -> list[str]:
        """Every problem of ``body`` as a ``entity_name`` JSON object; empty when it is valid.

        ``entity_name`` is a global element (``"JournalEntry"``, ``"IntuitResponse"``) or a
        complexType (``"Line"``). Each problem reads ``<JSON pointer>: <what is wrong>``.
        Raises ``LookupError`` when the XSD defines no such element or type.
        """
        xsd_type = self._root_type(entity_name)
        problems: list[str] = []
        self._value(body, xsd_type, "", entity_name, problems)
        return problems

    def coerce(self, entity_name: str, body: Any) -> Any:
        """``body`` as QBO's JSON reader takes it: a copy, leaves converted (see :func:`coerce`)."""
        return self._coerce(body, self._root_type(entity_name))

    def _coerce(self, value: Any, xsd_type: Any) -> Any:
        if xsd_type.is_simple():
            return coerce_simple(value, self._simple(xsd_type))
        if not isinstance(value, dict):
            return value
        shape = self._shape(xsd_type)
        out: dict[Any, Any] = {}
        for key, item in value.items():
            if shape.text is not None and key == "value":
                item = coerce_simple(item, shape.text)
            elif shape.text is None and key in shape.fields:
                spec = shape.fields[key]
                if isinstance(item, list):
                    if spec.repeated:
                        item = [v for v in (self._coerce(v, spec.element.type) for v in item)
                                if v is not ABSENT]
                elif item is not None:
                    item = self._coerce(item, spec.element.type)
            elif key in shape.attributes and item is not None:
                item = coerce_simple(item, shape.attributes[key])
            if item is not ABSENT:
                out[key] = item
        return out

    def _root_type(self, entity_name: str) -> Any:
        element = self.schema.elements.get(entity_name)
        if element is not None:
            return element.type
        xsd_type = self.schema.types.get(entity_name)
        if xsd_type is not None:
            return xsd_type
        close = difflib.get_close_matches(entity_name, list(self.schema.elements), n=3)
        hint = f"; did you mean {', '.join(close)}?" if close else ""
        raise LookupError(f"the QuickBooks XSD defines no element or type {entity_name!r}{hint}")

    # shapes --------------------------------------------------------------------------
    def _simple(self, stype: Any) -> Simple:
        key = id(stype)
        found = self._simples.get(key)
        if found is None:
            found = self._simples[key] = simple_type(stype)
        return found

    def _shape(self, ctype: Any) -> _Shape:
        key = id(ctype)
        shape = self._shapes.get(key)
        if shape is None:
            with self._lock:
                shape = self._shapes.get(key)
                if shape is None:
                    shape = self._shapes[key] = self._build_shape(ctype)
        return shape

    def _members(self, element: Any) -> list[Any]:
        """The element itself (unless abstract) and every element that may substitute it."""
        target = element.ref if getattr(element, "ref", None) is not None else element
        out = [] if getattr(target, "abstract", False) else [target]
        for member in self.schema.maps.substitution_groups.get(target.name, ()):
            out.extend(m for m in self._members(member) if m not in out)
        return out

    def _build_shape(self, ctype: Any) -> _Shape:
        shape = _Shape(type_name(ctype))
        for attr_name, attr in ctype.attributes.items():
            if attr_name is None or not isinstance(attr_name, str):  # attribute wildcard
                continue
            shape.attributes[attr_name.rsplit("}", 1)[-1]] = self._simple(attr.type)
        if ctype.has_simple_content():
            shape.text = self._simple(ctype.content)
            return shape
        content = ctype.content
        if content is None or not hasattr(content, "model"):
            return shape
        self._walk(content, 1, shape)
        return shape

    def _walk(self, group: Any, multiplier: int | None, shape: _Shape) -> set[str]:
        """Record the elements of ``group``; return the JSON keys it may contribute.

        ``multiplier`` is how often the surrounding groups may repeat (None = unbounded).
        """
        group_max = _times(multiplier, group.max_occurs)
        keys: set[str] = set()
        branches: list[frozenset[str]] = []
        for item in group:
            if hasattr(item, "model"):  # a nested group
                item_keys = self._walk(item, group_max, shape)
            elif isinstance(item, xmlschema.validators.XsdAnyElement):
                shape.open = True
                item_keys = set()
            else:
                item_keys = set()
                repeated = _repeats(_times(group_max, item.max_occurs))
                for member in self._members(item):
                    key = member.local_name
                    known = shape.fields.get(key)
                    shape.fields[key] = _Field(member, repeated or (known is not None and known.repeated))
                    item_keys.add(key)
            keys |= item_keys
            branches.append(frozenset(item_keys))
        if group.model == "choice" and not _repeats(group_max):
            shape.choices.append([b for b in branches if b])
        return keys

    # walking a JSON value ---------------------------------------------------------------
    def _value(self, value: Any, xsd_type: Any, where: str, label: str, problems: list[str]) -> None:
        if xsd_type.is_simple():
            check_simple(value, self._simple(xsd_type), where or "/", problems)
            return
        shape = self._shape(xsd_type)
        if not isinstance(value, dict):
            problems.append(f"{where or '/'}: {label} must be a JSON object ({shape.name}), "
                            f"got {describe(value)}")
            return
        if shape.open and not shape.fields and not shape.attributes and shape.text is None:
            return  # IntuitAnyType: anything goes
        for key, item in value.items():
            here = f"{where}/{escape(str(key))}"
            if shape.text is not None and key == "value":
                check_simple(item, shape.text, here, problems)
                continue
            spec = shape.fields.get(key) if shape.text is None else None
            if spec is not None:
                self._element(item, spec, here, key, problems)
                continue
            attr = shape.attributes.get(key)
            if attr is not None:
                if item is not None:
                    check_simple(item, attr, here, problems)
                continue
            if shape.open:
                continue
            problems.append(f"{here}: {self._unknown(key, shape)}")
        for branches in shape.choices:
            present = [sorted(k for k in branch if k in value) for branch in branches]
            used = [p for p in present if p]
            if len(used) > 1:
                names = ", ".join(k for p in used for k in p)
                problems.append(f"{where or '/'}: {names} are alternatives in {shape.name}; "
                                f"keep only one of them")

    def _unknown(self, key: str, shape: _Shape) -> str:
        allowed = ["value"] if shape.text is not None else list(shape.fields)
        allowed += list(shape.attributes)
        close = difflib.get_close_matches(str(key), allowed, n=1)
        if close:
            return f"{shape.name} has no element or attribute {key!r}; did you mean {close[0]!r}?"
        listed = ", ".join(sorted(allowed)) if len(allowed) <= 12 else \
            ", ".join(sorted(allowed)[:12]) + f", … ({len(allowed)} in all)"
        return f"{shape.name} has no element or attribute {key!r}; allowed: {listed}"

    def _element(self, value: Any, spec: _Field, where: str, key: str, problems: list[str]) -> None:
        element = spec.element
        if value is None:
            if not element.nillable:
                problems.append(f"{where}: {key} may not be null; leave it out instead")
            return
        if spec.repeated:
            if not isinstance(value, list):
                problems.append(f"{where}: {key} repeats in the XSD (maxOccurs > 1) and must be "
                                f"a JSON array, got {describe(value)}")
                return
            max_occurs = element.max_occurs
            if max_occurs is not None and max_occurs > 1 and len(value) > max_occurs:
                problems.append(f"{where}: {key} holds {len(value)} items; the XSD allows at most "
                                f"{max_occurs}")
            for index, item in enumerate(value):
                self._value(item, element.type, f"{where}/{index}", key, problems)
            return
        if isinstance(value, list):
            problems.append(f"{where}: {key} occurs at most once in the XSD and must not be a "
                            f"JSON array; send the single value")
            return
        self._value(value, element.type, where, key, problems)


def _times(a: int | None, b: int | None) -> int | None:
    if a is None or b is None:
        return None if (a != 0 and b != 0) else 0
    return a * b


def _repeats(max_occurs: int | None) -> bool:
    return max_occurs is None or max_occurs > 1


_checkers: dict[Path, Checker] = {}
_load_lock = threading.Lock()


def load(xsd_dir: str | Path | None = None) -> Checker:
    """The :class:`Checker` for ``xsd_dir`` (default: the XSDs shipped with this package).

    Building it reads the XSDs once (about two seconds); later calls return the same object.
    """
    path = Path(xsd_dir).resolve() if xsd_dir is not None else XSD_DIR
    checker = _checkers.get(path)
    if checker is None:
        with _load_lock:
            checker = _checkers.get(path)
            if checker is None:
                checker = _checkers[path] = Checker(path)
    return checker


def check(entity_name: str, body: Any, *, xsd_dir: str | Path | None = None) -> list[str]:
    """Every problem of a QBO JSON ``body`` of ``entity_name`` against the XSD; [] when valid.

    ``entity_name`` is an XSD global element such as ``"JournalEntry"``, ``"Invoice"``,
    ``"Payment"``, ``"Customer"``, ``"Deposit"`` or ``"IntuitResponse"`` (a whole response
    body, Fault included), or a complexType name. Problems are JSON pointers into ``body``
    followed by what is wrong, e.g.
    ``/Line/0/JournalEntryLineDetail/PostingType: 'Debet' is not one of Credit, Debit``.
    """
    return load(xsd_dir).check(entity_name, body)


def coerce(entity_name: str, body: Any, *, xsd_dir: str | Path | None = None) -> Any:
    """``body`` read the lenient way QBO's JSON reader reads it, as a copy (``body`` is kept).

    :func:`check` is strict on purpose: it is what ledgerlink's own requests must pass. QBO
    itself (a Java service whose JSON binding coerces scalars) accepts more, and real clients
    rely on it; ``python-quickbooks``, the most used Python client, sends every one of these
    by default, and its integration tests (``tests/integration/test_*.py``, run against an
    Intuit sandbox company) create invoices, payments, deposits, credit memos and refund
    receipts with them:

    - a number given as a JSON string where the XSD has a number (``"Amount": "25.50"``:
      its ``DecimalEncoder`` writes every ``Decimal`` as a string) is that number, digit for
      digit; a string that is not a JSON number is left for :func:`check` to refuse;
    - ``"true"`` / ``"false"`` where the XSD has a boolean are those booleans;
    - a JSON number where the XSD has a plain string (``"SyncToken": 0``, a LinkedTxn's
      ``"TxnLineId": 1``) is its text;
    - an empty string where the XSD has a date, date-time, number, boolean or enumeration
      (``"TxnDate": ""``, ``"DueDate": ""``, ``"TotalAmt": ""``, ``"PaymentType": ""``) is
      an element not given. Inferred: the clients' objects default these to ``""`` and the
      creates above succeed.

    Unknown keys and values of the wrong shape are kept as they are, so :func:`check` still
    names them. ``entity_name`` is as for :func:`check`.
    """
    return load(xsd_dir).coerce(entity_name, body)


__all__ = ["Checker", "XSD_DIR", "check", "coerce", "load"]
