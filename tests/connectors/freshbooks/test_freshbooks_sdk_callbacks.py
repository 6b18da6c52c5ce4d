"""FreshBooks' official Python SDK (freshbooks-sdk) and the trigger side agree: the poll's
listings are the queries the SDK's builders make, the callback the connector registered and
verified is the one the SDK reads, and a callback the SDK made is confirmed by the command."""

from __future__ import annotations

from urllib.parse import parse_qsl

import pytest
from freshbooks import Client, FilterBuilder, IncludesBuilder, PaginateBuilder

from fb_sandbox import ACCOUNT, TOKEN, served
from ledgerlink.testing.actions import context
from ledgerlink_freshbooks import reads


def sdk_query(*builders) -> dict[str, str]:
    return dict(parse_qsl("".join(builder.build("AccountingResource") for builder in builders).lstrip("&")))


@pytest.mark.parametrize("obj", ["payment", "invoice", "client"])
def test_each_poll_listing_is_the_query_the_sdk_builds(obj):
    request = reads.changed_since(context("freshbooks", {"account_id": ACCOUNT}), obj, "2026-11-30", 3)
    builders = [FilterBuilder().between("updated", min="2026-11-30"), PaginateBuilder(3, 100)]
    if obj == "invoice":
        builders.append(IncludesBuilder().include("lines"))
    assert dict(request.params) == sdk_query(*builders)
    assert request.url.endswith(f"/accounting/account/{ACCOUNT}/{reads.OBJECTS[obj][0]}")


def test_the_sdk_reads_the_callback_the_command_made_and_the_command_confirms_one_the_sdk_made(
        tmp_path, monkeypatch):
    from test_freshbooks_callbacks_sandbox import configured

    from ledgerlink.engine.operations import build_runtime
    from ledgerlink.io.subscriptions import register
    from ledgerlink.web.app import create_app
    from ledgerlink.web.servers import background

    with served(callback_retry_seconds=[0.05]) as (loop, _clock):
        monkeypatch.setenv("FRESHBOOKS_API_URL", loop.url)
        fb = Client(client_id="freshbooks-sandbox-client", access_token=TOKEN, auto_retry=False)
        db, config, recipes = configured(loop.url, tmp_path / "sdk", monkeypatch)
        runtime = build_runtime(db=db, recipes=recipes, config_file=config)
        try:
            with background(create_app(runtime=runtime)) as server:
                address = f"{server.url}/webhooks/freshbooks"
                # a callback made with the SDK, not verified: the command confirms it, creating none
                made = fb.callbacks.create(ACCOUNT, {"event": "payment.create", "uri": address})
                assert made.verified is False
                (done,) = register(runtime.connections, "freshbooks", address, {"freshbooks.payment.created"},
                                   wait=30)
                assert (done.done, done.subscription.id) == ("confirmed", str(made.callbackid))
                listed = fb.callbacks.list(ACCOUNT)
                assert [(c.callbackid, c.event, c.uri, c.verified) for c in listed] == [
                    (made.callbackid, "payment.create", address, True)]
        finally:
            runtime.close()
