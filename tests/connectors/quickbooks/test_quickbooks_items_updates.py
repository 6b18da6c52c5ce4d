"""quickbooks.find_item, find_or_create_item, find_account, void_invoice, update_invoice and
update_customer, run over HTTP against the loopback QuickBooks sandbox.

Requests go out as the host sends them (``ledgerlink.testing.over_http``: ``outbound.build``
sent with httpx) to the QuickBooks sandbox of the ``qbo`` fixture. Link queries are
answered from a links table kept by the test (``ledgerlink.testing.LinkTable``), as the
runtime's store would: first link wins.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import httpx
import jsonschema
import pytest
from ledgerlink import jsonio
from ledgerlink.contract import ActionContext, Connection, LinkQuery, Request
from ledgerlink.testing import Driven, HttpSender, LinkTable, Script, over_http
from ledgerlink.testing import drive as kit_drive
from ledgerlink.errors import InputError, VendorError
from ledgerlink_quickbooks import accounts, items, sales_forms, synctoken, updates
from ledgerlink_sandboxes.quickbooks import DEFAULT_REALM, xsd

REALM = DEFAULT_REALM
AUTH = {"Authorization": "Bearer sandbox-access-token"}
MV = {"minorversion": "75"}

FIND_ITEM = items.FIND_ITEM
FIND_OR_CREATE_ITEM = items.FIND_OR_CREATE_ITEM
FIND_ACCOUNT = accounts.ACTION
VOID_INVOICE = updates.VOID_INVOICE
UPDATE_INVOICE = updates.UPDATE_INVOICE
UPDATE_CUSTOMER = updates.UPDATE_CUSTOMER
NEW = (FIND_ITEM, FIND_OR_CREATE_ITEM, FIND_ACCOUNT, VOID_INVOICE, UPDATE_INVOICE, UPDATE_CUSTOMER)
IDS = [a.name.split(".")[1] for a in NEW]
ENTITIES = {"item": "Item", "invoice": "Invoice", "customer": "Customer", "account": "Account"}


def context(qbo, key: str = "step-key-1") -> ActionContext:
    return ActionContext(connection=Connection("qbo", "quickbooks", {"base_url": qbo.url, "realm_id": REALM}),
                         idempotency_key=key)


def _entity_of(url: str) -> str:
    return ENTITIES[url.split("?", 1)[0].rsplit("/", 1)[1]]


def fits_xsd(request: Request) -> None:
    """What goes on the wire is a valid QBO body."""
    if request.method == "POST":
        assert xsd.check(_entity_of(request.url), request.json) == []


def drive(steps, links: LinkTable | None = None,
          before_post: Callable[[Request], None] | None = None, into: Driven | None = None) -> Driven:
    """Run an action generator over HTTP against the sandbox; ``before_post`` runs before each
    POST leaves (another writer acting meanwhile)."""
    def before(request: Request) -> None:
        if request.method == "POST" and before_post is not None:
            before_post(request)

    return over_http(steps, AUTH, check=fits_xsd, links=links, before_send=before, into=into)


def run(qbo, action, data, key="step-key-1", sent: list[Request] | None = None, **kw) -> Any:
    """``action`` performed over HTTP; ``sent`` collects its requests, kept if it raises."""
    record = Driven(requests=sent) if sent is not None else None
    return drive(action.perform(data, context(qbo, key)), into=record, **kw).value


def v3(qbo, path: str) -> str:
    return f"{qbo.url}/v3/company/{REALM}/{path}"


def http_get(qbo, entity: str, ident: str) -> dict:
    resp = httpx.get(v3(qbo, f"{entity}/{ident}"), params=MV, headers=AUTH)
    assert resp.status_code == 200, resp.text
    return jsonio.loads(resp.content)[ENTITIES[entity]]


def http_post(qbo, entity: str, body: dict, **args: str) -> httpx.Response:
    return httpx.post(v3(qbo, entity), params={**MV, **args}, headers=AUTH,
                      content=jsonio.dumps(body).encode())


def touch(qbo, entity: str, ident: str, **fields: Any) -> dict:
    """Another user of the company changes the entity (a sparse update): its SyncToken moves on."""
    current = http_get(qbo, entity, ident)
    resp = http_post(qbo, entity, {"Id": ident, "SyncToken": current["SyncToken"], "sparse": True, **fields})
    assert resp.status_code == 200, resp.text
    return jsonio.loads(resp.content)[ENTITIES[entity]]


def stored(sandbox, entity: str) -> list[dict]:
    return sandbox.entities(REALM, entity)


def posts(sent: list[Request]) -> list[Request]:
    return [r for r in sent if r.method == "POST"]


ITEM = {"source_id": "prod_bird_seed", "Name": "Bird seed", "IncomeAccountRef": "1",
        "Description": "A bag of bird seed", "UnitPrice": "12.50"}


# --- the registered actions ----------------------------------------------------------------------

@pytest.mark.parametrize("action", NEW, ids=IDS)
def test_each_action_is_registered_with_2020_12_schemas(action, catalog):
    registered = catalog.actions[action.name]
    assert registered.plugin == "quickbooks" and registered.perform is action.perform
    assert registered.sample_response is not None
    for schema in (action.input_schema, action.output_schema):  # valid and described: conformance
        assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert list(jsonschema.Draft202012Validator(action.input_schema).iter_errors(action.sample)) == []
    expected = {FIND_ITEM.name: ("none", False), FIND_OR_CREATE_ITEM.name: ("lookup", True),
                FIND_ACCOUNT.name: ("none", False), VOID_INVOICE.name: ("key", False),
                UPDATE_INVOICE.name: ("key", False), UPDATE_CUSTOMER.name: ("key", False)}[action.name]
    assert (registered.idempotency, registered.undo is not None) == expected


def test_reference_fields_are_annotated_for_ledgerlink_check():
    assert FIND_OR_CREATE_ITEM.input_schema["properties"]["IncomeAccountRef"]["x-ledgerlink-ref"] == "Account"
    assert UPDATE_CUSTOMER.input_schema["properties"]["Id"]["x-ledgerlink-ref"] == "Customer"
    assert "cannot delete" in FIND_OR_CREATE_ITEM.summary and "inactive" in FIND_OR_CREATE_ITEM.summary
    assert "cannot be undone" in VOID_INVOICE.summary and VOID_INVOICE.undo is None


def test_the_schemas_refuse_what_perform_refuses():
    def errors(action, data):
        return list(jsonschema.Draft202012Validator(action.input_schema).iter_errors(data))

    assert errors(FIND_ACCOUNT, {"Name": "Checking", "AcctNum": "1000"})
    assert errors(FIND_ACCOUNT, {"require_active": False})
    assert errors(FIND_OR_CREATE_ITEM, {"Name": "x"})  # no IncomeAccountRef
    assert errors(FIND_OR_CREATE_ITEM, {**ITEM, "Type": "Inventory"})
    assert errors(UPDATE_INVOICE, {"Id": "1"})  # nothing to change
    assert errors(UPDATE_INVOICE, {"Id": "1/2", "DueDate": "2024-01-01"})
    assert errors(UPDATE_CUSTOMER, {"Id": "1", "Balance": 0})


# --- find_item and find_or_create_item -----------------------------------------------------------

def test_an_item_is_created_then_found_by_link_then_by_name(qbo, sandbox):
    links = LinkTable()
    created = run(qbo, FIND_OR_CREATE_ITEM, ITEM, "key-create", links=links)
    [new] = [i for i in stored(sandbox, "item") if i["Name"] == "Bird seed"]
    assert created == {"id": new["Id"], "name": "Bird seed", "type": "Service", "active": True,
                       "found_by": "created",
                       "link": {"source_id": "prod_bird_seed", "target_type": "quickbooks.item"}}
    assert new["IncomeAccountRef"] == {"value": "1", "name": "Services"}
    assert new["UnitPrice"] == Decimal("12.50") and new["Description"] == "A bag of bird seed"
    logged = [r for r in sandbox.requests() if r["entity"] == "item"]
    assert [(r["method"], r["requestid"]) for r in logged] == [("POST", "key-create")]
    links.record(created)

    # the same source id again: the links table answers, no request at all
    before = len(sandbox.requests())
    again = run(qbo, FIND_OR_CREATE_ITEM, ITEM, "key-again", links=links)
    assert again == {"id": new["Id"], "name": "Bird seed", "found_by": "link",
                     "link": {"source_id": "prod_bird_seed", "target_type": "quickbooks.item"}}
    assert len(sandbox.requests()) == before
    assert run(qbo, FIND_ITEM, {"source_id": "prod_bird_seed", "Name": "anything"}, links=links)["id"] == new["Id"]

    # another source id, same name (a second Stripe price of the product): found by name
    by_name = run(qbo, FIND_OR_CREATE_ITEM, {**ITEM, "source_id": "price_other"}, "key-3", links=links)
    assert (by_name["id"], by_name["found_by"], by_name["link"]["source_id"]) == (new["Id"], "name", "price_other")
    assert len([i for i in stored(sandbox, "item") if i["Name"] == "Bird seed"]) == 1
    assert sandbox.stats()["created"][REALM] == {"item": 1}


def test_find_item_by_name_and_not_found(qbo, sandbox):
    assert run(qbo, FIND_ITEM, {"Name": "Design"}) == {
        "id": "3", "name": "Design", "type": "Service", "active": True, "found_by": "name"}
    gadget = run(qbo, FIND_ITEM, {"Name": "Gadget", "source_id": "prod_gadget"})
    assert (gadget["id"], gadget["type"], gadget["link"]["source_id"]) == ("4", "NonInventory", "prod_gadget")
    assert run(qbo, FIND_ITEM, {"Name": "Unicorn", "source_id": "prod_x"}) == {
        "id": None, "name": "Unicorn", "found_by": "none"}
    assert [r["method"] for r in sandbox.requests()] == ["GET"] * 3  # read only
    assert sandbox.stats()["created"][REALM] == {}


def test_the_name_is_escaped_in_the_query(qbo, sandbox):
    odd = "Amy's \\ \"special\" seed"
    driven = drive(FIND_OR_CREATE_ITEM.perform({**ITEM, "Name": odd, "source_id": "prod_odd"},
                                               context(qbo, "k-odd")))
    created, sent = driven.value, driven.requests
    assert sent[0].params["query"] == ("SELECT * FROM Item WHERE Name = 'Amy\\'s \\\\ \"special\" seed' "
                                       "AND Active IN (true, false) MAXRESULTS 1000")
    found = run(qbo, FIND_ITEM, {"Name": odd})
    assert (found["id"], found["found_by"]) == (created["id"], "name")


def test_two_runs_racing_for_one_source_id_make_one_item(qbo, sandbox):
    """Both runs look the product up before either creates it; the loser's create is refused
    as a duplicate name (6240) and it takes the winner's item."""
    links = LinkTable()
    data = {**ITEM, "source_id": "prod_race", "Name": "Raced item"}
    http = httpx.Client(timeout=10)
    send = HttpSender(http, AUTH, check=fits_xsd)
    first = FIND_OR_CREATE_ITEM.perform(data, context(qbo, "key-run-1"))
    second = FIND_OR_CREATE_ITEM.perform(data, context(qbo, "key-run-2"))

    def until_post(steps, request):
        while not (isinstance(request, Request) and request.method == "POST"):
            request = steps.send(links.answer(request) if isinstance(request, LinkQuery) else send(request))
        return request

    def finish(steps, request):
        try:
            while True:
                request = steps.send(links.answer(request) if isinstance(request, LinkQuery) else send(request))
        except StopIteration as done:
            return done.value

    try:
        post_1 = until_post(first, next(first))
        post_2 = until_post(second, next(second))  # neither has created anything yet
        assert not [i for i in stored(sandbox, "item") if i["Name"] == "Raced item"]
        won = finish(first, post_1)
        links.record(won)
        lost = finish(second, post_2)
        links.record(lost)
    finally:
        http.close()
    [item] = [i for i in stored(sandbox, "item") if i["Name"] == "Raced item"]
    assert won["id"] == lost["id"] == item["Id"]
    assert (won["found_by"], lost["found_by"]) == ("created", "name")
    statuses = [(r["method"], r["entity"], r["status"]) for r in sandbox.requests() if r["method"] == "POST"]
    assert statuses == [("POST", "item", 200), ("POST", "item", 400)]
    assert links.rows == {("prod_race", "quickbooks.item"): item["Id"]}
    # a third run for the same product: the link, and still one item
    assert run(qbo, FIND_OR_CREATE_ITEM, data, "key-run-3", links=links)["found_by"] == "link"
    assert sandbox.stats()["created"][REALM] == {"item": 1}


