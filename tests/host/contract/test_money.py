"""Exact money by currency precision, and the foreign-currency rule (ledgerlink.contract.money)."""

from __future__ import annotations

from decimal import Decimal

import pytest

from ledgerlink.contract import (Problems, amount, amount_in, answer_decimal, currency_code,
                                 currency_exponent, exact, exponent, fit_currency,
                                 foreign_currency, is_currency, minor_to_major, minor_units,
                                 minus, plain, total)
from ledgerlink.errors import MappingError, TransformError


def _problems() -> Problems:
    return Problems("acme.create_invoice", "an invoice")


# --- currencies --------------------------------------------------------------------------

@pytest.mark.parametrize("code, places", [("USD", 2), ("JPY", 0), ("KWD", 3), ("CLF", 4),
                                          ("ISK", 0), ("eur", 2)])
def test_iso_4217_exponents(code, places):
    assert currency_exponent(code) == places
    assert exponent(code.upper()) == places


@pytest.mark.parametrize("code, known", [("USD", True), ("usd", True), ("USD\n", False),
                                         ("XYZ", False), ("US", False), (840, False), (None, False)])
def test_is_currency(code, known):
    assert is_currency(code) is known


@pytest.mark.parametrize("value, fragment", [
    ("us", "the currency must be a 3-letter code (ISO 4217) such as \"USD\", got the string 'us'"),
    (840, "got int 840"), (None, "got null"), (True, "got the boolean true"),
    ("xyz", "unknown currency 'xyz'"),
])
def test_currency_code_names_the_transform_and_what_it_got(value, fragment):
    with pytest.raises(TransformError) as caught:
        currency_code(value, transform="acme.money")
    assert str(caught.value).startswith("recipe, at /: acme.money: ")
    assert fragment in str(caught.value)
    assert isinstance(caught.value, MappingError)  # the host adds recipe, step and pointer


# --- a money transform ---------------------------------------------------------------------

@pytest.mark.parametrize("value, places, text", [
    (1050, 2, "10.50"), (1000, 0, "1000"), (5120, 3, "5.120"), (-5, 2, "-0.05"), (0, 2, "0.00"),
    (0, 3, "0.000"), (Decimal("1E+3"), 2, "10.00"), ("+7", 2, "0.07"), (" -500 ", 2, "-5.00"),
    (10**30 + 1, 2, "10000000000000000000000000000.01"),
])
def test_minor_to_major_is_exact_with_exactly_the_currency_places(value, places, text):
    result = minor_to_major(value, places, transform="money")
    assert isinstance(result, Decimal) and str(result) == text


@pytest.mark.parametrize("value, fragment", [
    (10.5, "got the float 10.5; floats are never used for money"),
    (True, "got the boolean true"), (None, "got null"),
    (Decimal("10.5"), "got 10.5, which has a fraction"),
    (Decimal("NaN"), "got NaN"),
    ("10.50", "got the string '10.50', which is not a whole number"),
    ("1e3", "got the string '1e3', which is not a whole number"),
    ({"amount": 1}, "got dict {'amount': 1}"),
])
def test_minor_units_refuses_what_is_not_an_integer(value, fragment):
    with pytest.raises(TransformError) as caught:
        minor_units(value, transform="acme.money", example="Acme sends 1050 for 10.50 USD")
    message = str(caught.value)
    assert "acme.money expected an integer amount in minor units (Acme sends 1050 for 10.50 USD)" \
        in message
    assert fragment in message


# --- a ledger action's amounts ---------------------------------------------------------------

@pytest.mark.parametrize("value, sign, read", [
    ("12.50", "positive", "12.50"), (12, "positive", "12"), (Decimal("2E+3"), "positive", "2000"),
    ("0", "nonnegative", "0"), ("-0.00", "any", "0.00"), ("-12.5", "any", "-12.5"),
    (" 1.25 ", "positive", "1.25"),
])
def test_amount_reads_exact_decimals(value, sign, read):
    problems = _problems()
    assert str(amount(value, "/Amount", "Amount", problems, sign=sign)) == read
    assert problems.items == []


@pytest.mark.parametrize("value, sign, message", [
    (1.5, "positive", "Amount is the float 1.5; floats lose cents, so pass a Decimal or a decimal "
                      "string such as \"12.50\" (a recipe's \"$as\": \"money\" or \"decimal\" gives "
                      "one, as does the source system's own money transform)"),
    ("1e3", "positive", "Amount '1e3' must be written as a plain decimal such as \"12.50\" (digits "
                        "and one point, no sign or exponent)"),
    ("ten", "positive", "Amount 'ten' is not a number; write a decimal such as \"12.50\""),
    ("NaN", "positive", "Amount 'NaN' is not a finite number; give a positive decimal"),
    (0, "positive", "Amount must be greater than 0, got 0; why"),
    ("-1", "nonnegative", "Amount must not be negative, got -1"),
    (None, "any", "Amount must be a decimal such as \"12.50\" or \"-12.50\", got null"),
    (True, "positive", "Amount must be a positive decimal such as \"12.50\", got the boolean true"),
])
def test_amount_refuses_with_a_message_that_says_what_to_give(value, sign, message):
    problems = _problems()
    assert amount(value, "/Amount", "Amount", problems, sign=sign, why_positive="why") is None
    assert problems.items == [f"/Amount: {message}"]


