"""ledgerlink check for a FreshBooks connection: the business, its two ids and its currency,
read from the FreshBooks sandbox; a business the user no longer belongs to is said so."""

from __future__ import annotations

from fb_connector import sandbox
from fb_sandbox import ACCOUNT
from ledgerlink.contract import Connection
from ledgerlink.testing import drive
from ledgerlink_freshbooks import CONNECTOR
from ledgerlink_sandboxes.freshbooks import DEFAULT_BUSINESS_ID


def connection(loop, **settings) -> Connection:
    return Connection("books", "freshbooks", {"api_base": loop.url, "identity_url": f"{loop.url}/auth/api/v1/users/me",
                                              "account_id": ACCOUNT, "business_id": DEFAULT_BUSINESS_ID, **settings})


def test_the_business_and_its_currency_are_named():
    with sandbox(currency="EUR") as (loop, _, send):
        lines = drive(CONNECTOR.check_company(connection(loop)), send).value
    assert lines[0].endswith(f"business_id {DEFAULT_BUSINESS_ID}, account_id {ACCOUNT}")
    assert lines[1].startswith("its currency: EUR")


def test_ids_that_do_not_agree_or_a_business_the_user_left_are_said():
    with sandbox() as (loop, _, send):
        crossed = drive(CONNECTOR.check_company(connection(loop, business_id=1)), send).value
        assert "the connection's business_id is 1" in crossed[1]
        gone = drive(CONNECTOR.check_company(connection(loop, account_id="Zz9")), send)
    assert "belongs to no FreshBooks business with account Zz9" in gone.value[0]
    assert len(gone.requests) == 1