def test_two_threads_racing_make_one_item(qbo, sandbox):
    import threading

    data = {**ITEM, "source_id": "prod_threads", "Name": "Threaded item"}
    barrier = threading.Barrier(2)
    outputs: list[dict] = []
    errors: list[BaseException] = []

    class Waiting(LinkTable):
        def answer(self, query):  # both have asked the links table before either goes on
            barrier.wait(timeout=5)
            return super().answer(query)

    def one(key):
        try:
            outputs.append(run(qbo, FIND_OR_CREATE_ITEM, data, key, links=Waiting()))
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=one, args=(f"thread-{n}",)) for n in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=20)
    assert errors == []
    [item] = [i for i in stored(sandbox, "item") if i["Name"] == "Threaded item"]
    assert [o["id"] for o in outputs] == [item["Id"], item["Id"]]


def test_a_name_differing_only_in_case_takes_the_existing_item(qbo, sandbox):
    # QuickBooks names are unique regardless of case; the exact-name query misses "Design",
    # the create is refused (6240, naming the Id), and the existing item is taken
    found = run(qbo, FIND_OR_CREATE_ITEM, {**ITEM, "Name": "design", "source_id": "prod_design"}, "k-case")
    assert (found["id"], found["name"], found["found_by"]) == ("3", "Design", "name")
    assert sandbox.stats()["created"][REALM] == {}


