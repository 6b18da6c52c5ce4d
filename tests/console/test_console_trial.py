"""The trial sync page over HTTP (Flask's test client on the app ``serve`` runs): a recipe
dry-run on a sample, a pasted event and a stored event; text that is not JSON, an event the
trigger filter refuses and one the recipe cannot map, each answered on the page; the
request shown with the connection's secret redacted; the confirmation; and "send this one
for real" booking the event once in the QuickBooks sandbox, however often it is sent."""

from __future__ import annotations

import json
import re
from html import unescape

import pytest

from console_helpers import QBO_SECRET, csrf_of, served_console
from runtime_fixtures import deliver, entries_by_event, entry_posts, wait_settled
from stripe_events import invoice_paid_event

RECIPE = "stripe-invoice-paid-to-quickbooks-journal"


def text_of(answer) -> str:
    return unescape(answer.get_data(as_text=True))


def dry_run(client, **fields):
    """POST the trial form of ``RECIPE`` with ``fields``."""
    form = client.get(f"/console/trial?recipe={RECIPE}").get_data(as_text=True)
    return client.post("/console/trial", data={"csrf": csrf_of(form), "recipe": RECIPE, **fields})


def pasted(event: dict) -> str:
    return json.dumps(event, indent=2)


def test_the_page_lists_the_active_recipes_and_the_events_of_the_one_picked(signed_in):
    page = signed_in.get("/console/trial")
    html = text_of(page)
    assert page.status_code == 200 and 'aria-current="page">Trial sync' in html
    assert f'<option value="{RECIPE}"' in html and "stripe-credit-note-to-quickbooks-journal" in html
    picked = text_of(signed_in.get(f"/console/trial?recipe={RECIPE}"))
    assert "stripe.invoice.paid sample" in picked  # the trigger's own sample
    assert "no stripe.invoice.paid event received on stripe yet" in picked
    assert 'value="stored"' not in picked  # nothing to pick: no button for it
    for source in ("sample", "paste"):  # each choice its own button: no script picks the source
        assert f'<button type="submit" name="source" value="{source}">' in picked
    missing = signed_in.get("/console/trial?recipe=no-such-recipe")
    assert missing.status_code == 404 and "no active recipe 'no-such-recipe'" in text_of(missing)


def test_a_sample_is_dry_run_and_its_input_and_request_shown_side_by_side(signed_in):
    answer = signed_in.get(f"/console/trial?recipe={RECIPE}&source=sample&sample=0")
    html = text_of(answer)
    assert answer.status_code == 200
    assert "The filter accepts this event" in html and "Nothing was sent." in html
    steps = re.findall(r'<section class="step trial-step"', html)
    assert len(steps) >= 2  # the customer, then the journal entry
    assert html.count('<pre class="step-input">') == len(steps)
    assert "/v3/company/9130350000000000/journalentry" in html  # the exact address
    assert re.search(r"<code>POST http://127\.0\.0\.1:9/v3/company/9130350000000000/journalentry", html)
    assert "Send this one for real…" in html


def test_the_request_shown_has_the_connections_secret_redacted(signed_in):
    html = text_of(signed_in.get(f"/console/trial?recipe={RECIPE}&source=sample&sample=0"))
    assert QBO_SECRET not in html
    assert re.search(r"<dt>authorization</dt><dd><code>Bearer \[REDACTED\]</code>", html)


def test_a_pasted_event_is_read_as_its_webhook_reads_it(signed_in):
    event = invoice_paid_event("usd", 12345, event_id="evt_pasted_1")
    answer = dry_run(signed_in, source="paste", pasted=pasted(event))
    html = text_of(answer)
    assert answer.status_code == 200 and "on pasted event evt_pasted_1" in html
    assert "123.45" in html  # the pasted amount, mapped
    assert pasted(event) in html  # the textarea keeps what was pasted


