"""The ``stripe.money`` transform: Stripe minor units to exact Decimals by Stripe's own rules.

Source: https://docs.stripe.com/currencies (zero-decimal, three-decimal, special cases) and
https://support.stripe.com/questions/deprecation-of-fractional-isk-charges-and-refunds.
Where Stripe differs from ISO 4217, Stripe's API wins, because these are Stripe's integers:

- ISK: ISO 4217 says 0 decimals; Stripe keeps ISK two-decimal in its API (100 = 1 ISK)
  and only refuses charges that are not multiples of 100.
- MGA: ISO 4217 says 2 decimals; Stripe treats MGA as zero-decimal (1000 = 1000 MGA).
- UGX: zero-decimal in both; Stripe lists it among its special cases too (the exact
  wording of that note is unverified), but the amount is whole shillings.
- HUF, TWD: two-decimal in both ISO 4217 and Stripe's API; Stripe's special case is
  only that *payouts* must be whole units (divisible by 100), so 100 = 1.00 here.
"""

from __future__ import annotations

from decimal import Decimal

import jsonschema
import pytest

from ledgerlink.connectors.catalog import Catalog
from ledgerlink.errors import MappingError, TransformError
from ledgerlink_stripe import ledgerlink_register_transforms, money

STRIPE_ZERO_DECIMAL = "BIF CLP DJF GNF JPY KMF KRW MGA PYG RWF UGX VND VUV XAF XOF XPF".split()
STRIPE_THREE_DECIMAL = "BHD JOD KWD OMR TND".split()
SOME_TWO_DECIMAL = "USD EUR GBP CAD AUD CHF SEK NOK DKK PLN CZK MXN BRL INR ZAR SGD HKD NZD".split()


@pytest.fixture(scope="module")
def transform():
    catalog = Catalog()
    ledgerlink_register_transforms(catalog.registrar("transform", "stripe"))
    return catalog.transforms["stripe.money"]


def _convert(transform, value, currency):
    return transform.apply(value, {"currency": currency})


def _exact(result: Decimal, text: str) -> None:
    assert isinstance(result, Decimal)
    assert str(result) == text  # the same digits AND the same number of decimal places


def test_tables_are_stripes_lists():
    assert money.ZERO_DECIMAL == frozenset(STRIPE_ZERO_DECIMAL)
    assert money.THREE_DECIMAL == frozenset(STRIPE_THREE_DECIMAL)
    assert money.__doc__ and "docs.stripe.com/currencies" in money.__doc__


def test_registered_transform(transform):
    assert transform.name == "stripe.money"
    assert transform.plugin == "stripe"
    assert transform.summary.strip()
    assert transform.params_schema == {
        "type": "object",
        "properties": {"currency": transform.params_schema["properties"]["currency"]},
        "required": ["currency"],
        "additionalProperties": False,
    }
    validator = jsonschema.Draft202012Validator(transform.params_schema)
    validator.validate({"currency": "usd"})
    validator.validate({"currency": "JPY"})
    for bad in ({}, {"currency": "us"}, {"currency": 840}, {"currency": "usd", "exponent": 2}):
        assert list(validator.iter_errors(bad)), bad


def test_the_examples(transform):
    _exact(_convert(transform, 1000, "usd"), "10.00")
    _exact(_convert(transform, 1000, "jpy"), "1000")
    _exact(_convert(transform, 5120, "kwd"), "5.120")
    _exact(_convert(transform, 100, "isk"), "1.00")
    _exact(_convert(transform, -500, "usd"), "-5.00")


@pytest.mark.parametrize("code", STRIPE_ZERO_DECIMAL)
def test_zero_decimal_currencies(transform, code):
    _exact(_convert(transform, 1000, code.lower()), "1000")
    _exact(_convert(transform, 1, code), "1")
    _exact(_convert(transform, -250, code.lower()), "-250")
    assert money.exponent(code.lower()) == 0


@pytest.mark.parametrize("code", STRIPE_THREE_DECIMAL)
def test_three_decimal_currencies(transform, code):
    _exact(_convert(transform, 5120, code.lower()), "5.120")
    _exact(_convert(transform, 1, code.lower()), "0.001")
    _exact(_convert(transform, -10, code), "-0.010")
    assert money.exponent(code) == 3


@pytest.mark.parametrize("code", SOME_TWO_DECIMAL)
def test_two_decimal_currencies(transform, code):
    _exact(_convert(transform, 1000, code.lower()), "10.00")
    _exact(_convert(transform, 5, code.lower()), "0.05")
    _exact(_convert(transform, -1, code), "-0.01")
    assert money.exponent(code) == 2