def test_an_inactive_item_of_that_name_is_an_error(qbo, sandbox):
    for action in (FIND_ITEM, FIND_OR_CREATE_ITEM):
        with pytest.raises(VendorError) as info:
            run(qbo, action, {**ITEM, "Name": "Retired Plan"} if action is FIND_OR_CREATE_ITEM
                else {"Name": "Retired Plan"})
        assert info.value.kind == "permanent"
        assert "'Retired Plan' (Id 5) is inactive" in info.value.message and "Make active" in info.value.message
    assert sandbox.stats()["created"][REALM] == {}


def test_a_missing_income_account_is_refused_before_anything_is_sent(qbo, sandbox):
    data = {key: value for key, value in ITEM.items() if key != "IncomeAccountRef"}
    with pytest.raises(InputError) as info:
        run(qbo, FIND_OR_CREATE_ITEM, data)
    assert "/IncomeAccountRef: missing; QuickBooks needs the income account a Service item" in info.value.message
    with pytest.raises(InputError) as info:
        run(qbo, FIND_OR_CREATE_ITEM, {**ITEM, "Type": "NonInventory", "IncomeAccountRef": {"name": "x"}})
    assert "IncomeAccountRef.value" in info.value.message
    with pytest.raises(InputError) as info:
        run(qbo, FIND_OR_CREATE_ITEM, {**ITEM, "UnitPrice": 12.5})
    assert "float" in info.value.message
    with pytest.raises(InputError):
        run(qbo, FIND_OR_CREATE_ITEM, ITEM, key="k" * 51)
    assert sandbox.requests() == []
    # and QuickBooks (the sandbox) refuses such an item too
    refused = http_post(qbo, "item", {"Name": "No account", "Type": "NonInventory"})
    fault = jsonio.loads(refused.content)["Fault"]["Error"][0]
    assert (refused.status_code, fault["code"], fault["element"]) == (400, "2020", "IncomeAccountRef")


