"""Money as the Stripe sandbox moves it: currencies' minor units, card fees, exchange rates.

Amounts are integer minor units everywhere, as Stripe's API writes them
(https://docs.stripe.com/currencies#zero-decimal): JPY and the other zero-decimal currencies
have none, KWD and the other three-decimal currencies have three, every other currency two.
Exchange rates are exact ``Decimal`` values from a seeded table; a converted amount is
rounded half up to the settlement currency's minor unit.

What the sandbox charges (Stripe's standard US pricing, https://stripe.com/pricing):

- a successful card charge: **2.9% + 30¢** of the amount in the settlement currency (the
  30¢ is converted when the account settles in another currency), plus **1%** when the
  charge is converted from another currency (Stripe's currency conversion fee,
  https://docs.stripe.com/currencies/conversions); one ``stripe_fee`` entry in
  ``fee_details``;
- a refund: no fee (Stripe keeps the original charge's fee);
- a dispute: **$15.00** when the funds are withdrawn, not returned when the dispute is won.
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

#: currencies without a minor unit (docs.stripe.com/currencies#zero-decimal)
ZERO_DECIMAL = frozenset({"bif", "clp", "djf", "gnf", "jpy", "kmf", "krw", "mga", "pyg", "rwf",
                          "ugx", "vnd", "vuv", "xaf", "xof", "xpf"})
#: currencies with three decimals (docs.stripe.com/currencies#three-decimal)
THREE_DECIMAL = frozenset({"bhd", "jod", "kwd", "omr", "tnd"})

#: the seeded rates: what one unit of each currency is worth in US dollars
USD_VALUE: dict[str, Decimal] = {
    "usd": Decimal("1"), "eur": Decimal("1.0845"), "gbp": Decimal("1.2610"),
    "jpy": Decimal("0.006712"), "kwd": Decimal("3.2415"), "cad": Decimal("0.7372"),
    "aud": Decimal("0.6490"), "chf": Decimal("1.1315"),
}

#: the percentage and fixed part (in US cents) of a card charge, and the conversion surcharge
CARD_PERCENT = Decimal("0.029")
CARD_FIXED_USD_CENTS = 30
CONVERSION_PERCENT = Decimal("0.01")
#: the dispute fee in US cents
DISPUTE_FEE_USD_CENTS = 1500


def exponent(currency: str) -> int:
    """How many decimals ``currency`` has in Stripe's amounts."""
    code = currency.lower()
    return 0 if code in ZERO_DECIMAL else 3 if code in THREE_DECIMAL else 2


def supported(currency: str) -> bool:
    """True when the seeded table has a rate for ``currency``."""
    return currency.lower() in USD_VALUE


def to_major(amount: int, currency: str) -> Decimal:
    """Minor units -> an exact Decimal amount of the currency."""
    return Decimal(amount).scaleb(-exponent(currency))


def to_minor(amount: Decimal, currency: str) -> int:
    """A Decimal amount -> minor units, rounded half up (away from zero on a tie)."""
    quantum = Decimal(1).scaleb(-exponent(currency))
    return int(amount.quantize(quantum, rounding=ROUND_HALF_UP).scaleb(exponent(currency)))


def rate(source: str, settlement: str) -> Decimal:
    """Units of ``settlement`` per unit of ``source`` (exact to six decimals)."""
    value = USD_VALUE[source.lower()] / USD_VALUE[settlement.lower()]
    return value.quantize(Decimal("0.000001"), rounding=ROUND_HALF_UP).normalize()


def convert(amount: int, source: str, settlement: str) -> tuple[int, Decimal | None]:
    """``amount`` minor units of ``source`` in ``settlement`` minor units, and the rate used
    (None when no conversion happened)."""
    if source.lower() == settlement.lower():
        return amount, None
    used = rate(source, settlement)
    return to_minor(to_major(amount, source) * used, settlement), used


def usd_cents_in(cents: int, settlement: str) -> int:
    """A fee fixed in US cents, in the settlement currency's minor units."""
    return convert(cents, "usd", settlement)[0]


def card_fee(settled: int, settlement: str, converted: bool) -> int:
    """The fee of a card charge that settled ``settled`` minor units."""
    percent = CARD_PERCENT + (CONVERSION_PERCENT if converted else Decimal(0))
    share = to_minor(to_major(settled, settlement) * percent, settlement)
    return share + usd_cents_in(CARD_FIXED_USD_CENTS, settlement)


def dispute_fee(settlement: str) -> int:
    """The dispute fee in the settlement currency's minor units."""
    return usd_cents_in(DISPUTE_FEE_USD_CENTS, settlement)


__all__ = ["USD_VALUE", "card_fee", "convert", "dispute_fee", "exponent", "rate", "supported",
           "to_major", "to_minor"]
