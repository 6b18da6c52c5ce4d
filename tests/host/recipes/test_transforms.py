"""The host's transforms: exact money, dates in a zone, explicit rounding."""

from decimal import Decimal

import pytest

from ledgerlink.testing.expressions import core_catalog
from ledgerlink.errors import TransformError

T = core_catalog().transforms


def apply(name, value, **params):
    return T[name].apply(value, params)


@pytest.mark.parametrize("amount, currency, expected", [
    (1050, "USD", "10.50"), (1050, "usd", "10.50"), (1000, "JPY", "1000"), (5125, "KWD", "5.125"),
    (5120, "BHD", "5.120"), (-250, "EUR", "-2.50"), (0, "GBP", "0.00"), ("1050", "USD", "10.50"),
    (Decimal("1050"), "USD", "10.50"), (7, "CLF", "0.0007"),
])
def test_money_by_iso_exponent(amount, currency, expected):
    result = apply("money", amount, currency=currency)
    assert isinstance(result, Decimal)
    assert str(result) == expected


def test_money_exponent_override():
    assert str(apply("money", 1050, currency="USD", exponent=3)) == "1.050"


@pytest.mark.parametrize("value, words", [
    (10.5, "float"), (True, "boolean"), (None, "null"), ("ten", "string"), (Decimal("10.5"), "fraction"),
    ({"a": 1}, "expected"),
])
def test_money_refuses_what_is_not_minor_units(value, words):
    with pytest.raises(TransformError) as info:
        apply("money", value, currency="USD")
    assert words in str(info.value)


@pytest.mark.parametrize("currency", ["US", "XYZ", 12, None])
def test_money_refuses_unknown_currency(currency):
    with pytest.raises(TransformError) as info:
        apply("money", 100, currency=currency)
    assert "currency" in str(info.value)


def test_date_and_datetime():
    assert apply("date", 1700000000, timezone="UTC") == "2023-11-14"
    assert apply("date", 1700000000, timezone="Asia/Tokyo") == "2023-11-15"
    assert apply("date", "2024-02-29T23:30:00Z", timezone="Europe/Paris") == "2024-03-01"
    assert apply("date", "2024-02-29", timezone="Europe/Paris") == "2024-02-29"
    assert apply("datetime", 1700000000, timezone="Europe/Paris") == "2023-11-14T23:13:20+01:00"
    assert apply("datetime", "2024-06-01T12:00:00", timezone="America/New_York") == "2024-06-01T12:00:00-04:00"


@pytest.mark.parametrize("value, tz, words", [
    ("yesterday", "UTC", "ISO 8601"), (None, "UTC", "null"), (1700000000, "Mars/Olympus", "unknown time zone"),
    (10 ** 20, "UTC", "out of range"),
])
def test_date_refusals(value, tz, words):
    with pytest.raises(TransformError) as info:
        apply("date", value, timezone=tz)
    assert words in str(info.value)


def test_text_and_numbers():
    assert apply("upper", "usd") == "USD"
    assert apply("lower", "USD") == "usd"
    assert apply("string", Decimal("10.50")) == "10.50"
    assert apply("string", 3) == "3" and apply("string", False) == "false"
    assert apply("integer", "42") == 42 and apply("integer", Decimal("42.0")) == 42
    assert apply("decimal", "0.1") + apply("decimal", "0.2") == Decimal("0.3")
    for name, value in (("upper", 3), ("string", None), ("integer", "4.5"), ("decimal", "abc"), ("integer", 1.0)):
        with pytest.raises(TransformError):
            apply(name, value)


@pytest.mark.parametrize("value, params, expected", [
    ("2.675", {"places": 2, "rounding": "half_up"}, "2.68"),
    ("2.665", {"places": 2, "rounding": "half_even"}, "2.66"),
    ("2.669", {"places": 2, "rounding": "down"}, "2.66"),
    ("-2.661", {"places": 2, "rounding": "floor"}, "-2.67"),
    ("1234.5", {"currency": "JPY", "rounding": "half_up"}, "1235"),
    ("1.23456", {"currency": "KWD", "rounding": "half_even"}, "1.235"),
])
def test_round_with_explicit_mode(value, params, expected):
    assert str(apply("round", value, **params)) == expected


def test_round_needs_a_precision():
    with pytest.raises(TransformError):
        apply("round", "1.5", rounding="half_up")


def test_every_core_transform_has_a_schema_and_summary():
    assert set(T) == {"money", "date", "datetime", "upper", "lower", "string", "integer", "decimal", "round", "abs"}
    assert T["round"].params_schema["required"] == ["rounding"]


@pytest.mark.parametrize("value,expected", [(-1234, "1234"), (1234, "1234"), (0, "0"),
                                            ("-12.340", "12.340"), (Decimal("-0.005"), "0.005")])
def test_abs_keeps_the_number_exact(value, expected):
    result = apply("abs", value)
    assert str(result) == expected and not isinstance(result, float)
    assert isinstance(result, int) == isinstance(value, int)


def test_abs_refuses_what_is_not_a_number():
    for value in ("twelve", True, 1.5, None):
        with pytest.raises(TransformError):
            apply("abs", value)