@pytest.mark.parametrize("text, said", [
    ('{"id": "evt_1", "type": "invoice.paid",', "the pasted event is not JSON (line 1, column"),
    ("[1, 2]", "the pasted event is a JSON array, not an object"),
    ("null", "the pasted event is a JSON null, not an object"),
    ('{"id": "evt_1", "type": "invoice.paid"}', 'needs "data": {"object": {…}}'),
    ('{"a": "\\ud800"}', "a lone UTF-16 surrogate"),
    ("", "the pasted event is empty"),
])
def test_text_that_is_not_an_event_is_answered_on_the_page(signed_in, text, said):
    answer = dry_run(signed_in, source="paste", pasted=text)
    assert answer.status_code == 422 and said in text_of(answer)
    assert 'role="alert"' in answer.get_data(as_text=True)


def test_an_event_of_another_trigger_is_refused_with_the_fix(signed_in):
    event = invoice_paid_event("usd", 500, event_id="evt_other_1")
    event["type"] = "invoice.created"
    answer = dry_run(signed_in, source="paste", pasted=pasted(event))
    assert answer.status_code == 422 and "pass an event of that type" in text_of(answer)


def test_an_event_the_trigger_filter_refuses_is_shown_not_run(signed_in):
    event = invoice_paid_event("usd", 0, event_id="evt_nothing_paid")
    answer = dry_run(signed_in, source="paste", pasted=pasted(event))
    html = text_of(answer)
    assert answer.status_code == 200 and "the trigger filter does not accept this event" in html
    assert "$.event.data.object.amount_paid" in html  # the filter, shown
    assert "trial-step" not in html and "Send this one for real" not in html
    confirm = signed_in.post("/console/trial/confirm", data={"csrf": csrf_of(html), "recipe": RECIPE,
                                                             "source": "paste", "pasted": pasted(event)})
    assert confirm.status_code == 409 and "nothing to send for real" in text_of(confirm)


def test_an_event_the_recipe_cannot_map_shows_the_pointer_and_the_fix(signed_in):
    event = invoice_paid_event("usd", 500, event_id="evt_unmappable")
    event["data"]["object"]["status_transitions"]["paid_at"] = None  # the event schema allows it; the recipe cannot
    answer = dry_run(signed_in, source="paste", pasted=pasted(event))
    html = text_of(answer)
    assert answer.status_code == 422 and "The recipe cannot map this event</b> (step <code>entry</code>)" in html
    assert '<code class="pointer">/steps/1/input/TxnDate</code> in stripe-invoice-paid-to-quickbooks-journal.json' in html
    assert "expected a Unix time or an ISO 8601 date/time, got null" in html
    assert "Fix the recipe at that pointer" in html and "Send this one for real" not in html


def test_an_input_the_action_refuses_is_shown_with_its_fix(signed_in):
    answer = dry_run(signed_in, source="paste", pasted=pasted(invoice_paid_event("eur", 500, event_id="evt_eur")))
    html = text_of(answer)
    assert answer.status_code == 422 and "The recipe cannot map this event" in html
    assert "so give ExchangeRate" in html  # the fix, in the action's words


def test_a_recent_stored_event_is_offered_and_dry_run(signed_in, app):
    runtime = app.config["LEDGERLINK_RUNTIME"]
    deliver(runtime, invoice_paid_event("usd", 777, event_id="evt_stored_1"))
    html = text_of(signed_in.get(f"/console/trial?recipe={RECIPE}"))
    pk = re.search(r'<option value="(\d+)"[^>]*>evt_stored_1 · stripe.invoice.paid', html).group(1)
    answer = signed_in.get(f"/console/trial?recipe={RECIPE}&source=stored&stored={pk}")
    assert answer.status_code == 200 and "on stored event evt_stored_1" in text_of(answer)
    assert "7.77" in text_of(answer)
    wrong = signed_in.get(f"/console/trial?recipe=stripe-credit-note-to-quickbooks-journal&source=stored&stored={pk}")
    assert wrong.status_code == 404 and "pick one of the recent events listed" in text_of(wrong)