def test_undo_of_a_created_item_makes_it_inactive(qbo, sandbox):
    created = run(qbo, FIND_OR_CREATE_ITEM, ITEM, "k-undo")
    driven = drive(FIND_OR_CREATE_ITEM.undo(created["id"], context(qbo, "undo-1-7")))
    undone, sent = driven.value, driven.requests
    item = http_get(qbo, "item", created["id"])
    assert item["Active"] is False and item["SyncToken"] == "1"
    assert item["Name"] == "Bird seed" and item["IncomeAccountRef"]["value"] == "1"  # kept: sparse
    assert undone == {"id": created["id"], "status": "made inactive", "sync_token": "1"}
    [update] = posts(sent)
    assert update.json == {"Id": created["id"], "SyncToken": "0", "sparse": True, "Active": False}
    assert update.params["requestid"] == "undo-1-7"
    # again: nothing to do; an item QuickBooks does not have counts as undone
    assert drive(FIND_OR_CREATE_ITEM.undo(created["id"], context(qbo, "undo-1-7"))).value["status"] == \
        "already inactive"
    assert drive(FIND_OR_CREATE_ITEM.undo("999", context(qbo, "undo-1-8"))).value["status"] == "already gone"
    # the inactive item is not silently used again
    with pytest.raises(VendorError, match="is inactive"):
        run(qbo, FIND_ITEM, {"Name": "Bird seed"})


def test_undo_of_an_item_retries_once_on_a_stale_sync_token(qbo, sandbox):
    created = run(qbo, FIND_OR_CREATE_ITEM, ITEM, "k-undo-stale")
    moved = []

    def someone_renames_it(request):
        if not moved:
            moved.append(touch(qbo, "item", created["id"], Description="renamed meanwhile"))

    driven = drive(FIND_OR_CREATE_ITEM.undo(created["id"], context(qbo, "undo-2")),
                   before_post=someone_renames_it)
    undone, sent = driven.value, driven.requests
    item = http_get(qbo, "item", created["id"])
    assert item["Active"] is False and item["Description"] == "renamed meanwhile"
    assert undone["status"] == "made inactive"
    assert [r.method for r in sent] == ["GET", "POST", "GET", "POST"]


# --- find_account --------------------------------------------------------------------------------

def test_an_account_is_found_by_name_and_by_number(qbo, sandbox):
    assert run(qbo, FIND_ACCOUNT, {"Name": "Undeposited Funds"}) == {
        "id": "4", "name": "Undeposited Funds", "number": "1200", "type": "Other Current Asset", "active": True}
    assert run(qbo, FIND_ACCOUNT, {"AcctNum": "1000"}) == {
        "id": "35", "name": "Checking", "number": "1000", "type": "Bank", "active": True}
    sent = drive(FIND_ACCOUNT.perform({"Name": "Accounts Receivable (A/R)"}, context(qbo))).requests
    assert sent[0].params["query"] == ("SELECT * FROM Account WHERE Name = 'Accounts Receivable (A/R)' "
                                       "AND Active IN (true, false) STARTPOSITION 1 MAXRESULTS 1000")
    assert sandbox.stats()["created"][REALM] == {} and sandbox.stats()["updated"][REALM] == {}


def test_a_sub_account_is_found_by_its_full_name(qbo, sandbox):
    made = http_post(qbo, "account", {"Name": "Stripe Fees", "AccountType": "Expense", "AcctNum": "6110",
                                      "SubAccount": True, "ParentRef": {"value": "62"}})
    assert made.status_code == 200, made.text
    fees = jsonio.loads(made.content)["Account"]
    assert fees["FullyQualifiedName"] == "Bank Charges:Stripe Fees"
    assert run(qbo, FIND_ACCOUNT, {"Name": "Bank Charges:Stripe Fees"})["id"] == fees["Id"]
    assert run(qbo, FIND_ACCOUNT, {"Name": "Stripe Fees"})["number"] == "6110"
    assert run(qbo, FIND_ACCOUNT, {"Name": "Checking:Stripe Fees"})["id"] is None


def test_two_accounts_of_one_name_are_ambiguous():
    rows = [{"Id": "70", "Name": "Stripe", "FullyQualifiedName": "Bank Charges:Stripe", "Active": True},
            {"Id": "71", "Name": "Stripe", "FullyQualifiedName": "Clearing:Stripe", "Active": True}]
    steps = FIND_ACCOUNT.perform({"Name": "Stripe"}, ActionContext(
        Connection("qbo", "quickbooks", {"base_url": "http://127.0.0.1:9", "realm_id": REALM}), ""))
    with pytest.raises(VendorError) as info:
        kit_drive(steps, Script({"QueryResponse": {"Account": rows}}))
    assert "'Bank Charges:Stripe' (Id 70), 'Clearing:Stripe' (Id 71)" in info.value.message
    assert info.value.kind == "permanent"


def test_an_inactive_account_is_an_error_naming_it_unless_allowed(qbo, sandbox):
    for data in ({"Name": "Old Merchant Clearing"}, {"AcctNum": "1290"}):
        with pytest.raises(VendorError) as info:
            run(qbo, FIND_ACCOUNT, data)
        assert info.value.kind == "permanent"
        assert "'Old Merchant Clearing' (Id 91, number 1290) is inactive" in info.value.message
    assert run(qbo, FIND_ACCOUNT, {"AcctNum": "1290", "require_active": False}) == {
        "id": "91", "name": "Old Merchant Clearing", "number": "1290", "type": "Other Current Asset",
        "active": False}
    # an account made inactive through the API is reported the same way
    touch(qbo, "account", "62", Active=False)
    with pytest.raises(VendorError, match="'Bank Charges' .* is inactive"):
        run(qbo, FIND_ACCOUNT, {"Name": "Bank Charges"})


