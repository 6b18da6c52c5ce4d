"""The businesses a FreshBooks user belongs to, and each one's books as the sandbox keeps them.

FreshBooks names a business twice (https://www.freshbooks.com/api/identity_model): its
``business_id`` (a number; projects, time tracking) and its ``account_id`` (short letters and
digits, the accounting system id every ``/accounting/account/{account_id}/…`` path carries).
Both come from ``users/me``'s ``business_memberships[].business``.

A :class:`Business` holds its objects by collection (``clients``, ``invoices`` …) and integer
id, in creation order, as FreshBooks answers them. The seed, for every new-FreshBooks business
alike: taxes ``HST`` (13 %) and ``GST`` (5 %), an item ``Basic subscription`` at 10.00, expense
categories ``Bank Fees``, ``Merchant Fees`` and ``Office Expenses`` (and the custom ones the
``categories`` option names).

A business with ``classic=True`` is a FreshBooks Classic account: FreshBooks lists it among the
memberships, but its books live in the legacy Classic API, which this API does not serve; the
sandbox refuses every accounting request for it (:mod:`.api`). How FreshBooks marks a Classic
membership in ``users/me`` is not documented; here it is only told by that refusal.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from ledgerlink.testing.sandbox import SandboxClock

#: collection → the id field FreshBooks gives its objects besides ``id``
ID_FIELDS = {"clients": "userid", "invoices": "invoiceid", "payments": "logid", "credit_notes": "creditid",
             "expenses": "expenseid", "other_incomes": "incomeid", "taxes": "taxid", "items": "itemid",
             "categories": "categoryid", "callbacks": "callbackid"}
#: a change listener: (business, collection, object id, event verb ``create|update|delete``)
Listener = Callable[["Business", str, int, str], None]


#: FreshBooks writes its accounting objects' times in US/Eastern, with no offset (its SDKs' "Dates
#: and Times" notes); so does the sandbox, daylight saving time included
EASTERN = ZoneInfo("America/New_York")


def stamp(wall: float) -> str:
    """FreshBooks' ``YYYY-MM-DD HH:MM:SS``, in US/Eastern as FreshBooks writes it."""
    return datetime.fromtimestamp(wall, EASTERN).strftime("%Y-%m-%d %H:%M:%S")


@dataclass
class Business:
    """One business: its ids, its currency and its books (see the module docstring)."""

    business_id: int
    account_id: str
    name: str
    currency: str
    clock: SandboxClock
    classic: bool = False
    lock: threading.RLock = field(default_factory=threading.RLock)
    objects: dict[str, dict[int, dict[str, Any]]] = field(default_factory=dict)
    listeners: list[Listener] = field(default_factory=list)
    _next: int = 1000

    def __post_init__(self) -> None:
        self.reset()

    # --- identity ---------------------------------------------------------------------
    def membership(self, identity_id: int) -> dict[str, Any]:
        """This business as one of ``users/me``'s ``business_memberships``."""
        return {"id": 140000 + self.business_id % 1000, "role": "owner", "unacknowledged_change": False,
                "fasttrack_token": None,
                "business": {"id": self.business_id, "business_uuid": f"fb-{self.business_id}",
                             "name": self.name, "account_id": self.account_id, "date_format": "mm/dd/yyyy",
                             "address": {"id": self.business_id + 1, "street": "1 Loopback Way",
                                         "city": "Toronto", "province": "Ontario", "country": "Canada",
                                         "postal_code": "M5V 1A1"},
                             "phone_number": None, "business_clients": [], "active": True}}

    # --- the books --------------------------------------------------------------------
    def now(self) -> str:
        return stamp(self.clock.wall())

    def reset(self) -> None:
        """Forget every object and seed the books again."""
        with self.lock:
            self.objects = {name: {} for name in ID_FIELDS}
            self._next = 1000
            if not self.classic:
                self._seed()

    def new_id(self) -> int:
        with self.lock:
            self._next += 1
            return self._next

    def add(self, collection: str, body: dict[str, Any]) -> dict[str, Any]:
        """Keep ``body`` under a new id (``id`` and the collection's own id field)."""
        with self.lock:
            number = self.new_id()
            body.update({"id": number, ID_FIELDS[collection]: number})
            self.objects[collection][number] = body
            return body

    def get(self, collection: str, number: int) -> dict[str, Any] | None:
        with self.lock:
            return self.objects[collection].get(number)

    def all(self, collection: str) -> list[dict[str, Any]]:
        with self.lock:
            return list(self.objects[collection].values())

    def changed(self, collection: str, number: int, verb: str) -> None:
        """Tell the listeners (callbacks) that an object was created, updated or deleted."""
        for listener in list(self.listeners):
            listener(self, collection, number, verb)

    def money(self, amount: Decimal | str, code: str | None = None) -> dict[str, str]:
        """FreshBooks' money: ``{"amount": "10.00", "code": "USD"}`` (the amount a string)."""
        return {"amount": str(amount), "code": code or self.currency}

    def _seed(self) -> None:
        now = self.now()
        for name, number, amount in (("HST", "RT 1234", "13"), ("GST", "RT 5678", "5")):
            self.add("taxes", {"accounting_systemid": self.account_id, "name": name, "number": number,
                               "amount": amount, "compound": False, "updated": now})
        self.add("items", {"accounting_systemid": self.account_id, "name": "Basic subscription",
                           "description": "Basic subscription", "qty": "0", "inventory": None, "sku": "SUB-BASIC",
                           "tax1": 0, "tax2": 0, "unit_cost": self.money("10.00"), "updated": now, "vis_state": 0})
        for name in ("Bank Fees", "Merchant Fees", "Office Expenses"):
            self.add_category(name, editable=False)

    def add_category(self, name: str, editable: bool = True) -> None:
        """An expense category: a default one (not editable), or a custom subcategory the
        business made in FreshBooks (its Chargebacks, say)."""
        now = self.now()
        self.add("categories", {"category": name, "created_at": now, "updated_at": now, "is_cogs": False,
                                "is_editable": editable, "parentid": None, "vis_state": 0})


__all__ = ["Business", "ID_FIELDS", "Listener", "stamp"]
