"""The organisation's settings, read only: ``Organisation``, ``Accounts``, ``Currencies``,
``TaxRates`` and ``Items`` (https://developer.xero.com/documentation/api/accounting/organisation,
…/accounts, …/currencies, …/taxrates, …/items), seeded by :mod:`.org`.

``GET /Organisation`` answers ``{"Organisations": [...]}`` with ``BaseCurrency`` and, when set,
``PeriodLockDate`` and ``EndOfYearLockDate``. Currencies and tax rates are read by their code
(``GET /Currencies/EUR`` is the sandbox's convenience; lists filter with ``where``).
"""

from __future__ import annotations

from collections.abc import Mapping

from ledgerlink.testing.sandbox import Reply

from .entities import SINGLES, Kind, register
from .org import Organisation

ACCOUNTS = register(Kind("Accounts", "Account", "AccountID"))
CURRENCIES = register(Kind("Currencies", "Currency", "Code", by_key=True))
TAX_RATES = register(Kind("TaxRates", "TaxRate", "TaxType", by_key=True))
ITEMS = register(Kind("Items", "Item", "ItemID"))


def organisation(org: Organisation, args: Mapping[str, str]) -> Reply:
    """``GET /Organisation``."""
    return Reply.json(200, {"Organisations": [org.organisation()]})


SINGLES["organisation"] = organisation


__all__ = ["ACCOUNTS", "CURRENCIES", "ITEMS", "TAX_RATES", "organisation"]