def test_a_missing_account_is_null_unless_required(qbo, sandbox):
    assert run(qbo, FIND_ACCOUNT, {"Name": "Nope"}) == {
        "id": None, "name": None, "number": None, "type": None, "active": None}
    assert run(qbo, FIND_ACCOUNT, {"AcctNum": "9999"})["id"] is None
    with pytest.raises(VendorError) as info:
        run(qbo, FIND_ACCOUNT, {"AcctNum": "9999", "required": True})
    assert info.value.kind == "permanent" and "no QuickBooks account is numbered '9999'" in info.value.message


@pytest.mark.parametrize("data, needle", [
    ({"Name": "Checking", "AcctNum": "1000"}, "exactly one of Name and AcctNum, not both"),
    ({}, "exactly one of Name and AcctNum"),
    ({"Name": "Checking", "require_active": "yes"}, "require_active must be true or false"),
    ({"Name": "Checking", "Id": "35"}, "unknown input key 'Id'"),
])
def test_find_account_input_mistakes_are_refused_before_a_request(qbo, sandbox, data, needle):
    with pytest.raises(InputError) as info:
        run(qbo, FIND_ACCOUNT, data)
    assert needle in info.value.message
    assert sandbox.requests() == []


def test_the_chart_of_accounts_is_read_page_by_page_for_a_number():
    ctx = ActionContext(Connection("qbo", "quickbooks", {"base_url": "http://127.0.0.1:9", "realm_id": REALM}), "")
    page = [{"Id": str(n), "Name": f"A{n}", "AcctNum": str(n), "Active": True} for n in range(1000, 2000)]
    driven = kit_drive(FIND_ACCOUNT.perform({"AcctNum": "7"}, ctx), Script(
        {"QueryResponse": {"Account": page}},
        {"QueryResponse": {"Account": [{"Id": "7", "Name": "Seven", "AcctNum": "7", "AccountType": "Bank",
                                        "Active": True}]}}))
    first, second = driven.requests
    assert "STARTPOSITION 1 " in first.params["query"] and "STARTPOSITION 1001 " in second.params["query"]
    assert driven.value["id"] == "7"


# --- void_invoice ----------------------------------------------------------------------------------

def an_invoice(qbo, key="inv", note="Stripe invoice in_1") -> dict:
    output = drive(sales_forms.CREATE_INVOICE.perform(
        {"CustomerRef": "1", "PrivateNote": note, "DueDate": "2024-04-14",
         "Lines": [{"ItemRef": "1", "Qty": 2, "UnitPrice": "12.50", "Description": "Seed, 2 bags"},
                   {"ItemRef": "2", "Amount": "0.10", "Description": "Rounding"}]}, context(qbo, key))).value
    return http_get(qbo, "invoice", output["id"])


def test_void_then_void_again(qbo, sandbox):
    invoice = an_invoice(qbo)
    assert invoice["TotalAmt"] == Decimal("25.10")
    driven = drive(VOID_INVOICE.perform({"Id": invoice["Id"]}, context(qbo, "void-key")))
    voided, sent = driven.value, driven.requests
    assert voided == {"id": invoice["Id"], "sync_token": "1", "status": "voided", "total": Decimal(0),
                      "doc_number": invoice["DocNumber"]}
    assert [(r.method, r.url.rsplit("/", 1)[1], r.params.get("operation")) for r in sent] == [
        ("GET", invoice["Id"], None), ("POST", "invoice", "void")]
    void = posts(sent)[0]
    assert void.json == {"Id": invoice["Id"], "SyncToken": "0"}
    assert void.params["requestid"] == "void-key"
    now = http_get(qbo, "invoice", invoice["Id"])
    assert now["TotalAmt"] == 0 and now["Balance"] == 0
    assert now["PrivateNote"] == "Voided - Stripe invoice in_1"
    assert [line["Amount"] for line in now["Line"]] == [0, 0]
    assert [line["Description"] for line in now["Line"]] == ["Seed, 2 bags", "Rounding"]
    assert now["DocNumber"] == invoice["DocNumber"] and now["CustomerRef"]["value"] == "1"
    assert xsd.check("Invoice", now) == []

    # again (a replay, another event): no second void is sent
    sent = []
    again = run(qbo, VOID_INVOICE, {"Id": invoice["Id"]}, "void-key-2", sent=sent)
    assert again == {**voided, "status": "already voided"}
    assert [r.method for r in sent] == ["GET"]
    assert sandbox.stats()["voided"][REALM] == {"invoice": 1}
    # QuickBooks itself accepts a second void and changes nothing
    second = http_post(qbo, "invoice", {"Id": invoice["Id"], "SyncToken": "1"}, operation="void")
    assert second.status_code == 200 and jsonio.loads(second.content)["Invoice"] == now
    assert sandbox.stats()["voided"][REALM] == {"invoice": 1}


def test_the_same_void_requestid_is_answered_from_memory(qbo, sandbox):
    invoice = an_invoice(qbo)
    first = http_post(qbo, "invoice", {"Id": invoice["Id"], "SyncToken": "0"}, operation="void", requestid="v-1")
    replay = http_post(qbo, "invoice", {"Id": invoice["Id"], "SyncToken": "0"}, operation="void", requestid="v-1")
    assert replay.content == first.content and sandbox.stats()["replayed"] == 1