@pytest.mark.parametrize("code,amount,text", [
    ("isk", 100, "1.00"),      # ISO 0 decimals, Stripe 2: 100 is one krona
    ("isk", 50000, "500.00"),
    ("isk", 150, "1.50"),      # fractional krona (pre-2023 charges) still convert exactly
    ("huf", 100, "1.00"),      # two-decimal for charges; only payouts are whole forints
    ("huf", 123456, "1234.56"),
    ("twd", 100, "1.00"),      # same as HUF
    ("twd", 99, "0.99"),
    ("ugx", 1000, "1000"),     # zero-decimal, as in ISO
    ("mga", 1000, "1000"),     # ISO 2 decimals, Stripe 0
])
def test_where_stripe_and_iso_4217_differ(transform, code, amount, text):
    _exact(_convert(transform, amount, code), text)


def test_negative_and_zero_amounts(transform):
    _exact(_convert(transform, -500, "usd"), "-5.00")
    _exact(_convert(transform, -5, "usd"), "-0.05")
    _exact(_convert(transform, -1000, "jpy"), "-1000")
    _exact(_convert(transform, -5120, "kwd"), "-5.120")
    _exact(_convert(transform, 0, "usd"), "0.00")
    _exact(_convert(transform, 0, "jpy"), "0")
    _exact(_convert(transform, 0, "bhd"), "0.000")


def test_large_amounts_stay_exact(transform):
    _exact(_convert(transform, 10**30 + 1, "usd"), "10000000000000000000000000000.01")
    _exact(_convert(transform, 99999999999999999, "kwd"), "99999999999999.999")


def test_currency_is_case_insensitive(transform):
    for code in ("usd", "USD", "Usd", "uSD"):
        _exact(_convert(transform, 1999, code), "19.99")


@pytest.mark.parametrize("value,text", [
    (1000, "10.00"),
    (Decimal("1000"), "10.00"),
    (Decimal("1E+3"), "10.00"),
    (Decimal("1000.000"), "10.00"),
    ("1000", "10.00"),
    (" -500 ", "-5.00"),
    ("+7", "0.07"),
])
def test_integral_values_of_other_types_are_accepted(transform, value, text):
    _exact(_convert(transform, value, "usd"), text)


@pytest.mark.parametrize("value,received", [
    (True, "the boolean true"),
    (False, "the boolean false"),
    (10.5, "the float 10.5"),
    (1000.0, "the float 1000.0"),
    (Decimal("10.5"), "10.5, which has a fraction"),
    (Decimal("NaN"), "got NaN"),
    (Decimal("Infinity"), "got Infinity"),
    ("10.50", "the string '10.50'"),
    ("ten", "the string 'ten'"),
    ("", "the string ''"),
    ("1e3", "the string '1e3'"),
    (None, "got null"),
    ([1000], "list [1000]"),
    ({"amount": 1000}, "dict"),
])
def test_bad_amounts_say_what_was_received_and_what_is_expected(transform, value, received):
    with pytest.raises(TransformError) as caught:
        _convert(transform, value, "usd")
    message = str(caught.value)
    assert received in message
    assert "stripe.money expected an integer amount in minor units" in message
    assert isinstance(caught.value, MappingError)  # the host adds recipe, step and pointer


@pytest.mark.parametrize("currency,fragment", [
    (None, "needs a currency parameter"),
    ("", "3-letter code"),
    ("us", "3-letter code"),
    ("usdd", "3-letter code"),
    ("us1", "3-letter code"),
    ("€€€", "3-letter code"),
    (840, "3-letter code"),
    (True, "3-letter code"),
    ("xyz", "unknown currency 'xyz'"),
    ("usx", "unknown currency 'usx'"),
])
def test_bad_currencies_are_refused(transform, currency, fragment):
    with pytest.raises(TransformError) as caught:
        _convert(transform, 1000, currency)
    assert fragment in str(caught.value)


def test_missing_or_extra_parameters_are_refused(transform):
    with pytest.raises(TransformError, match="needs a currency parameter"):
        transform.apply(1000, {})
    with pytest.raises(TransformError, match="only the parameter 'currency'"):
        transform.apply(1000, {"currency": "usd", "exponent": 0})
    with pytest.raises(TransformError, match="parameters must be an object"):
        transform.apply(1000, None)


def test_no_code_type_or_id_accepts_a_trailing_newline():
    from ledgerlink.errors import EventError
    from ledgerlink.contract import is_currency
    from ledgerlink_quickbooks import synctoken
    from ledgerlink_stripe.webhook import event_from_payload

    with pytest.raises(TransformError, match="3-letter code"):
        money.exponent("usd\n")
    with pytest.raises(EventError, match="needs a \"type\""):
        event_from_payload({"id": "evt_1", "type": "invoice.paid\n", "data": {"object": {}}})
    assert not is_currency("USD\n") and is_currency("USD")
    assert synctoken.id_problem("130\n") and synctoken.id_problem("130") is None
