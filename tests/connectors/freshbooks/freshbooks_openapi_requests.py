"""FreshBooks' verdict on a request, from the community OpenAPI made strict: the conformance
suite's ``request_schema``, and the check the connector's request tests run.

Not a test module. The schemas are the community description FreshBooks' sandbox ships
(``spec/freshbooks.openapi.yaml``, see ``tests/vendor/SOURCES.md``), made strict by
``ledgerlink_sandboxes.freshbooks.spec`` (``additionalProperties: false`` on every object,
every place FreshBooks is proven to differ listed there in ``DEVIATIONS``, the resources the
description leaves out in ``OWN``). A request is held to its resource: the path must be an
accounting resource FreshBooks has (``/accounting/account/{account_id}/{family}/{objects}[/{id}]``),
the query only FreshBooks' list parameters (``page``, ``per_page`` up to 100, ``include[]``,
``search[…]``), and a POST or PUT body a valid instance of the resource's create or update
schema.
"""

from __future__ import annotations

import re
from urllib.parse import urlsplit

from ledgerlink import jsonio
from ledgerlink.contract import Request
from ledgerlink.io import outbound
from ledgerlink_sandboxes.freshbooks import spec

#: resource path → (create schema, update schema): the spec's names, or the spec module's own
RESOURCES = {
    "users/clients": ("ClientCreateObject", "ClientCreateObject"),
    "invoices/invoices": ("InvoiceCreateObject", "InvoiceUpdateObject"),
    "payments/payments": ("PaymemtCreateObject", "PaymemtCreateObject"),
    "credit_notes/credit_notes": ("CreditNoteCreateObject", "CreditNoteCreateObject"),
    "expenses/expenses": ("ExpenseCreateObject", "ExpenseUpdateObject"),
    "other_incomes/other_incomes": ("OtherIncomeCreateObject", "OtherIncomeCreateObject"),
    "taxes/taxes": ("TaxCreateObject", "TaxUpdateObject"),
    "expenses/categories": (None, None),
}
_PATH = re.compile(r"^/accounting/account/(?P<account>[A-Za-z0-9_]+)/(?P<resource>[a-z_]+/[a-z_]+)(?:/(?P<id>[^/]+))?$")
_PARAMETER = re.compile(r"^(page|per_page|include\[\]|search\[[a-z_]+\](\[\])?)$")
#: FreshBooks' identity service (no body, no parameters)
IDENTITY = "/auth/api/v1/users/me"
#: the reports read (https://www.freshbooks.com/api/reports), with the parameters they take
REPORTS = {"reports/accounting/profitloss": ("start_date", "end_date", "currency_code")}


def problems(request: Request) -> list[str]:
    """Why FreshBooks would refuse ``request``; empty when its description accepts it."""
    path = urlsplit(request.url).path
    if path == IDENTITY:
        return [] if request.method == "GET" and not request.params and request.json is None else \
            [f"{IDENTITY} is read with a bare GET"]
    found = _PATH.match(path)
    if found is not None and f"{found['resource']}/{found['id']}" in REPORTS:
        allowed = REPORTS[f"{found['resource']}/{found['id']}"]
        return [f"query: the report takes no parameter {name!r}" for name in (request.params or {}) if name not in allowed] \
            + ([] if request.method == "GET" and request.json is None else [f"{path} is read with a GET"])
    if found is None or found["resource"] not in RESOURCES:
        return [f"FreshBooks has no accounting resource {request.method} {path}"]
    create, update = RESOURCES[found["resource"]]
    issues = []
    if found["id"] is not None and not found["id"].isdigit():
        issues.append(f"{path}: a FreshBooks id is a positive integer, not {found['id']!r}")
    for name, value in (request.params or {}).items():
        if not _PARAMETER.match(name):
            issues.append(f"query: FreshBooks takes no parameter {name!r}")
        elif name in ("page", "per_page") and not (str(value).isdigit() and int(value) >= 1):
            issues.append(f"query/{name}: must be a positive number, got {value!r}")
        elif name == "per_page" and int(value) > 100:
            issues.append("query/per_page: FreshBooks answers at most 100 a page")
    method = request.method.upper()
    if method in ("GET", "DELETE"):
        if request.json is not None:
            issues.append(f"{path}: {method} takes no body")
        return issues
    schema = create if method == "POST" and found["id"] is None else update if method == "PUT" and found["id"] else None
    if schema is None:
        return issues + [f"{path}: FreshBooks takes no {method} here"]
    if request.json is None:
        return issues + [f"{path}: {method} needs a {schema} body"]
    sent = jsonio.loads(outbound.build(request, {}).content)
    return issues + [f"body/{where}: {message}" for where, message in spec.problems(schema, sent, update=method == "PUT")]


__all__ = ["RESOURCES", "problems"]