def test_the_sandbox_checks_a_void_body_against_the_xsd(qbo, sandbox):
    invoice = an_invoice(qbo)
    bad = http_post(qbo, "invoice", {"Id": invoice["Id"], "SyncToken": "0", "Voided": True}, operation="void")
    error = jsonio.loads(bad.content)["Fault"]["Error"][0]
    assert (bad.status_code, error["code"], error["element"]) == (400, "2010", "Voided")
    stale = http_post(qbo, "invoice", {"Id": invoice["Id"], "SyncToken": "7"}, operation="void")
    assert jsonio.loads(stale.content)["Fault"]["Error"][0]["code"] == "5010"
    missing = http_post(qbo, "invoice", {"Id": "999", "SyncToken": "0"}, operation="void")
    assert jsonio.loads(missing.content)["Fault"]["Error"][0]["code"] == "610"
    other = http_post(qbo, "customer", {"Id": "1", "SyncToken": "0"}, operation="void")
    assert jsonio.loads(other.content)["Fault"]["Error"][0]["Message"] == "Unsupported Operation"
    assert http_get(qbo, "invoice", invoice["Id"])["TotalAmt"] == Decimal("25.10")


def test_a_stale_sync_token_is_read_again_and_retried_once(qbo, sandbox):
    invoice = an_invoice(qbo)
    moved = []

    def someone_edits_it(request):
        if not moved:  # between the action's read and its void
            moved.append(touch(qbo, "invoice", invoice["Id"], DueDate="2024-05-01"))

    sent: list[Request] = []
    voided = run(qbo, VOID_INVOICE, {"Id": invoice["Id"]}, "void-stale", sent=sent, before_post=someone_edits_it)
    assert voided["status"] == "voided" and voided["sync_token"] == "2"
    assert [r.method for r in sent] == ["GET", "POST", "GET", "POST"]
    first, retry = posts(sent)
    assert (first.json["SyncToken"], retry.json["SyncToken"]) == ("0", "1")
    # the retry needs a requestid of its own: QuickBooks answers a known one with its first answer
    assert (first.params["requestid"], retry.params["requestid"]) == ("void-stale", "void-stale-r1")
    statuses = [r["status"] for r in sandbox.requests() if r["method"] == "POST" and r["entity"] == "invoice"]
    assert statuses[-3:] == [200, 400, 200]  # the other user's edit, the stale void, the retry
    assert http_get(qbo, "invoice", invoice["Id"])["TotalAmt"] == 0


def test_twice_stale_is_the_error(qbo, sandbox):
    invoice = an_invoice(qbo)
    sent: list[Request] = []
    with pytest.raises(VendorError) as info:
        run(qbo, VOID_INVOICE, {"Id": invoice["Id"]}, "void-busy", sent=sent,
            before_post=lambda request: touch(qbo, "invoice", invoice["Id"], PrivateNote="busy"))
    assert info.value.vendor_code == "5010" and info.value.kind == "permanent"
    assert "changed again while it was being written (2 writes" in info.value.message
    assert [r.method for r in sent] == ["GET", "POST", "GET", "POST"]  # exactly one retry
    assert http_get(qbo, "invoice", invoice["Id"])["TotalAmt"] == Decimal("25.10")  # not voided


def test_scripted_stale_faults_retry_once_then_fail(qbo, sandbox):
    invoice = an_invoice(qbo)
    stale = {"fault": "validation", "message": "Stale Object Error", "code": "5010",
             "detail": "Stale Object Error : You and another user were working on this at the same time.",
             "match": {"method": "POST", "entity": "invoice"}}
    sandbox.script([stale])
    out = run(qbo, UPDATE_INVOICE, {"Id": invoice["Id"], "PrivateNote": "edited"}, "upd-scripted")
    assert out["status"] == "updated" and sandbox.stats()["faults_pending"] == 0
    sandbox.script([stale, stale])
    with pytest.raises(VendorError) as info:
        run(qbo, UPDATE_INVOICE, {"Id": invoice["Id"], "PrivateNote": "edited again"}, "upd-scripted-2")
    assert info.value.vendor_code == "5010"
    assert http_get(qbo, "invoice", invoice["Id"])["PrivateNote"] == "edited"


def test_void_input_mistakes_are_refused_before_a_request(qbo, sandbox):
    for data in ({}, {"Id": "1/../2"}, {"Id": 130}, {"Id": "130", "Reason": "x"}):
        with pytest.raises(InputError):
            run(qbo, VOID_INVOICE, data)
    with pytest.raises(InputError, match="idempotency key"):
        run(qbo, VOID_INVOICE, {"Id": "1"}, key="")
    assert sandbox.requests() == []
    with pytest.raises(VendorError) as info:  # no such invoice: QuickBooks says so
        run(qbo, VOID_INVOICE, {"Id": "999"})
    assert info.value.kind == "permanent" and info.value.vendor_code == "610"


# --- update_invoice and update_customer -------------------------------------------------------------

