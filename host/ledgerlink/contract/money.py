"""Exact money by currency precision: the one implementation every connector uses.

Money is a ``Decimal`` (or an integer of minor units), never a float. How many decimals a
currency has is ISO 4217's answer, taken from CLDR through babel (:func:`exponent`: USD 2,
JPY 0, KWD 3). A source system whose integers follow other rules (a payment processor that
keeps ISK two-decimal, say) expresses its own table on top of :func:`minor_to_major`.

Two sides use it:

- **a money transform** (a recipe's ``"$as"``) turns a source's minor units into a Decimal:
  :func:`currency_code`, :func:`currency_exponent`, :func:`minor_units` and
  :func:`minor_to_major` raise :class:`~ledgerlink.errors.TransformError` naming the
  transform, and the host adds the recipe, step and pointer;
- **a ledger action** reads amounts from its input into a
  :class:`~ledgerlink.contract.problems.Problems`: :func:`amount` (a plain decimal, sign
  checked), :func:`fit_currency` (refuses more decimals than the currency has instead of
  rounding), :func:`amount_in` (both), :func:`foreign_currency` (the exchange-rate rule);
  :func:`total`, :func:`minus` and :func:`exact` keep arithmetic exact, and
  :func:`answer_decimal` reads a number of the vendor's answer.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Iterable
from decimal import Decimal, Inexact, InvalidOperation, localcontext
from typing import Literal

import babel.numbers

from ledgerlink.contract.problems import Problems, show
from ledgerlink.errors import TransformError, quoted

#: what :func:`amount` accepts: > 0, >= 0, or any sign
Sign = Literal["positive", "nonnegative", "any"]

#: the host's transforms that give an action an exact amount (a recipe's ``"$as"``)
RECIPE_MONEY = ("money", "decimal")

_CODE = re.compile(r"^[A-Za-z]{3}$")
_INTEGER = re.compile(r"^[+-]?[0-9]+$")
_PLAIN = re.compile(r"^\s*[0-9]+(\.[0-9]+)?\s*$")
_SIGNED = re.compile(r"^\s*-?[0-9]+(\.[0-9]+)?\s*$")
#: Decimal arithmetic wide enough that adding or multiplying amounts is always exact
_WIDE = 1000


# --- currencies ------------------------------------------------------------------------------

@functools.lru_cache(maxsize=512)
def _known(upper: str) -> bool:
    return babel.numbers.is_currency(upper)


def is_currency(code: object) -> bool:
    """Whether ``code`` is an ISO 4217 code (either case; exactly 3 letters, no whitespace)."""
    return isinstance(code, str) and bool(_CODE.fullmatch(code)) and _known(code.upper())


@functools.lru_cache(maxsize=512)
def exponent(code: str) -> int:
    """ISO 4217 minor-unit digits of a known upper-case currency code (CLDR through babel)."""
    return babel.numbers.get_currency_precision(code)


def _describe(value: object) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return f"the boolean {str(value).lower()}"
    if isinstance(value, float):
        return f"the float {value!r}"
    if isinstance(value, str):
        return f"the string {quoted(value)}"
    return f"{type(value).__name__} {quoted(value)}"


def currency_code(value: object, *, transform: str = "money") -> str:
    """``value`` as an upper-case ISO 4217 code; else a TransformError of ``transform``
    (the transform whose parameter it is)."""
    if not isinstance(value, str) or not _CODE.fullmatch(value):
        raise TransformError(f"{transform}: the currency must be a 3-letter code (ISO 4217) such "
                             f"as \"USD\", got {_describe(value)}")
    if not _known(value.upper()):
        raise TransformError(f"{transform}: unknown currency {quoted(value)}; use an ISO 4217 "
                             f"currency code such as USD, EUR, JPY")
    return value.upper()


def currency_exponent(value: object, *, transform: str = "money") -> int:
    """ISO 4217 minor-unit digits of the currency code ``value`` (either case)."""
    return exponent(currency_code(value, transform=transform))


# --- a money transform -----------------------------------------------------------------------

def minor_units(value: object, *, transform: str, example: str = "") -> int:
    """``value`` as an exact integer number of minor units.

    Accepts an ``int``, an integral ``Decimal`` or a string of digits with an optional sign;
    refuses booleans, floats, ``None``, fractions and anything else with a TransformError
    of ``transform`` saying what it got. ``example`` (``"1050 for 10.50 USD"``) shows what the
    source sends.
    """
    expected = f"{transform} expected an integer amount in minor units" + (
        f" ({example})" if example else "")
    if isinstance(value, bool) or value is None:
        raise TransformError(f"{expected}, got {_describe(value)}")
    if isinstance(value, int):
        return value
    if isinstance(value, float):
        raise TransformError(f"{expected}, got the float {value!r}; floats are never used "
                             f"for money")
    if isinstance(value, Decimal):
        if not value.is_finite():
            raise TransformError(f"{expected}, got {value}")
        if value != value.to_integral_value():
            raise TransformError(f"{expected}, got {value}, which has a fraction; amounts in "
                                 f"minor units have none")
        return int(value)
    if isinstance(value, str) and _INTEGER.fullmatch(value.strip()):
        return int(value.strip())
    if isinstance(value, str):
        raise TransformError(f"{expected}, got {_describe(value)}, which is not a whole number")
    raise TransformError(f"{expected}, got {_describe(value)}")


def minor_to_major(value: object, places: int, *, transform: str, example: str = "") -> Decimal:
    """Minor units as an exact Decimal with exactly ``places`` decimals.

    ``minor_to_major(1050, 2, …) == Decimal("10.50")``; ``(1000, 0)`` → ``1000``;
    ``(5120, 3)`` → ``5.120``. Never passes through ``float``; any size stays exact.
    """
    minor = minor_units(value, transform=transform, example=example)
    digits = tuple(int(d) for d in str(abs(minor)))
    return Decimal((1 if minor < 0 else 0, digits, -places))


# --- a ledger action's amounts ---------------------------------------------------------------

def _either(words: Iterable[str]) -> str:
    """``"a", "b" or "c"``."""
    quoted_words = [f"\"{word}\"" for word in words]
    if len(quoted_words) == 1:
        return quoted_words[0]
    return ", ".join(quoted_words[:-1]) + " or " + quoted_words[-1]


def amount(value: object, where: str, what: str, problems: Problems, *,
           sign: Sign = "positive", recipe_as: Iterable[str] = RECIPE_MONEY,
           why_positive: str = "") -> Decimal | None:
    """An exact Decimal from a Decimal, an int or a plain decimal string; None after a problem.

    ``sign`` is ``"positive"`` (> 0), ``"nonnegative"`` (>= 0) or ``"any"`` (a leading
    ``-`` is allowed in a string too). ``recipe_as`` are the transforms the message about a
    float suggests; ``why_positive`` is added to the message about an amount that is not
    positive. ``2E+3`` is read as ``2000``, and ``-0`` as ``0``.
    """
    example = "\"12.50\"" if sign != "any" else "\"12.50\" or \"-12.50\""
    kind = "a positive decimal" if sign == "positive" else "a decimal"
    if isinstance(value, bool) or value is None:
        problems.add(where, f"{what} must be {kind} such as {example}, got {show(value)}")
        return None
    if isinstance(value, float):
        problems.add(where, f"{what} is the float {value!r}; floats lose cents, so pass a Decimal "
                            f"or a decimal string such as {example} (a recipe's \"$as\": "
                            f"{_either(recipe_as)} gives one, as does the source system's own "
                            f"money transform)")
        return None
    if isinstance(value, int):
        read = Decimal(value)
    elif isinstance(value, Decimal):
        read = value
    elif isinstance(value, str):
        try:
            read = Decimal(value.strip())
        except InvalidOperation:
            problems.add(where, f"{what} {value!r} is not a number; write a decimal such as {example}")
            return None
        pattern = _SIGNED if sign == "any" else _PLAIN
        if read.is_finite() and not pattern.match(value) and not (sign != "any" and read < 0):
            problems.add(where, f"{what} {value!r} must be written as a plain decimal such as "
                                f"{example} (digits and one point, "
                                f"{'no exponent' if sign == 'any' else 'no sign or exponent'})")
            return None
    else:
        problems.add(where, f"{what} must be {kind} such as {example}, got {show(value)}")
        return None
    if not read.is_finite():
        problems.add(where, f"{what} {value!r} is not a finite number; give {kind}")
        return None
    if sign == "positive" and read <= 0:
        problems.add(where, f"{what} must be greater than 0, got {read}"
                            + (f"; {why_positive}" if why_positive else ""))
        return None
    if sign == "nonnegative" and read < 0:
        problems.add(where, f"{what} must not be negative, got {read}")
        return None
    read = plain(read)  # Decimal("1E+3"): send 1000, not an exponent
    return abs(read) if read == 0 else read  # never send -0.00


def fit_currency(value: Decimal | None, currency: str, where: str, what: str,
                 problems: Problems, *, ledger: str) -> Decimal | None:
    """``value`` written with exactly the currency's decimals; None (and a problem) when it
    has more: 12.345 USD is refused, not rounded (``ledger`` would round it), and 1500.00 JPY
    is sent as 1500."""
    if value is None:
        return None
    places = exponent(currency)
    with localcontext() as ctx:
        ctx.prec = _WIDE
        fitted = value.quantize(Decimal(1).scaleb(-places))
    if fitted != value:
        problems.add(where, f"{what} {value} has more decimals than {currency} has ({places}); "
                            f"{ledger} would round it, so round it yourself (a recipe's \"$as\": "
                            f"\"round\") or check the currency")
        return None
    return fitted


def amount_in(value: object, currency: str, where: str, what: str, problems: Problems, *,
              ledger: str, sign: Sign = "positive") -> Decimal | None:
    """:func:`amount` fitted to ``currency`` (:func:`fit_currency`)."""
    return fit_currency(amount(value, where, what, problems, sign=sign), currency, where, what,
                        problems, ledger=ledger)


def foreign_currency(currency: str, home: str, rate: Decimal | None, problems: Problems, *,
                     ledger: str, rate_given: bool, currency_field: str = "currency",
                     rate_field: str = "exchange_rate", home_setting: str = "home_currency",
                     rate_example: str = "") -> Decimal | None:
    """The exchange rate to send with an amount in ``currency``, by the foreign-currency rule.

    A currency other than the ledger's ``home`` currency needs an explicit ``rate`` (home
    units per one unit of ``currency``): without one ``ledger`` would book the amounts at a
    rate of its own choosing, such as 1:1, so its absence is a problem at ``/rate_field``.
    In the home currency a rate other than 1 is a problem, and None is returned (nothing to
    send). ``rate_given``: whether the input had the rate field at all (a rate given but
    unreadable was already reported by its reader, so it is not reported again);
    ``rate_example`` says where such a rate comes from.
    """
    where = f"/{rate_field}"
    if currency != home:
        if rate is None and not rate_given:
            problems.add(where, f"{currency_field} is {currency}, not the company's home currency "
                                f"{home} (connection setting {home_setting}), so give "
                                f"{rate_field}: how many {home} one {currency} is worth on the "
                                f"transaction date"
                                + (f" (e.g. {rate_example})" if rate_example else "")
                                + f"; without it {ledger} would book the amounts at a rate of "
                                  f"its own choosing, such as 1:1")
        return rate
    if rate is not None and rate != 1:
        problems.add(where, f"{rate_field} is {rate}, but {currency} is the company's home "
                            f"currency (connection setting {home_setting}), whose rate is 1; "
                            f"leave {rate_field} out or check {currency_field} and {home_setting}")
    return None


def answer_decimal(value: object) -> Decimal | None:
    """A number of a vendor's answer as a Decimal, or None when it holds none (a float is
    read from its shortest text, so 12.1 is 12.1, not 12.0999…)."""
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, Decimal):
        return value if value.is_finite() else None
    if isinstance(value, int):
        return Decimal(value)
    if isinstance(value, float):
        return Decimal(repr(value))
    if isinstance(value, str):
        try:
            result = Decimal(value.strip())
        except InvalidOperation:
            return None
        return result if result.is_finite() else None
    return None


# --- exact arithmetic ------------------------------------------------------------------------

def exact(operation: Callable[[], Decimal]) -> Decimal | None:
    """The result of Decimal arithmetic done exactly, or None when it cannot be exact
    (``exact(lambda: Decimal(10) / 3)`` is None)."""
    with localcontext() as ctx:
        ctx.prec = _WIDE
        ctx.traps[Inexact] = True
        try:
            return operation()
        except (Inexact, InvalidOperation, ZeroDivisionError):
            return None


def total(amounts: Iterable[Decimal]) -> Decimal:
    """The exact sum of ``amounts``."""
    with localcontext() as ctx:
        ctx.prec = _WIDE
        return sum(amounts, Decimal(0))


def minus(a: Decimal, b: Decimal) -> Decimal:
    """``a - b``, exactly."""
    with localcontext() as ctx:
        ctx.prec = _WIDE
        return a - b


def plain(value: Decimal) -> Decimal:
    """A Decimal without a positive exponent (2E+3 → 2000), value unchanged."""
    exp = value.as_tuple().exponent
    if isinstance(exp, int) and exp > 0:
        with localcontext() as ctx:
            ctx.prec = _WIDE
            return value.quantize(Decimal(1))
    return value


__all__ = ["RECIPE_MONEY", "Sign", "amount", "amount_in", "answer_decimal", "currency_code", "currency_exponent",
           "exact", "exponent", "fit_currency", "foreign_currency", "is_currency", "minor_to_major",
           "minor_units", "minus", "plain", "total"]
