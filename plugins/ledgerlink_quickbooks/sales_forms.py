"""QuickBooks sales forms: ``create_invoice``, ``create_credit_memo``, ``create_refund_receipt``.

The three share one input shape (see ``schemas/create_invoice.input.json``): ``Lines`` of
items — ``{ItemRef, Amount?, Qty?, UnitPrice?, Description?, TaxCodeRef?, ClassRef?,
ServiceDate?}``, typically one per Stripe invoice or credit note line through a recipe's
``$each`` — and at most one discount, either a line ``{"DetailType": "DiscountLineDetail",
Amount, DiscountAccountRef?}`` or the ``Discount`` shorthand (whose ``Amount`` may be a
list, e.g. Stripe's ``total_discount_amounts``, summed exactly). Then the customer, dates,
number, notes and currency of the form.

:func:`build_body` turns the input into the QBO body exactly, before any request exists:

- every amount is a ``Decimal`` with exactly its currency's decimals (refused when it has
  more, never rounded); floats are refused;
- a line's ``Amount`` must be ``Qty × UnitPrice`` exactly (QuickBooks refuses a mismatch);
  when one of the three is missing it is derived, and refused when it cannot be exact;
- when the input passes ``Total``, Σ item lines − discount must equal it exactly;
- a currency other than the connection's ``home_currency`` needs an ``ExchangeRate``.

``perform`` yields one ``POST …/<entity>?minorversion=…&requestid=<key>``; ``find_existing``
queries the entity (by customer, date and number) and matches private note, currency and
lines, for a write whose answer was lost.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from ledgerlink import contract
from ledgerlink.contract import Action, Problems

from . import account_currencies, creates, fields, queries

ITEM = "SalesItemLineDetail"
DISCOUNT = "DiscountLineDetail"
_ITEM_KEYS = ("DetailType", "ItemRef", "Description", "Qty", "UnitPrice", "Amount", "TaxCodeRef",
              "ClassRef", "ServiceDate")
_DISCOUNT_KEYS = ("DetailType", "Amount", "Description", "DiscountAccountRef", "TaxCodeRef",
                  "ClassRef")
_DISCOUNT_SHORTHAND = ("Amount", "Description", "DiscountAccountRef", "TaxCodeRef", "ClassRef")
_GLOBAL_TAX = ("TaxExcluded", "TaxInclusive", "NotApplicable")
_COMMON = ("CustomerRef", "Lines", "Discount", "DefaultTaxCodeRef", "GlobalTaxCalculation",
           "Total", "TxnDate", "DocNumber", "PrivateNote", "CustomerMemo", "CurrencyRef",
           "ExchangeRate")


@dataclass(frozen=True)
class Form:
    """One kind of sales form: its action, QBO entity and what it adds to the common input."""

    action: str
    entity: str
    endpoint: str
    #: how messages name it: "a QuickBooks invoice"
    what: str
    customer_required: bool = True
    extra: tuple[str, ...] = ()
    #: fields of ``extra`` that are required
    required: tuple[str, ...] = ()

    @property
    def inputs(self) -> tuple[str, ...]:
        return _COMMON + self.extra

    @property
    def pays(self) -> bool:
        """Whether the form moves money (``DepositToAccountRef``, ``PaymentMethodRef``,
        ``PaymentRefNum``), as a refund receipt does."""
        return "DepositToAccountRef" in self.extra


INVOICE = Form("quickbooks.create_invoice", "Invoice", "invoice", "a QuickBooks invoice",
               extra=("DueDate",))
CREDIT_MEMO = Form("quickbooks.create_credit_memo", "CreditMemo", "creditmemo",
                   "a QuickBooks credit memo")
REFUND_RECEIPT = Form("quickbooks.create_refund_receipt", "RefundReceipt", "refundreceipt",
                      "a QuickBooks refund receipt", customer_required=False,
                      extra=("DepositToAccountRef", "PaymentMethodRef", "PaymentRefNum"),
                      required=("DepositToAccountRef",))
FORMS = {form.entity: form for form in (INVOICE, CREDIT_MEMO, REFUND_RECEIPT)}


# --- lines -----------------------------------------------------------------------------------

def _item_line(raw: Mapping[str, Any], where: str, code: str, default_tax: dict | None,
               problems: Problems) -> tuple[dict[str, Any], Decimal] | None:
    """One SalesItemLineDetail line and its amount, or None after recording problems."""
    start = problems.count()
    contract.unknown_keys(raw, _ITEM_KEYS, where, "item line key", problems)
    item = None
    if "ItemRef" in raw:
        item = fields.ref(raw["ItemRef"], f"{where}/ItemRef", "ItemRef", problems)
    else:
        problems.add(where, "the line has no ItemRef; QuickBooks needs the item (product or "
                            "service) of every sales line, e.g. from a lookup table")
    amount = qty = price = None
    if "Amount" in raw:
        amount = fields.amount_in(raw["Amount"], code, f"{where}/Amount", "Amount", problems,
                                  sign="any")
    if "Qty" in raw:
        qty = contract.amount(raw["Qty"], f"{where}/Qty", "Qty", problems, sign="nonnegative")
    if "UnitPrice" in raw:
        price = contract.amount(raw["UnitPrice"], f"{where}/UnitPrice", "UnitPrice", problems, sign="any")
    detail: dict[str, Any] = {}
    if item is not None:
        detail["ItemRef"] = item
    if "ClassRef" in raw:
        detail["ClassRef"] = fields.ref(raw["ClassRef"], f"{where}/ClassRef", "ClassRef", problems)
    tax = default_tax
    if "TaxCodeRef" in raw:
        tax = fields.ref(raw["TaxCodeRef"], f"{where}/TaxCodeRef", "TaxCodeRef", problems)
    if "ServiceDate" in raw:
        detail["ServiceDate"] = contract.date(raw["ServiceDate"], f"{where}/ServiceDate", problems)
    line: dict[str, Any] = {}
    fields.description(raw, where, line, problems)
    if problems.count() > start:
        return None

    given = (amount is not None, qty is not None, price is not None)
    if given == (True, True, True):
        product = contract.exact(lambda: qty * price)
        if product != amount:
            problems.add(f"{where}/Amount", f"Amount {amount} is not Qty {qty} × UnitPrice {price} "
                                            f"= {product}; QuickBooks refuses a line whose Amount "
                                            f"differs from Qty × UnitPrice, so fix one of them")
            return None
    elif given == (False, True, True):
        product = contract.exact(lambda: qty * price)
        amount = fields.fit_currency(product, code, f"{where}/UnitPrice",
                                     "Qty × UnitPrice", problems)
        if amount is None:
            return None
    elif given == (True, True, False):
        if qty == 0:
            if amount != 0:
                problems.add(f"{where}/Qty", f"Qty is 0 but Amount is {amount}; a line's Amount "
                                             f"is Qty × UnitPrice")
                return None
        else:
            price = contract.exact(lambda: amount / qty)
            if price is None:
                problems.add(f"{where}/Qty", f"Amount {amount} ÷ Qty {qty} is not an exact "
                                             f"decimal, and QuickBooks needs Amount = Qty × "
                                             f"UnitPrice exactly; give a UnitPrice that makes it "
                                             f"exact, or leave Qty out to send the amount alone")
                return None
            price = contract.plain(price)
    elif given == (True, False, True):
        if price == 0:
            if amount != 0:
                problems.add(f"{where}/UnitPrice", f"UnitPrice is 0 but Amount is {amount}; a "
                                                   f"line's Amount is Qty × UnitPrice")
                return None
        else:
            qty = contract.exact(lambda: amount / price)
            if qty is None or qty < 0:
                problems.add(f"{where}/UnitPrice", f"Amount {amount} ÷ UnitPrice {price} is not "
                                                   f"an exact, non-negative quantity; give Qty too "
                                                   f"(Amount = Qty × UnitPrice exactly)")
                return None
            qty = contract.plain(qty)
    elif given == (False, False, False):
        problems.add(where, "the line has no Amount; give Amount, or Qty and UnitPrice")
        return None
    elif amount is None:
        missing = "UnitPrice" if qty is not None else "Qty"
        problems.add(where, f"the line has no Amount and no {missing}; give Amount, or both Qty "
                            f"and UnitPrice")
        return None

    if price is not None:
        detail["UnitPrice"] = price
    if qty is not None:
        detail["Qty"] = qty
    if tax is not None:
        detail["TaxCodeRef"] = dict(tax)
    line.update({"Amount": amount, "DetailType": ITEM, ITEM: detail})
    return line, amount


def _discount_detail(raw: Mapping[str, Any], where: str, problems: Problems) -> dict[str, Any]:
    detail: dict[str, Any] = {"PercentBased": False}
    for key in ("DiscountAccountRef", "TaxCodeRef", "ClassRef"):
        if key in raw:
            detail[key] = fields.ref(raw[key], f"{where}/{key}", key, problems)
    return detail


def _discount_line(raw: Mapping[str, Any], where: str, code: str,
                   problems: Problems) -> tuple[dict[str, Any], Decimal] | None:
    start = problems.count()
    contract.unknown_keys(raw, _DISCOUNT_KEYS, where, "discount line key", problems)
    amount = None
    if "Amount" in raw:
        amount = fields.amount_in(raw["Amount"], code, f"{where}/Amount", "Amount", problems)
    else:
        problems.add(where, "the discount line has no Amount; give the discount as an amount "
                            "such as \"5.00\"")
    detail = _discount_detail(raw, where, problems)
    line: dict[str, Any] = {}
    fields.description(raw, where, line, problems)
    if problems.count() > start or amount is None:
        return None
    line.update({"Amount": amount, "DetailType": DISCOUNT, DISCOUNT: detail})
    return line, amount


def _discount_shorthand(raw: Any, code: str, problems: Problems) -> tuple[dict[str, Any], Decimal] | None:
    """The ``Discount`` shorthand as one discount line; None when it adds up to nothing."""
    if not isinstance(raw, Mapping):
        problems.add("/Discount", f"must be an object such as {{\"Amount\": \"5.00\"}}, got "
                                  f"{contract.show(raw)}")
        return None
    start = problems.count()
    contract.unknown_keys(raw, _DISCOUNT_SHORTHAND, "/Discount", "Discount key", problems)
    if "Amount" not in raw:
        problems.add("/Discount", "the discount has no Amount")
        return None
    value = raw["Amount"]
    amounts: list[Decimal] = []
    for index, item in enumerate(value if isinstance(value, (list, tuple)) else [value]):
        where = f"/Discount/Amount/{index}" if isinstance(value, (list, tuple)) else "/Discount/Amount"
        amount = fields.amount_in(item, code, where, "the discount", problems, sign="nonnegative")
        if amount is not None:
            amounts.append(amount)
    detail = _discount_detail(raw, "/Discount", problems)
    line: dict[str, Any] = {}
    fields.description(raw, "/Discount", line, problems)
    if problems.count() > start:
        return None
    amount = contract.total(amounts)
    if amount == 0:
        return None  # no discount: no line
    amount = fields.fit_currency(amount, code, "/Discount/Amount", "the discount", problems)
    line.update({"Amount": amount, "DetailType": DISCOUNT, DISCOUNT: detail})
    return line, amount


# --- the body ----------------------------------------------------------------------------------

def build_body(form: Form | str, data: Mapping[str, Any],
               home_currency: str = fields.DEFAULT_HOME_CURRENCY) -> tuple[dict[str, Any], Decimal]:
    """The QBO body of ``form`` (a :class:`Form` or ``"Invoice"``, ``"CreditMemo"``,
    ``"RefundReceipt"``) for an input, and its total (Σ item lines − discount).

    Raises :class:`ledgerlink.errors.InputError` listing every problem, each with its JSON
    pointer (``/Lines/2/Amount: …``).
    """
    form = FORMS[form] if isinstance(form, str) else form
    if form.pays:  # the currency a deposit account declares is checked, never sent
        data = account_currencies.undeclared(data, ("DepositToAccountRef",), home_currency,
                                             form.what, form.action)
    problems = contract.begin(form.action, form.what, data, form.inputs)

    body: dict[str, Any] = {}
    code = fields.currency(data, home_currency, body, problems)
    fields.ref_field(data, "CustomerRef", body, problems,
                     missing=f"{form.what} needs the customer, e.g. from a customers lookup "
                             f"table" if form.customer_required else None)
    for key in form.required:
        if key not in data:
            problems.add(f"/{key}", "missing" + (
                "; the account the refund is paid from (a bank or Undeposited Funds account)"
                if form is REFUND_RECEIPT else "; the account the money is deposited to"))
    if form.pays:
        fields.payment_fields(data, body, problems)
    fields.txn_fields(data, body, problems)
    if "DueDate" in form.extra and "DueDate" in data:
        value = contract.date(data["DueDate"], "/DueDate", problems)
        if value is not None:
            body["DueDate"] = value
    if "CustomerMemo" in data:
        value = fields.text(data["CustomerMemo"], "/CustomerMemo", "CustomerMemo",
                            fields.MAX_MEMO, problems)
        if value is not None:
            body["CustomerMemo"] = {"value": value}
    if "GlobalTaxCalculation" in data:
        value = data["GlobalTaxCalculation"]
        if value not in _GLOBAL_TAX:
            problems.add("/GlobalTaxCalculation", f"must be one of {', '.join(_GLOBAL_TAX)}, got "
                                                  f"{contract.show(value)}")
        else:
            body["GlobalTaxCalculation"] = value
    default_tax = None
    if "DefaultTaxCodeRef" in data:
        default_tax = fields.ref(data["DefaultTaxCodeRef"], "/DefaultTaxCodeRef",
                                 "DefaultTaxCodeRef", problems)

    lines: list[dict[str, Any]] = []
    items: list[Decimal] = []
    discounts: list[tuple[str, Decimal]] = []
    raw_lines = data.get("Lines")
    if "Lines" not in data:
        problems.add("/Lines", f"missing; {form.what} needs at least one item line")
    elif not isinstance(raw_lines, (list, tuple)):
        problems.add("/Lines", f"must be an array of lines, got {contract.show(raw_lines)}")
    else:
        for index, raw in enumerate(raw_lines):
            where = f"/Lines/{index}"
            if not isinstance(raw, Mapping):
                problems.add(where, f"line {index} must be an object with ItemRef and Amount, got "
                                    f"{contract.show(raw)}")
                continue
            kind = raw.get("DetailType", ITEM)
            if kind == ITEM:
                read = _item_line(raw, where, code, default_tax, problems)
                if read is not None:
                    lines.append(read[0])
                    items.append(read[1])
            elif kind == DISCOUNT:
                read = _discount_line(raw, where, code, problems)
                if read is not None:
                    lines.append(read[0])
                    discounts.append((where, read[1]))
            else:
                problems.add(f"{where}/DetailType", f"must be \"{ITEM}\" (the default) or "
                                                    f"\"{DISCOUNT}\", got {contract.show(kind)}")
        if not raw_lines:
            problems.add("/Lines", f"is empty; {form.what} needs at least one item line")
    if "Discount" in data:
        read = _discount_shorthand(data["Discount"], code, problems)
        if read is not None:
            lines.append(read[0])
            discounts.append(("/Discount", read[1]))
    if len(discounts) > 1:
        problems.add(discounts[1][0], f"{form.what} takes one discount, and the input gives "
                                      f"{len(discounts)}; give their sum as one discount "
                                      f"(Discount.Amount may be a list of amounts)")
    problems.raise_if_any()

    items_total = contract.total(items)
    discount_total = contract.total(amount for _, amount in discounts)
    computed = contract.minus(items_total, discount_total)
    if computed < 0:
        problems.add("/Lines", f"the lines add up to {computed} {code} (items {items_total} − "
                               f"discount {discount_total}); {form.what} cannot have a negative "
                               f"total")
    if "Total" in data:
        expected = fields.amount_in(data["Total"], code, "/Total", "Total", problems,
                                    sign="nonnegative")
        if expected is not None and expected != computed:
            difference = contract.minus(computed, expected)
            problems.add("/Total", f"the lines add up to {computed} {code} (items {items_total} − "
                                   f"discount {discount_total}), but Total is "
                                   f"{expected} {code}: the lines are {difference.copy_abs()} {code} "
                                   f"{'over' if difference > 0 else 'short'}; a line or the "
                                   f"discount is missing or wrong")
    problems.raise_if_any()
    body["Line"] = lines
    return body, computed


# --- perform and find_existing -----------------------------------------------------------------

def _signature(lines: Any) -> list[tuple[str, Decimal | None, str | None]]:
    """What identifies a form's lines: detail type, amount and item, SubTotal lines left out."""
    out = []
    for line in lines if isinstance(lines, list) else []:
        if not isinstance(line, Mapping):
            continue
        kind = line.get("DetailType")
        if kind not in (ITEM, DISCOUNT):
            continue
        detail = line.get(kind) if isinstance(line.get(kind), Mapping) else {}
        out.append((kind, contract.answer_decimal(line.get("Amount")), fields.ref_value(detail.get("ItemRef"))))
    return out