def test_a_sparse_invoice_update_sends_only_the_fields_given(qbo, sandbox):
    invoice = an_invoice(qbo)
    sent: list[Request] = []
    out = run(qbo, UPDATE_INVOICE, {"Id": invoice["Id"], "DueDate": "2024-04-30", "CustomerMemo": "Thanks!",
                                    "BillEmail": "birds@example.com", "EmailStatus": "NeedToSend"},
              "upd-1", sent=sent)
    [update] = posts(sent)
    assert update.json == {"Id": invoice["Id"], "SyncToken": "0", "sparse": True, "DueDate": "2024-04-30",
                           "CustomerMemo": {"value": "Thanks!"}, "BillEmail": {"Address": "birds@example.com"},
                           "EmailStatus": "NeedToSend"}
    assert update.params == {"minorversion": "75", "requestid": "upd-1"}
    assert out == {"id": invoice["Id"], "sync_token": "1", "status": "updated",
                   "changed": ["BillEmail", "CustomerMemo", "DueDate", "EmailStatus"],
                   "doc_number": invoice["DocNumber"]}
    now = http_get(qbo, "invoice", invoice["Id"])
    assert now["DueDate"] == "2024-04-30" and now["CustomerMemo"] == {"value": "Thanks!"}
    # everything not sent is kept
    for key in ("Line", "CustomerRef", "PrivateNote", "TotalAmt", "DocNumber", "TxnDate"):
        assert now[key] == invoice[key], key
    # the same update again: nothing to send
    sent = []
    again = run(qbo, UPDATE_INVOICE, {"Id": invoice["Id"], "DueDate": "2024-04-30"}, "upd-2", sent=sent)
    assert (again["status"], again["changed"], [r.method for r in sent]) == ("unchanged", [], ["GET"])
    assert sandbox.stats()["updated"][REALM] == {"invoice": 1}


def test_a_customer_update_keeps_what_it_does_not_name(qbo, sandbox):
    sent: list[Request] = []
    out = run(qbo, UPDATE_CUSTOMER, {"Id": "2", "PrimaryEmailAddr": "surf@example.com", "Notes": "VIP"},
              "cust-1", sent=sent)
    assert posts(sent)[0].json == {"Id": "2", "SyncToken": "0", "sparse": True,
                                   "PrimaryEmailAddr": {"Address": "surf@example.com"}, "Notes": "VIP"}
    assert out == {"id": "2", "sync_token": "1", "status": "updated", "changed": ["Notes", "PrimaryEmailAddr"],
                   "display_name": "Bill's Windsurf Shop", "active": True}
    customer = http_get(qbo, "customer", "2")
    assert customer["CompanyName"] == "Bill's Windsurf Shop" and customer["Notes"] == "VIP"
    off = run(qbo, UPDATE_CUSTOMER, {"Id": "2", "Active": False}, "cust-2")
    assert (off["active"], http_get(qbo, "customer", "2")["Active"]) == (False, False)
    with pytest.raises(VendorError) as info:  # the name of another customer
        run(qbo, UPDATE_CUSTOMER, {"Id": "3", "DisplayName": "Amy's Bird Sanctuary"}, "cust-3")
    assert info.value.vendor_code == "6240" and info.value.kind == "permanent"


def test_a_customer_changed_between_read_and_write_is_read_again(qbo, sandbox):
    moved = []

    def someone_edits_it(request):
        if not moved:
            moved.append(touch(qbo, "customer", "3", CompanyName="Cool Cars Ltd"))

    sent: list[Request] = []
    out = run(qbo, UPDATE_CUSTOMER, {"Id": "3", "Notes": "Net 30"}, "cust-stale", sent=sent,
              before_post=someone_edits_it)
    assert out["status"] == "updated" and out["sync_token"] == "2"
    assert [r.method for r in sent] == ["GET", "POST", "GET", "POST"]
    customer = http_get(qbo, "customer", "3")
    assert (customer["CompanyName"], customer["Notes"]) == ("Cool Cars Ltd", "Net 30")  # both kept

    with pytest.raises(VendorError) as info:  # changed before each write: the error, after one retry
        run(qbo, UPDATE_CUSTOMER, {"Id": "3", "Notes": "Net 60"}, "cust-busy",
            before_post=lambda request: touch(qbo, "customer", "3", CompanyName="Busy"))
    assert info.value.vendor_code == "5010"
    assert http_get(qbo, "customer", "3")["Notes"] == "Net 30"


@pytest.mark.parametrize("action, data, needle", [
    (UPDATE_INVOICE, {"Id": "1"}, "no field to change"),
    (UPDATE_INVOICE, {"DueDate": "2024-01-01"}, "/Id: missing"),
    (UPDATE_INVOICE, {"Id": "1", "DueDate": "2024-02-30"}, "not a calendar date"),
    (UPDATE_INVOICE, {"Id": "1", "DocNumber": "x" * 22}, "keeps at most 21"),
    (UPDATE_INVOICE, {"Id": "1", "EmailStatus": "Sent"}, "must be one of NotSet, NeedToSend, EmailSent"),
    (UPDATE_INVOICE, {"Id": "1", "BillEmail": "nobody"}, "must be an email address"),
    (UPDATE_INVOICE, {"Id": "1", "Balance": "0.00"}, "unknown input key 'Balance'"),
    (UPDATE_CUSTOMER, {"Id": "1?x=1", "Notes": "x"}, "/Id: Id must be the QuickBooks Id"),
    (UPDATE_CUSTOMER, {"Id": "1", "Active": "false"}, "Active must be true or false"),
    (UPDATE_CUSTOMER, {"Id": "1", "DisplayName": " "}, "DisplayName is empty"),
])
def test_update_input_mistakes_are_refused_before_a_request(qbo, sandbox, action, data, needle):
    with pytest.raises(InputError) as info:
        run(qbo, action, data)
    assert needle in info.value.message
    assert sandbox.requests() == []


def test_retry_request_ids_stay_within_fifty_characters():
    assert synctoken.retry_request_id("abc", 0) == "abc"
    assert synctoken.retry_request_id("abc", 1) == "abc-r1"
    long_key = "k" * 50
    derived = synctoken.retry_request_id(long_key, 1)
    assert len(derived) == 50 and derived.endswith("-r1") and derived == synctoken.retry_request_id(long_key, 1)


# --- dry-run --------------------------------------------------------------------------------------

