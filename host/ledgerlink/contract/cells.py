"""Cells of a spreadsheet file: what a connector writing CSV or xlsx, and the host's
``ledgerlink export``, both need to write values a spreadsheet shows as they are.

- **Formula injection** (OWASP's "CSV injection"): a text cell starting with ``=``, ``+``,
  ``-``, ``@``, a tab or a carriage return is run as a formula by a spreadsheet opening the
  file; :func:`neutralised` puts ``'`` before it, so it is shown, never run. A number (a
  negative amount) is not text, and stays a number.
- **Exact numbers**: a spreadsheet keeps a number as a binary double, exact to 15 significant
  digits (any decimal of at most 15 significant digits comes back from the double as the
  same decimal); :func:`exact_as_number` says whether a Decimal is one of those. Any other is
  written as text, its digits kept.
"""

from __future__ import annotations

from decimal import Decimal

#: the first characters a spreadsheet reads as the start of a formula
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
#: a spreadsheet's numbers are doubles: exact to this many significant digits
EXACT_DIGITS = 15


def neutralised(value: str) -> str:
    """``value`` as a spreadsheet shows it without running it: ``'`` before a formula start."""
    return "'" + value if value.startswith(FORMULA_STARTS) else value


def exact_as_number(value: Decimal) -> bool:
    """Whether a spreadsheet's double holds ``value`` exactly (15 significant digits at most)."""
    return value.is_finite() and len(value.as_tuple().digits) <= EXACT_DIGITS


def number_format(places: int) -> str:
    """The spreadsheet number format showing exactly ``places`` decimals (``0.00``; ``0``)."""
    return "0." + "0" * places if places else "0"


__all__ = ["EXACT_DIGITS", "FORMULA_STARTS", "exact_as_number", "neutralised", "number_format"]