def test_the_confirmation_states_the_version_the_event_and_the_writes(signed_in):
    event = invoice_paid_event("usd", 4321, event_id="evt_confirm_1")
    html = text_of(dry_run(signed_in, source="paste", pasted=pasted(event)))
    confirm = signed_in.post("/console/trial/confirm", data={"csrf": csrf_of(html), "recipe": RECIPE,
                                                             "source": "paste", "pasted": pasted(event)})
    page = text_of(confirm)
    assert confirm.status_code == 200
    assert f"{RECIPE} version 2" in page and "Send event evt_confirm_1 for real?" in page
    writes = re.search(r'<ul class="writes">(.*?)</ul>', page, re.S).group(1)
    assert re.search(r"Step <code>entry</code> \(quickbooks.create_journal_entry\): <code>POST http://127\.0\.0\.1:9"
                     r"/v3/company/9130350000000000/journalentry", writes)  # the write it will make
    assert "<code>GET " not in writes and "43.21" in page
    assert 'name="version" value="2"' in page and 'action="/console/trial/send"' in page
    assert QBO_SECRET not in page


@pytest.fixture
def served(tmp_path, monkeypatch, qbo, sandbox):
    """``serve``'s app with one worker over the QuickBooks sandbox, and a signed-in client."""
    with served_console(tmp_path, monkeypatch, qbo.url) as (runtime, client):
        yield runtime, client, sandbox


def send(client, event: dict, version: str = "2"):
    html = text_of(client.get(f"/console/trial?recipe={RECIPE}"))
    return client.post("/console/trial/send", data={"csrf": csrf_of(html), "recipe": RECIPE, "version": version,
                                                    "source": "paste", "pasted": pasted(event)})


def test_sent_for_real_the_event_books_once_however_often_it_is_sent(served):
    runtime, client, sandbox = served
    event = invoice_paid_event("usd", 2500, event_id="evt_trial_real")
    first = send(client, event)
    assert first.status_code == 303
    run_id = int(re.fullmatch(r"/console/runs/(\d+)", first.headers["Location"]).group(1))
    assert wait_settled(runtime, 1) == {"succeeded": 1}
    again = send(client, event)
    assert again.status_code == 200
    assert f"run {run_id} books it, so nothing was sent again" in text_of(again)
    assert f'href="/console/runs/{run_id}"' in again.get_data(as_text=True)
    assert wait_settled(runtime, 1) == {"succeeded": 1}
    assert entries_by_event(sandbox) == {"evt_trial_real": 1} and len(entry_posts(sandbox)) == 1
    run = text_of(client.get(f"/console/runs/{run_id}"))
    assert "evt_trial_real" in run and "succeeded" in run


def test_an_event_delivered_by_webhook_before_is_not_booked_again(served):
    runtime, client, sandbox = served
    event = invoice_paid_event("usd", 900, event_id="evt_trial_delivered")
    deliver(runtime, event)
    assert wait_settled(runtime, 1) == {"succeeded": 1}
    again = send(client, event)
    assert again.status_code == 200 and "nothing was sent again" in text_of(again)
    assert wait_settled(runtime, 1) == {"succeeded": 1} and entries_by_event(sandbox) == {"evt_trial_delivered": 1}


def test_a_send_confirmed_on_an_older_version_is_confirmed_again(served):
    runtime, client, sandbox = served
    answer = send(client, invoice_paid_event("usd", 900, event_id="evt_trial_stale"), version="1")
    assert answer.status_code == 409 and "confirm again" in text_of(answer)
    assert runtime.store.counts() == {} and entry_posts(sandbox) == []


def test_a_send_without_its_csrf_token_is_refused(served):
    runtime, client, _ = served
    answer = client.post("/console/trial/send", data={"recipe": RECIPE, "version": "2", "source": "sample"})
    assert answer.status_code == 403 and runtime.store.counts() == {}


def test_another_event_about_the_same_invoice_is_not_booked_again(served):
    runtime, client, sandbox = served
    first = invoice_paid_event("usd", 1500, event_id="evt_trial_first")
    assert send(client, first).status_code == 303
    assert wait_settled(runtime, 1) == {"succeeded": 1}
    second = json.loads(json.dumps(first))
    second["id"] = "evt_trial_second"  # Stripe's second delivery of the same invoice's payment, under a new id
    answer = send(client, second)
    assert answer.status_code == 200 and "already booked the object of event evt_trial_second" in text_of(answer)
    assert wait_settled(runtime, 1) == {"succeeded": 1} and len(entry_posts(sandbox)) == 1