def dry(action) -> tuple[list[Request], Any]:
    """Run an action on its sample as dry-run does: nothing linked, every request answered
    with the action's sample response."""
    ctx = ActionContext(Connection("quickbooks", "quickbooks", {"base_url": "https://quickbooks.api.intuit.com",
                                                                "realm_id": "REALM_ID"}),
                        idempotency_key="dry-run-key")
    driven = kit_drive(action.perform(action.sample, ctx), action.sample_response_for)
    return driven.requests, driven.value


BASE = "https://quickbooks.api.intuit.com/v3/company/REALM_ID"


@pytest.mark.parametrize("action, shown", [
    (FIND_ITEM, [("GET", f"{BASE}/query", None)]),
    (FIND_OR_CREATE_ITEM, [("GET", f"{BASE}/query", None), ("POST", f"{BASE}/item", "dry-run-key")]),
    (FIND_ACCOUNT, [("GET", f"{BASE}/query", None)]),
    (VOID_INVOICE, [("GET", f"{BASE}/invoice/130", None), ("POST", f"{BASE}/invoice", "dry-run-key")]),
    (UPDATE_INVOICE, [("GET", f"{BASE}/invoice/130", None), ("POST", f"{BASE}/invoice", "dry-run-key")]),
    (UPDATE_CUSTOMER, [("GET", f"{BASE}/customer/58", None), ("POST", f"{BASE}/customer", "dry-run-key")]),
], ids=IDS)
def test_dry_run_of_each_action_shows_its_requests(action, shown):
    requests, output = dry(action)
    assert [(r.method, r.url, r.params.get("requestid")) for r in requests] == shown
    for request in requests:
        assert request.params["minorversion"] == "75"
        if request.method == "POST":
            assert xsd.check(ENTITIES[request.url.rsplit("/", 1)[1]], request.json) == []
    assert list(jsonschema.Draft202012Validator(action.output_schema).iter_errors(output)) == []
    if action is VOID_INVOICE:
        assert requests[1].params["operation"] == "void" and output["status"] == "voided"
    if action is UPDATE_INVOICE:
        assert requests[1].json == {"Id": "130", "SyncToken": "3", "sparse": True, **{
            k: v for k, v in action.sample.items() if k != "Id"}}


def test_a_recipe_with_the_new_actions_dry_runs(run_cli, tmp_path):
    recipe = {
        "id": "items-and-updates", "version": 1,
        "description": "Every new QuickBooks action in one recipe, for a dry run: an account by number, "
                       "an item for the Stripe product, then a customer, an invoice update and a void.",
        "trigger": {"event": "stripe.invoice.paid", "connection": "stripe"},
        "steps": [
            {"id": "account", "action": "quickbooks.find_account", "connection": "quickbooks",
             "input": {"AcctNum": "1200"}},
            {"id": "item", "action": "quickbooks.find_or_create_item", "connection": "quickbooks",
             "input": {"source_id": {"$path": "$.event.data.object.lines.data[0].id"},
                       "Name": {"$path": "$.event.data.object.lines.data[0].description"},
                       "IncomeAccountRef": "1"}},
            {"id": "customer", "action": "quickbooks.update_customer", "connection": "quickbooks",
             "input": {"Id": "58", "PrimaryEmailAddr": "birds@example.com"}},
            {"id": "invoice", "action": "quickbooks.update_invoice", "connection": "quickbooks",
             "input": {"Id": "130", "PrivateNote": {"$path": "$.event.data.object.id"}}},
            {"id": "void", "action": "quickbooks.void_invoice", "connection": "quickbooks",
             "input": {"Id": {"$path": "$.steps.invoice.id"}}},
        ],
    }
    path = tmp_path / "items-and-updates.json"
    path.write_text(json.dumps(recipe))
    code, out, err = run_cli("validate", str(path))
    assert code == 0, out + err
    code, out, err = run_cli("dry-run", str(path))
    assert code == 0, out + err
    report = jsonio.loads(out)
    steps = {step["id"]: step for step in report["steps"]}
    assert all(step["status"] == "would_run" for step in steps.values())
    assert "query=SELECT" in steps["account"]["request"]["url"]
    assert steps["item"]["link_lookups"][0]["target_type"] == "quickbooks.item"
    [create] = steps["item"]["later_requests"]
    assert create["method"] == "POST" and create["body"]["IncomeAccountRef"] == {"value": "1"}
    assert steps["invoice"]["request"]["method"] == "GET"
    [update] = steps["invoice"]["later_requests"]
    assert update["body"]["sparse"] is True and set(update["body"]) == {"Id", "SyncToken", "sparse", "PrivateNote"}
    [void] = steps["void"]["later_requests"]
    assert "operation=void" in void["url"] and void["body"] == {"Id": "130", "SyncToken": "3"}


def test_an_inactive_customer_holding_the_name_is_named_not_duplicated(qbo, sandbox):
    from ledgerlink_quickbooks.customers import FIND_OR_CREATE_CUSTOMER

    touch(qbo, "customer", "3", Active=False)  # Cool Cars
    data = {"source_id": "cus_inactive", "DisplayName": "Cool Cars"}
    with pytest.raises(InputError, match="'Cool Cars' \\(Id 3\\) is inactive; make it active"):
        run(qbo, FIND_OR_CREATE_CUSTOMER, data)
    assert [c for c in stored(sandbox, "customer") if c["DisplayName"] == "Cool Cars"] != []
    assert len([c for c in stored(sandbox, "customer") if c["DisplayName"] == "Cool Cars"]) == 1