def test_fit_currency_refuses_excess_decimals_instead_of_rounding():
    problems = _problems()
    assert str(fit_currency(Decimal("1500.00"), "JPY", "/A", "A", problems, ledger="Acme")) == "1500"
    assert str(fit_currency(Decimal("5.1"), "KWD", "/A", "A", problems, ledger="Acme")) == "5.100"
    assert fit_currency(None, "USD", "/A", "A", problems, ledger="Acme") is None
    assert problems.items == []
    assert fit_currency(Decimal("12.345"), "USD", "/A", "A", problems, ledger="Acme") is None
    assert problems.items == ["/A: A 12.345 has more decimals than USD has (2); Acme would round "
                              "it, so round it yourself (a recipe's \"$as\": \"round\") or check "
                              "the currency"]


def test_amount_in_reads_and_fits():
    problems = _problems()
    assert str(amount_in("12.5", "USD", "/A", "A", problems, ledger="Acme")) == "12.50"
    assert amount_in("1.5", "JPY", "/A", "A", problems, ledger="Acme") is None
    assert len(problems.items) == 1


def test_a_foreign_currency_needs_an_explicit_rate():
    problems = _problems()
    rate = foreign_currency("EUR", "USD", None, problems, ledger="Acme", rate_given=False,
                            rate_example="the rate of the payment")
    assert rate is None
    assert problems.items == [
        "/exchange_rate: currency is EUR, not the company's home currency USD (connection "
        "setting home_currency), so give exchange_rate: how many USD one EUR is worth on the "
        "transaction date (e.g. the rate of the payment); without it Acme would book the "
        "amounts at a rate of its own choosing, such as 1:1"]


def test_a_foreign_currency_rate_is_sent_and_a_bad_one_is_not_reported_twice():
    problems = _problems()
    assert foreign_currency("EUR", "USD", Decimal("1.08"), problems, ledger="Acme",
                            rate_given=True) == Decimal("1.08")
    assert foreign_currency("EUR", "USD", None, problems, ledger="Acme", rate_given=True) is None
    assert problems.items == []


def test_the_home_currency_rate_is_one():
    problems = _problems()
    assert foreign_currency("USD", "USD", None, problems, ledger="Acme", rate_given=False) is None
    assert foreign_currency("USD", "USD", Decimal(1), problems, ledger="Acme", rate_given=True) is None
    assert problems.items == []
    foreign_currency("USD", "USD", Decimal("1.1"), problems, ledger="Acme", rate_given=True,
                     currency_field="CurrencyRef", rate_field="ExchangeRate")
    assert problems.items == [
        "/ExchangeRate: ExchangeRate is 1.1, but USD is the company's home currency (connection "
        "setting home_currency), whose rate is 1; leave ExchangeRate out or check CurrencyRef "
        "and home_currency"]


# --- exact arithmetic ------------------------------------------------------------------------

def test_sums_and_differences_are_exact_at_any_size():
    big = Decimal("1" + "0" * 40 + ".01")
    assert total([big, Decimal("0.01")]) == Decimal("1" + "0" * 40 + ".02")
    assert minus(big, Decimal("0.01")) == Decimal("1" + "0" * 40)
    assert total([]) == 0


def test_exact_is_none_when_the_result_would_be_rounded():
    assert exact(lambda: Decimal(10) / 4) == Decimal("2.5")
    assert exact(lambda: Decimal(10) / 3) is None
    assert exact(lambda: Decimal(1) / 0) is None


def test_plain_writes_no_positive_exponent():
    assert str(plain(Decimal("2E+3"))) == "2000"
    assert str(plain(Decimal("12.50"))) == "12.50"


@pytest.mark.parametrize("value, read", [
    (12.1, Decimal("12.1")), ("12.10", Decimal("12.10")), (7, Decimal(7)), (Decimal("1.5"), Decimal("1.5")),
    (True, None), (None, None), ("ten", None), ("NaN", None), (Decimal("Infinity"), None), ([1], None),
])
def test_answer_decimal_reads_a_number_of_the_vendors_answer(value, read):
    assert answer_decimal(value) == read