def matches(form: Form, stored: Mapping[str, Any], body: Mapping[str, Any], home: str) -> bool:
    """Whether a stored form is the one ``body`` creates (same customer, note, number, currency,
    deposit account and lines)."""
    if body.get("DocNumber") and stored.get("DocNumber") != body["DocNumber"]:
        return False
    return queries.same_fields(stored, body, home, refs=("CustomerRef", "DepositToAccountRef")) and \
        _signature(stored.get("Line")) == _signature(body.get("Line"))


def _action(form: Form, summary: str) -> Action:
    return creates.create_action(
        action=form.action, entity=form.entity, endpoint=form.endpoint, what=form.what,
        summary=summary, build=lambda data, home: build_body(form, data, home),
        query_keys=("CustomerRef", "TxnDate", "DocNumber"),
        matches=lambda stored, body, home: matches(form, stored, body, home))


CREATE_INVOICE = _action(INVOICE, "Create an invoice in QuickBooks Online from item lines (Amount = "
                                  "Qty × UnitPrice exactly), with discount, tax codes and currency.")
CREATE_CREDIT_MEMO = _action(CREDIT_MEMO, "Create a credit memo in QuickBooks Online (e.g. for a "
                                          "Stripe credit note): item lines, discount, currency.")
CREATE_REFUND_RECEIPT = _action(REFUND_RECEIPT, "Create a refund receipt in QuickBooks Online (e.g. "
                                                "for a Stripe refund), paid from a named account.")

ACTIONS = (CREATE_INVOICE, CREATE_CREDIT_MEMO, CREATE_REFUND_RECEIPT)

__all__ = ["ACTIONS", "CREATE_CREDIT_MEMO", "CREATE_INVOICE", "CREATE_REFUND_RECEIPT", "CREDIT_MEMO",
           "FORMS", "Form", "INVOICE", "REFUND_RECEIPT", "build_body", "matches"]
