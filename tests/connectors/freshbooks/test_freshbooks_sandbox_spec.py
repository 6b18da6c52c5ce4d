"""The FreshBooks sandbox's request schemas: the community OpenAPI made strict, and each listed
deviation proven by FreshBooks' own recorded answers."""

from __future__ import annotations

import json

import pytest
import yaml
from jsonschema import Draft4Validator

from ledgerlink_sandboxes.freshbooks import spec
from ledgerlink_sandboxes.freshbooks.api import SERVED
from vendor_files import FRESHBOOKS

JAVA = FRESHBOOKS / "freshbooks-java-sdk-fixtures"
WRITABLE_LINE = ("type", "name", "description", "qty", "unit_cost", "taxName1", "taxAmount1", "taxName2", "taxAmount2")


def recorded(name: str) -> dict:
    return json.loads((JAVA / name).read_text("utf-8"))["response"]["result"]


def original(name: str, instance) -> list[str]:
    """Errors of ``instance`` under the spec as published, made strict only."""
    document = yaml.safe_load(spec.SPEC.read_text("utf-8"))
    schemas = spec.strict(document["components"]["schemas"])
    validator = Draft4Validator({"allOf": [{"$ref": f"#/components/schemas/{name}"}],
                                 "components": {"schemas": schemas}})
    return [error.message for error in validator.iter_errors(instance)]


def test_every_deviation_names_a_schema_of_the_spec_and_says_why():
    published = yaml.safe_load(spec.SPEC.read_text("utf-8"))["components"]["schemas"]
    for name, _prop, change, why in spec.DEVIATIONS:
        assert name in published and change and len(why) > 10, name
    assert not set(spec.OWN) & set(published)


def test_every_resource_s_request_schemas_exist_and_are_closed():
    schemas = spec.load()
    for kind in SERVED:
        for name in (kind.create_schema, kind.update_schema):
            if name is None:
                continue
            assert name in schemas, name
            refused = spec.problems(name, {kind.singular: {"no_such_field": 1}}, update=True)
            assert refused and "no_such_field" in refused[0][1], name


@pytest.mark.parametrize("name", sorted({"ClientCreate", "InvoiceCreate", "InvoiceLinesWritable", "Payment",
                                         "ExpenseCreate", "TaxCreate"}))
def test_the_published_schemas_are_closed_too(name):
    assert spec.load()[name]["additionalProperties"] is False


def test_a_recorded_invoice_line_fails_the_published_schema_and_passes_the_deviated_one():
    line = {key: value for key, value in recorded("get_invoice_response.json")["invoice"]["lines"][0].items()
            if key in WRITABLE_LINE and value is not None}
    assert any("'4' is not of type 'integer'" in message for message in original("InvoiceLinesWritable", line))
    assert spec.problems("InvoiceLinesWritable", line) == []


def test_a_recorded_tax_and_payment_fail_the_published_schemas_and_pass_the_deviated_ones():
    tax = {key: value for key, value in recorded("get_tax_response.json")["tax"].items()
           if key in ("name", "number", "amount", "compound")}
    assert original("TaxCreate", tax) and spec.problems("TaxCreate", tax) == []
    payment = {key: value for key, value in recorded("get_payment_response.json")["payment"].items()
               if key in ("accounting_systemid", "amount", "date", "invoiceid", "note", "type")}
    assert original("Payment", payment) and spec.problems("Payment", payment) == []
    # FreshBooks' own example: the currency is left to the invoice's
    assert spec.problems("PaymemtCreateObject", {"payment": {
        "invoiceid": 123, "amount": {"amount": "10.00"}, "date": "2013-12-10", "type": "Check", "note": "x"}}) == []


def test_the_recorded_status_and_the_mark_as_sent_action_pass_an_invoice_update():
    status = recorded("get_invoice_response.json")["invoice"]["status"]
    assert original("InvoiceUpdateObject", {"invoice": {"status": status}})
    assert spec.problems("InvoiceUpdateObject", {"invoice": {"status": status}}, update=True) == []
    assert spec.problems("InvoiceUpdateObject", {"invoice": {"action_mark_as_sent": True}}, update=True) == []
    assert original("InvoiceUpdateObject", {"invoice": {"action_mark_as_sent": True}})


def test_an_update_may_leave_out_what_a_create_requires_but_not_misspell_it():
    assert spec.problems("PaymemtCreateObject", {"payment": {"vis_state": 1}}, update=True) == []
    assert spec.problems("PaymemtCreateObject", {"payment": {"vis_state": 1}}) == [
        ("payment", "'invoiceid' is a required property")]
    assert spec.problems("ExpenseUpdateObject", {"expense": {"vendr": "x"}}, update=True)


def test_the_own_schemas_take_the_recorded_other_income_and_item():
    income = {key: value for key, value in recorded("get_other_income_response.json")["other_income"].items()
              if key in spec.OWN["OtherIncomeCreate"]["properties"]}
    assert spec.problems("OtherIncomeCreateObject", {"other_income": income}) == []
    item = {key: value for key, value in recorded("get_item_response.json")["item"].items()
            if key in spec.OWN["ItemCreate"]["properties"]}
    assert spec.problems("ItemCreateObject", {"item": item}) == []
    assert spec.problems("ItemCreateObject", {"item": {**item, "price": "1"}})
