"""What ``ledgerlink check`` says about a FreshBooks business that its runs depend on.

Read-only: ``GET /auth/api/v1/users/me`` (the business the connection's ``business_id`` and
``account_id`` name, and that the user still belongs to it) and the profit and loss report
(``GET …/reports/accounting/profitloss``, https://www.freshbooks.com/api/reports), whose
``currency_code`` is the business's own currency: FreshBooks reports in it, and an invoice in
another currency is kept in that currency, never converted by ledgerlink.
"""

from __future__ import annotations

from collections.abc import Generator, Mapping
from typing import Any

from ledgerlink.contract import ActionContext, Connection, Request, Response
from ledgerlink.errors import VendorError

from . import api
from .errors import classify
from .oauth import memberships
from .settings import IDENTITY_URL

REPORT = "reports/accounting/profitloss"


def _read(answer: Response) -> Mapping[str, Any]:
    error = classify(answer)
    if error is not None:
        raise error
    return answer.json if isinstance(answer.json, Mapping) else {}


def check_company(connection: Connection) -> Generator[Request, Response, list[str]]:
    """The business (its name and two ids, still the user's) and its currency, one line each."""
    ctx = ActionContext(connection=connection, idempotency_key="")
    me = _read((yield Request("GET", str(connection.settings.get("identity_url") or IDENTITY_URL),
                              headers={"Accept": "application/json"})))
    account = str(connection.settings.get("account_id") or "")
    businesses = memberships(me)
    chosen = next(((business, entry) for business, entry in businesses.items() if entry["account_id"] == account),
                  None)
    if chosen is None:
        listed = ", ".join(f"{business} ({entry['name']}, account {entry['account_id']})"
                           for business, entry in businesses.items()) or "none"
        return [f"the user connected belongs to no FreshBooks business with account {account or '(none)'}; it "
                f"belongs to {listed}: connect again (ledgerlink connect {connection.name})"]
    business, entry = chosen
    lines = [f"FreshBooks business {entry['name'] or 'unnamed'}: business_id {business}, account_id {account}"]
    configured = connection.settings.get("business_id")
    if configured not in (None, "") and str(configured) != business:
        lines.append(f"the connection's business_id is {configured}, but account {account} is business {business}: "
                     f"connect again so both name the same business")
    answer = yield Request("GET", api.account_url(ctx, REPORT), headers={"Accept": "application/json"})
    report = _read(answer).get("response", {}).get("result", {}).get("profitloss")
    if not isinstance(report, Mapping):
        raise VendorError("FreshBooks answered the profit and loss report without one; it is retried",
                          kind="retry", status=answer.status)
    code = str(report.get("currency_code") or "")
    lines.append(f"its currency: {code or 'not given'} (FreshBooks reports in it; documents in another currency "
                 f"keep theirs)")
    return lines


__all__ = ["check_company"]