def hidden_fields(html: str, action: str) -> dict[str, str]:
    """The hidden fields of the page's form posting to ``action``, as a browser posts them."""
    form = re.search(rf'<form method="post" action="{action}"[^>]*>.*?</form>', html, re.S).group(0)
    return {name: unescape(value) for name, value in
            re.findall(r'<input type="hidden" name="(\w+)" value="([^"]*)"', form)}


def test_a_sample_confirmed_is_the_event_sent_and_sent_once(served):
    runtime, client, sandbox = served
    result = client.get(f"/console/trial?recipe={RECIPE}&source=sample&sample=1").get_data(as_text=True)
    event_id = re.search(r"Dry-run of \S+ version 2 on sample: .*\((evt_demo_\w+)\)</h2>", result).group(1)
    confirm = client.post("/console/trial/confirm", data=hidden_fields(result, "/console/trial/confirm"))
    page = confirm.get_data(as_text=True)
    assert confirm.status_code == 200 and f"Send event {event_id} for real?" in page
    fields = hidden_fields(page, "/console/trial/send")
    assert fields["version"] == "2" and fields["source"] == "sample" and event_id in fields["event"]
    first = client.post("/console/trial/send", data=fields)  # the confirmation's form, as the browser posts it
    assert first.status_code == 303
    again = client.post("/console/trial/send", data=fields)  # pressed twice
    assert again.status_code == 200 and "nothing was sent again" in text_of(again)
    assert wait_settled(runtime, 1) == {"succeeded": 1}
    assert entries_by_event(sandbox) == {event_id: 1}


def test_a_secret_pasted_into_an_event_is_never_shown(signed_in):
    event = invoice_paid_event("usd", 600, event_id="evt_secret_pasted")
    event["data"]["object"]["customer_name"] = f"Customer {QBO_SECRET}"
    answer = dry_run(signed_in, source="paste", pasted=pasted(event))
    html = answer.get_data(as_text=True)
    assert answer.status_code == 200 and QBO_SECRET not in html
    assert "Customer [REDACTED]" in unescape(html)


def test_a_disabled_recipe_is_dry_run_but_sends_nothing(served):
    runtime, client, sandbox = served
    path = runtime.registry.directory / f"{RECIPE}.json"
    recipe = json.loads(path.read_text())
    recipe.update(version=3, enabled=False)
    path.write_text(json.dumps(recipe))
    runtime.registry.reload()
    event = invoice_paid_event("usd", 800, event_id="evt_trial_disabled")
    result = dry_run(client, source="paste", pasted=pasted(event))
    assert result.status_code == 200 and "would run, once the recipe is enabled" in text_of(result)
    assert "Send this one for real" not in text_of(result)
    confirm = client.post("/console/trial/confirm", data={"csrf": csrf_of(text_of(result)), "recipe": RECIPE,
                                                          "source": "paste", "pasted": pasted(event)})
    assert confirm.status_code == 409 and "is disabled, so it books nothing" in text_of(confirm)
    sent = send(client, event, version="3")
    assert sent.status_code == 409 and "is disabled, so it books nothing" in text_of(sent)
    assert runtime.store.counts() == {} and entry_posts(sandbox) == []


def test_a_send_with_text_that_is_not_an_event_is_answered_on_the_page(signed_in, app):
    html = text_of(signed_in.get(f"/console/trial?recipe={RECIPE}"))
    for version in ("2", "1"):  # as confirmed, and confirmed on an older version
        answer = signed_in.post("/console/trial/send", data={"csrf": csrf_of(html), "recipe": RECIPE, "version": version,
                                                             "source": "paste", "pasted": "{not json"})
        assert answer.status_code == 422 and "the pasted event is not JSON (line 1, column 2" in text_of(answer)
    assert app.config["LEDGERLINK_RUNTIME"].store.counts() == {}


def test_a_paste_too_long_to_be_one_event_is_refused_on_the_page(signed_in):
    answer = dry_run(signed_in, source="paste", pasted='{"id": "evt_big", "pad": "' + "x" * 400_000 + '"}')
    assert answer.status_code == 422 and "at most 400000 are read: paste one event" in text_of(answer)
