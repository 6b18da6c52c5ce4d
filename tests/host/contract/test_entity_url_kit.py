"""The kit's deep links: ``url_table`` builds an address from a base and a page per kind,
encodes what it puts in, and gives None where there is no page; ``usable_url`` keeps only
addresses a page may link to."""

import pytest

from ledgerlink.contract import EntityRef, url_table
from ledgerlink.contract.deeplinks import usable_url

PAGES = {"note": "/notes/{id}", "invoice": "/books/{account}/invoices/{id}", "list": "/items"}


def table(base="https://app.acme.test"):
    return url_table(lambda ref: base, PAGES)


def test_a_kind_with_a_page_gets_its_address_built_from_the_id_and_settings():
    assert table()(EntityRef("note", "n_1")) == "https://app.acme.test/notes/n_1"
    assert table()(EntityRef("invoice", "7", {"account": "Ab9"})) == "https://app.acme.test/books/Ab9/invoices/7"
    assert table("https://app.acme.test/")(EntityRef("list", "9")) == "https://app.acme.test/items"


def test_ids_and_settings_are_percent_encoded_so_they_cannot_leave_their_place():
    assert table()(EntityRef("note", "a/b?c=d#e f")) == "https://app.acme.test/notes/a%2Fb%3Fc%3Dd%23e%20f"
    assert table()(EntityRef("invoice", "1", {"account": "../x"})) == "https://app.acme.test/books/..%2Fx/invoices/1"


@pytest.mark.parametrize("ref", [EntityRef("receipt", "1"), EntityRef("note", ""),
                                 EntityRef("invoice", "1", {}), EntityRef("invoice", "1", {"account": True})])
def test_no_page_no_id_or_a_missing_setting_gives_no_link(ref):
    assert table()(ref) is None


def test_a_base_of_none_gives_no_link():
    assert url_table(lambda ref: None, PAGES)(EntityRef("note", "1")) is None


@pytest.mark.parametrize("url, usable", [
    ("https://app.acme.test/notes/1", True), ("http://127.0.0.1:8766/x", True),
    ("javascript:alert(1)", False), ("/notes/1", False), ("https://", False), (None, False), (7, False),
    ("https://a.test/x\r\nSet-Cookie: y", False), ('https://a.test/"><script>', False),
])
def test_only_web_addresses_are_usable(url, usable):
    assert usable_url(url) == (url if usable else None)
