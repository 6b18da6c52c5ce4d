"""Invoices (``/accounting/account/{account_id}/invoices/invoices``), as FreshBooks keeps them
(https://www.freshbooks.com/api/invoices; the answer's shape: get_invoice_response.json).

- A create needs ``customerid`` (a client of the business) and ``create_date`` (YYYY-MM-DD).
  ``currency_code`` defaults to the client's. Each line is ``qty`` × ``unit_cost`` (a money
  object; its code, when given, the invoice's), with up to two taxes by name and percentage
  (``taxName1``/``taxAmount1``, up to 3 decimal places); a line's ``amount`` is rounded to the
  places FreshBooks keeps of the currency (its own, at most two: :mod:`.money`), each tax on the
  line's amount likewise. ``discount_value`` (a percentage) gives ``discount_total``. The
  invoice's ``amount`` is the lines, plus their taxes, plus the (negative) discount.
- Lines are answered only with ``include[]=lines`` (on a read, a list or the write itself).
- Status (``status`` / ``v3_status``): 1 ``draft`` when created; ``PUT {"invoice":
  {"action_mark_as_sent": true}}`` makes it 2 ``sent`` without e-mailing it; payments
  (:mod:`.payments`) make it 8 ``partial`` or 4 ``paid`` and move ``paid`` and ``outstanding``;
  deleting every payment makes it ``sent`` again.
- ``DELETE`` (as FreshBooks' SDKs delete an invoice) or ``vis_state: 1`` deletes it; an invoice
  with payments cannot be deleted (FreshBooks asks for the payments to go first).
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from . import errors, resources
from .businesses import Business
from .errors import Problem
from .money import amount_of, currency_of, decimal, money, rounded

STATUSES = {1: "draft", 2: "sent", 3: "viewed", 4: "paid", 5: "auto-paid", 6: "retry", 7: "failed", 8: "partial"}
#: the fields of an invoice FreshBooks answers, with their values when not given
DEFAULTS: dict[str, Any] = {
    "address": "", "auto_bill": False, "autobill_status": None, "basecampid": 0, "city": "", "code": "",
    "country": "", "date_paid": None, "deposit_amount": None, "deposit_percentage": None, "deposit_status": "none",
    "description": "", "discount_description": None, "discount_value": "0", "dispute_status": None,
    "due_offset_days": 0, "estimateid": 0, "ext_archive": 0, "fname": "", "fulfillment_date": None,
    "generation_date": None, "gmail": False, "language": "en", "last_order_status": None, "lname": "",
    "notes": "", "organization": "", "ownerid": 1, "parent": 0, "payment_details": "", "po_number": None,
    "province": "", "return_uri": None, "sentid": 0, "show_attachments": False, "street": "", "street2": "",
    "template": "clean-grouped", "terms": None, "vat_name": None, "vat_number": None,
}
WRITABLE = ("address", "city", "code", "country", "description", "discount_description", "due_offset_days",
            "fname", "lname", "language", "notes", "organization", "po_number", "province", "street", "street2",
            "terms", "vat_name", "vat_number", "invoice_number", "template", "gmail", "show_attachments")


def lines_of(raw: Any, owner: str, currency: str, problems: list[Problem], now: str = "") -> list[dict[str, Any]]:
    """The lines of an invoice or credit note as FreshBooks answers them (amounts worked out)."""
    if raw is None:
        return []
    if not isinstance(raw, list):
        problems.append(Problem(errors.INVALID_FIELD, "lines must be a list.", "lines", owner))
        return []
    lines = []
    for index, line in enumerate(raw, 1):
        where = f"lines.{index - 1}"
        qty = decimal(line.get("qty", "1"), f"{where}.qty", owner, problems)
        cost = amount_of(line.get("unit_cost"), f"{where}.unit_cost", owner, currency, problems)
        taxes = [decimal(line.get(f"taxAmount{n}", "0") or "0", f"{where}.taxAmount{n}", owner, problems,
                         max_places=3) for n in (1, 2)]
        if qty is None or cost is None or None in taxes:
            continue
        amount = rounded(qty * cost, currency)
        lines.append({
            "amount": money(amount, currency), "basecampid": 0, "compounded_tax": False, "date": None,
            "description": line.get("description", ""), "expenseid": line.get("expenseid", 0), "lineid": index,
            "modern_project_id": None, "modern_time_entries": [], "name": line.get("name", ""),
            "qty": str(qty), "retainer_id": None, "retainer_period_id": None, "taskno": index,
            "taxAmount1": str(taxes[0]), "taxAmount2": str(taxes[1]), "taxName1": line.get("taxName1", ""),
            "taxName2": line.get("taxName2", ""), "taxNumber1": None, "taxNumber2": None,
            "type": line.get("type", 0), "unit_cost": money(cost, currency), "updated": now})
    return lines


def line_tax(line: dict[str, Any], currency: str) -> Decimal:
    """The taxes of one line, each rounded to the currency's places."""
    net = Decimal(line["amount"]["amount"])
    return sum((rounded(net * Decimal(line[f"taxAmount{n}"]) / 100, currency) for n in (1, 2)), Decimal(0))


