"""Runs against the Xero sandbox through the host's governor, on a simulated clock.

Not a test module: :func:`governed_runs` is the workload of ``test_xero_governor.py`` and of
``bench/xero_governor.py``. Each run is one ``xero.create_bank_transaction`` (a Stripe fee
spent from the clearing account), performed by the action as the host performs it; every
request takes a governor slot (:class:`~ledgerlink.io.governor.local.LocalGovernor` or the
shared one), is sent over loopback HTTP to the sandbox, and its answer is heeded as
``Connections.transport`` heeds it (:func:`ledgerlink.io.governor.heed` with the connector's
``read_remaining``: a 429 pauses the organisation, the counts Xero says are left narrow the
governor's). The slot is held for the request's simulated duration, so up to ``concurrent``
requests are in flight at once while time passes only when the governor sleeps.

The runs go one after the other (the contact Stripe's fees are spent with first, run -1). A
run the governor cannot give a slot within ``max_wait`` (Throttled) is tried again when its
slot is expected, as the worker reschedules it, without spending an attempt; a run Xero
answered with a retryable error (a 429) spends one and is tried again.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import httpx

from ledgerlink.contract import Limits
from ledgerlink.errors import Throttled, VendorError
from ledgerlink.io import outbound
from ledgerlink.io.governor import heed
from ledgerlink.testing import context, drive, response_of
from ledgerlink_sandboxes.xero import DEFAULT_ACCESS_TOKEN, DEFAULT_TENANT
from ledgerlink_xero import CONNECTOR
from ledgerlink_xero.bank import CREATE_BANK_TRANSACTION
from ledgerlink_xero.contacts import FIND_OR_CREATE_CONTACT
from ledgerlink_xero.oauth import auth_headers

KEY = f"xero:{DEFAULT_TENANT}"
#: seconds each request holds its slot, in turn (binary fractions: sums stay exact)
DURATIONS = (0.25, 0.5, 1.0, 4.0, 7.5)


@dataclass
class Outcome:
    """What the runs did, on the simulated clock."""

    starts: list[float] = field(default_factory=list)
    statuses: list[int] = field(default_factory=list)
    peak: int = 0
    throttled: list[tuple[str, float]] = field(default_factory=list)
    attempts: dict[int, int] = field(default_factory=dict)
    succeeded: int = 0

    @property
    def too_many(self) -> int:
        return self.statuses.count(429)

    def per_minute(self, t0: float) -> list[int]:
        """Starts in each whole minute from ``t0`` that ended before the last start."""
        minutes = int((self.starts[-1] - t0) // 60)
        return [sum(1 for s in self.starts if t0 + 60 * m <= s < t0 + 60 * (m + 1)) for m in range(minutes)]


def governed_runs(url: str, governor, clock, limits: Limits, runs: int,
                  durations: Sequence[float] = DURATIONS, max_wait: float = 10.0) -> Outcome:
    """Perform ``runs`` fee runs against the sandbox at ``url`` (see the module docstring)."""
    settings = {"api_base": f"{url}/api.xro/2.0", "tenant_id": DEFAULT_TENANT, "base_currency": "USD"}
    auth = auth_headers({"access_token": DEFAULT_ACCESS_TOKEN, "tenant_id": DEFAULT_TENANT})
    outcome = Outcome()
    in_flight = 0

    def finish(slot) -> None:
        nonlocal in_flight
        in_flight -= 1
        slot.__exit__(None, None, None)

    with httpx.Client(timeout=30.0) as client:
        def send(request):
            nonlocal in_flight
            slot = governor.slot(KEY, limits, max_wait=max_wait)
            slot.__enter__()
            in_flight += 1
            outcome.peak = max(outcome.peak, in_flight)
            outcome.starts.append(clock.now)
            answer = response_of(client.send(outbound.build(request, auth)))
            outcome.statuses.append(answer.status)
            heed(governor, KEY, limits, answer.status, answer.headers, CONNECTOR.read_remaining)
            clock.at(clock.now + durations[len(outcome.starts) % len(durations)], lambda: finish(slot))
            return answer

        def attempt(steps) -> object:
            while True:
                try:
                    return drive(steps(), send).value
                except Throttled as throttled:  # rescheduled, no attempt spent
                    outcome.throttled.append((throttled.reason, clock.now))
                    clock.sleep(max(0.0, throttled.delay))

        def run(index: int, steps) -> object:
            while True:
                outcome.attempts[index] = outcome.attempts.get(index, 0) + 1
                try:
                    return attempt(steps)
                except VendorError as error:  # Xero said later: the governor was paused as told
                    if error.kind != "retry":
                        raise

        contact = run(-1, lambda: FIND_OR_CREATE_CONTACT.perform(
            {"source_id": "acct_stripe", "Name": "Stripe"}, context("xero", settings, key="contact")))
        for index in range(runs):
            fee = {"Type": "SPEND", "ContactID": contact["id"], "BankAccountCode": "090", "Date": "2026-05-01",
                   "Reference": f"txn_fee_{index}", "CurrencyCode": "USD",
                   "LineItems": [{"Description": "Stripe fees", "UnitAmount": f"{1 + index % 7}.{index % 100:02d}",
                                  "AccountCode": "404"}]}
            run(index, lambda: CREATE_BANK_TRANSACTION.perform(fee, context("xero", settings, key=f"fee-{index}")))
            outcome.succeeded += 1
        clock.run_all()
    return outcome


__all__ = ["DURATIONS", "KEY", "Outcome", "governed_runs"]
