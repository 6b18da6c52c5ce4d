"""The company's closed books date: reported by ``ledgerlink check``, named when a write fails.

QuickBooks Online lets an admin close the books through a date (Settings > Account and
settings > Advanced > Accounting > Close the books); the Accounting API then refuses any
transaction dated on or before it with a ``ValidationFault`` whose ``Message`` is "Account
Period Closed" and whose ``Detail`` reads "The account period has closed and the account
books cannot be updated through the QBO Services API. Please use the QBO website to make
these changes." The date itself is ``Preferences.AccountingInfoPrefs.BookCloseDate``
(https://developer.intuit.com/app/developer/qbo/docs/api/accounting/all-entities/preferences).

What is done with it, and why:

- ``ledgerlink check`` reports the date (:func:`check_company`), so an integrator sees it
  before the first run, beside the references it checks;
- a write refused for the closed period (:func:`is_period_closed`: the fault's text, since
  the code Intuit sends with it is not documented) fails with the date and the entry's date
  named and what to do (:func:`perform_in_open_period`). The preferences are read only then,
  one ``GET …/preferences`` after the refusal, not before every write: QuickBooks' refusal is
  the authority (the date can change at any moment in the company's settings, so a cached
  copy could let a write be refused anyway, or refuse one QuickBooks would take), and a run
  of a thousand entries in an open period costs no extra request.
"""

from __future__ import annotations

from collections.abc import Callable, Generator, Mapping
from typing import Any

from ledgerlink.contract import ActionContext, Connection, Request, Response
from ledgerlink.errors import VendorError

from .api import classify, entity_url, params

#: where an admin closes or reopens the books in QuickBooks Online
SETTING = "Settings > Account and settings > Advanced > Accounting > Close the books"


class PeriodClosed(VendorError):
    """QuickBooks refused a write because its date is in the closed period (permanent)."""


def is_period_closed(response: Response) -> bool:
    """Whether a QBO answer is the fault of a write dated in the closed period."""
    body = response.json if isinstance(response.json, Mapping) else {}
    fault = body.get("Fault") if isinstance(body.get("Fault"), Mapping) else {}
    errors = fault.get("Error") if isinstance(fault.get("Error"), list) else []
    for error in errors:
        if not isinstance(error, Mapping):
            continue
        text = f"{error.get('Message', '')} {error.get('Detail', '')}".lower()
        if "period closed" in text or "period has closed" in text:
            return True
    return False


def classify_write(response: Response) -> VendorError | None:
    """:func:`.api.classify`, with the closed-period fault as a :class:`PeriodClosed`."""
    error = classify(response)
    if error is not None and is_period_closed(response):
        return PeriodClosed(str(error), kind="permanent", status=response.status,
                            vendor_code=error.vendor_code)
    return error


def read_book_close_date(settings: Mapping[str, Any]) -> Generator[Request, Response, str | None]:
    """``Preferences.AccountingInfoPrefs.BookCloseDate`` (YYYY-MM-DD), or None when the books
    are not closed; a refused read raises its :class:`VendorError`."""
    response = yield Request(method="GET", url=entity_url(settings, "preferences"),
                             params=params(None), headers={"Accept": "application/json"})
    error = classify(response)
    if error is not None:
        raise error
    body = response.json if isinstance(response.json, Mapping) else {}
    prefs = body.get("Preferences") if isinstance(body.get("Preferences"), Mapping) else {}
    info = prefs.get("AccountingInfoPrefs")
    value = info.get("BookCloseDate") if isinstance(info, Mapping) else None
    return value[:10] if isinstance(value, str) and value else None


def closed_message(closed_through: str, dated: str | None, detail: str) -> str:
    """What a user reads when a write fell in the closed period, and how to fix it."""
    entry = f"the entry is dated {dated}" if dated else \
        "the entry has no TxnDate, so QuickBooks dates it today"
    return (f"QuickBooks' books are closed through {closed_through}; {entry}: QuickBooks refuses "
            f"to add or change a transaction on or before that date through the API. Date the "
            f"entry after {closed_through} (map TxnDate to a later date, or book it in the first "
            f"open period with a note), or have an admin reopen the period ({SETTING}), then "
            f"retry the run. QuickBooks said: {detail}")


def perform_in_open_period(perform: Callable[[Mapping[str, Any], ActionContext],
                                             Generator[Request, Response, dict[str, Any]]]
                           ) -> Callable[[Mapping[str, Any], ActionContext],
                                         Generator[Request, Response, dict[str, Any]]]:
    """``perform`` whose closed-period refusal names the closed books date and the entry's
    date: after the refusal, the preferences are read once and the message rewritten."""

    def wrapped(input: Mapping[str, Any],
                ctx: ActionContext) -> Generator[Request, Response, dict[str, Any]]:
        try:
            return (yield from perform(input, ctx))
        except PeriodClosed as refused:
            closed_through = None
            try:
                closed_through = yield from read_book_close_date(ctx.connection.settings)
            except VendorError:
                pass  # the refusal stands on its own; the date could not be read
            if closed_through is None:
                raise VendorError(f"{refused} (QuickBooks' books are closed for the entry's "
                                  f"date; see {SETTING})", kind="permanent",
                                  status=refused.http_status,
                                  vendor_code=refused.vendor_code) from refused
            dated = input.get("TxnDate") if isinstance(input, Mapping) else None
            raise VendorError(closed_message(closed_through, dated if isinstance(dated, str) else None,
                                             str(refused)),
                              kind="permanent", status=refused.http_status,
                              vendor_code=refused.vendor_code) from refused

    wrapped.__name__ = getattr(perform, "__name__", "perform")
    wrapped.__doc__ = getattr(perform, "__doc__", None)
    return wrapped


def check_company(connection: Connection) -> Generator[Request, Response, list[str]]:
    """What ``ledgerlink check`` reports about the company: its closed books date (or why it
    could not be read: the references' own check reports a connection that does not answer)."""
    try:
        closed_through = yield from read_book_close_date(connection.settings)
    except VendorError as error:
        return [f"the closed books date could not be read (Preferences): {error}"]
    if closed_through is None:
        return ["the books are not closed (Preferences BookCloseDate is not set)"]
    return [f"the books are closed through {closed_through} (Preferences BookCloseDate): an "
            f"entry dated on or before it is refused; reopen the period in QuickBooks "
            f"({SETTING}) or date entries after it"]


__all__ = ["PeriodClosed", "SETTING", "check_company", "classify_write", "closed_message",
           "is_period_closed", "perform_in_open_period", "read_book_close_date"]