def totals(document: dict[str, Any]) -> tuple[Decimal, Decimal, Decimal]:
    """(the lines' net, their taxes, the discount) of an invoice or credit note."""
    currency = document["currency_code"]
    lines = document.get("lines", [])
    net = sum((Decimal(line["amount"]["amount"]) for line in lines), Decimal(0))
    tax = sum((line_tax(line, currency) for line in lines), Decimal(0))
    discount = -rounded(net * Decimal(document.get("discount_value") or "0") / 100, currency)
    return net, tax, discount


def _work_out(invoice: dict[str, Any]) -> None:
    currency = invoice["currency_code"]
    net, tax, discount = totals(invoice)
    total = net + tax + discount
    paid = Decimal(invoice["paid"]["amount"]) if invoice.get("paid") else Decimal(0)
    invoice.update({"amount": money(total, currency), "discount_total": money(discount, currency),
                    "outstanding": money(total - paid, currency), "paid": money(paid, currency)})


def settle(business: Business, invoice: dict[str, Any]) -> None:
    """Move ``paid``, ``outstanding`` and the status from the invoice's live payments."""
    currency = invoice["currency_code"]
    paid = sum((Decimal(p["amount"]["amount"]) for p in business.all("payments")
                if p["invoiceid"] == invoice["id"] and p.get("vis_state", 0) != 1), Decimal(0))
    invoice["paid"] = money(paid, currency)
    _work_out(invoice)
    outstanding = Decimal(invoice["outstanding"]["amount"])
    if paid and outstanding <= 0:
        status = 4
    elif paid:
        status = 8
    else:
        status = 2 if invoice["status"] in (2, 3, 4, 8) else invoice["status"]
    dated = [p["date"] for p in business.all("payments") if p["invoiceid"] == invoice["id"] and p.get("vis_state", 0) != 1]
    invoice.update({"status": status, "v3_status": STATUSES[status], "display_status": STATUSES[status] if status in (1, 2) else
                    invoice["display_status"], "payment_status": "paid" if status == 4 else
                    "partial" if status == 8 else "unpaid", "date_paid": max(dated) if status == 4 else None,
                    "updated": business.now()})


def _client(business: Business, number: Any, problems: list[Problem]) -> dict[str, Any] | None:
    found = business.get("clients", number) if isinstance(number, int) else None
    if found is None or found.get("vis_state") == 1:
        problems.append(Problem(errors.NOT_FOUND, "Client not found.", "customerid", "invoice", str(number)))
    return found


def create(business: Business, fields: dict[str, Any]) -> tuple[dict[str, Any] | None, list[Problem]]:
    problems: list[Problem] = []
    client = _client(business, fields.get("customerid"), problems)
    date = str(fields.get("create_date", ""))
    if not resources.DATE.match(date):
        problems.append(Problem(errors.INVALID_FIELD, "create_date must be YYYY-MM-DD.", "create_date", "invoice", date))
    currency = currency_of(fields.get("currency_code"), (client or {}).get("currency_code") or business.currency,
                           "invoice", problems)
    lines = lines_of(fields.get("lines"), "invoice", currency, problems, business.now())
    discount = fields.get("discount_value", "0")
    decimal(discount, "discount_value", "invoice", problems)
    if problems:
        return None, problems
    now = business.now()
    number = len(business.all("invoices")) + 1
    invoice = {**DEFAULTS, **{key: fields[key] for key in WRITABLE if key in fields},
               "accountid": business.account_id, "accounting_systemid": business.account_id,
               "create_date": date, "created_at": now, "currency_code": currency,
               "current_organization": (client or {}).get("organization", ""), "customerid": fields["customerid"],
               "discount_value": str(discount), "display_status": "draft", "due_date": date,
               "invoice_number": fields.get("invoice_number") or f"{number:07d}", "lines": lines,
               "net_paid_amount": money(Decimal(0), currency), "paid": money(Decimal(0), currency),
               "payment_status": "unpaid", "status": 1, "updated": now, "v3_status": "draft", "vis_state": 0,
               "uuid": f"sandbox-invoice-{business.account_id}-{number}", "version": now, "presentation": None}
    for key in ("fname", "lname", "organization"):
        invoice[key] = invoice[key] or (client or {}).get(key, "")
    _work_out(invoice)
    saved = business.add("invoices", invoice)
    saved["invoiceid"] = saved["id"]
    for line in saved["lines"]:
        line["invoiceid"] = saved["id"]
    return saved, []


def update(business: Business, invoice: dict[str, Any], changes: dict[str, Any]) -> list[Problem]:
    problems: list[Problem] = []
    if "customerid" in changes:
        _client(business, changes["customerid"], problems)
    lines = lines_of(changes["lines"], "invoice", invoice["currency_code"], problems, business.now()) \
        if "lines" in changes else None
    if "discount_value" in changes:
        decimal(changes["discount_value"], "discount_value", "invoice", problems)
    if problems:
        return problems
    changed = dict(invoice)
    for key in (*WRITABLE, "customerid", "create_date", "discount_value"):
        if key in changes:
            changed[key] = str(changes[key]) if key == "discount_value" else changes[key]
    if lines is not None:
        changed["lines"] = [{**line, "invoiceid": invoice["id"]} for line in lines]
    if changes.get("action_mark_as_sent") and changed["status"] == 1:
        changed.update({"status": 2, "v3_status": "sent", "display_status": "sent", "sentid": 1})
    settle(business, changed)
    if Decimal(changed["outstanding"]["amount"]) < 0:
        return [Problem(errors.INVALID_FIELD, "The invoice would be less than what was paid on it.", "lines", "invoice")]
    invoice.update(changed)
    return []


def _removable(business: Business, invoice: dict[str, Any]) -> list[Problem]:
    if any(p["invoiceid"] == invoice["id"] and p.get("vis_state", 0) != 1 for p in business.all("payments")):
        return [Problem(errors.INVALID_FIELD, "An invoice with payments cannot be deleted: delete the payments first.",
                        "vis_state", "invoice", str(invoice["id"]))]
    return []


INVOICES = resources.register(resources.Kind(
    collection="invoices", path="invoices/invoices", singular="invoice", create_schema="InvoiceCreateObject",
    update_schema="InvoiceUpdateObject", create=create, update=update, includes=("lines",), deletable=True,
    event="invoice", removable=_removable))

__all__ = ["INVOICES", "STATUSES", "line_tax", "lines_of", "settle", "totals"]
