"""The Recipes page over HTTP (Flask's test client on ``serve``'s app): the list and the
folder's load errors at their lines; a recipe's numbered text, its versions and the diff
between two; a pasted or uploaded recipe validated (what it would do, or every problem at its
pointer with its fix); saving and reloading, each behind a confirmation that names every
change, refused when the folder changed since, and changing nothing when a recipe is wrong.
The browser test (test_console_recipes_browser.py) drives the same pages in Chromium."""

from __future__ import annotations

import importlib.util
import io
import json
import re
import time
from html import unescape

from console_helpers import QBO_SECRET, console_config, csrf_of, sign_in
from ledgerlink.testing.databases import migrated_db
from ledgerlink.web.app import create_app
from ledgerlink.web.operator import RunFilter
from runtime_fixtures import ADMIN_TOKEN, RECIPES
from vendor_files import REPO

BASE = "stripe-invoice-paid-to-quickbooks-journal"
CREDIT = "stripe-credit-note-to-quickbooks-journal"


def registry_of(app):
    return app.config["LEDGERLINK_RUNTIME"].registry


def raw_of(app, name=BASE) -> dict:
    return json.loads((registry_of(app).directory / f"{name}.json").read_text())


def active(app) -> dict[str, int]:
    return {rid: r.version for rid, r in registry_of(app).active().items()}


def text_of(answer) -> str:
    return unescape(answer.get_data(as_text=True))


def marked_lines(html: str) -> list[int]:
    return [int(n) for n in re.findall(r'<tr id="L(\d+)" class="marked">', html)]


def submit(client, do: str, text: str | None = None, file: tuple[bytes, str] | None = None):
    csrf = csrf_of(client.get("/console/recipes").get_data(as_text=True))
    data = {"csrf": csrf, "do": do, "text": text or ""}
    if file is not None:
        data["file"] = (io.BytesIO(file[0]), file[1])
    return client.post("/console/recipes", data=data, content_type="multipart/form-data")


def test_the_list_shows_every_active_recipe_and_the_nav_names_the_page(app, signed_in):
    html = text_of(signed_in.get("/console/recipes"))
    for rid, version in active(app).items():
        assert f'<a href="/console/recipes/{rid}">{rid}</a>' in html
        assert f'<a href="/console/?recipe={rid}">0 run(s)</a>' in html
    assert "<code>stripe.invoice.paid</code>" in html and "quickbooks.create_journal_entry" in html
    assert '<a href="/console/recipes" aria-current="page">Recipes</a>' in html
    assert "Every file of the folder loads" in html and "A reload now would be refused" not in html
    assert signed_in.get("/console/recipes/no-such-recipe").status_code == 404


def test_the_list_counts_each_recipes_runs_of_the_last_day_by_status(app, signed_in):
    """29 runs over 30 days, the newest an hour ago (a credit-note run): the last day holds that one."""
    bench = importlib.util.spec_from_file_location("console_synclog", REPO / "bench" / "console_synclog.py")
    module = importlib.util.module_from_spec(bench)
    bench.loader.exec_module(module)
    store = app.config["LEDGERLINK_RUNTIME"].store
    module.fill(str(store.engine.url), 29, end=time.time() - 3600)
    newest = store.run_page(RunFilter(), None, 1)[0]
    html = text_of(signed_in.get("/console/recipes"))
    assert newest["recipe_id"] == CREDIT
    cell = html.split(f'<a href="/console/?recipe={CREDIT}">')[1].split("</td>")[0]
    assert cell.startswith("1 run(s)</a>") and f'<span class="status st-{newest["status"]}">' in cell
    assert f'<a href="/console/?recipe={BASE}">0 run(s)</a>' in html


def test_the_folders_load_errors_are_shown_at_their_lines_with_their_fix(app, signed_in):
    broken = {**raw_of(app), "version": 9, "timezone": "Mars/Olympus"}
    path = registry_of(app).directory / f"{BASE}.json"
    path.write_text(json.dumps(broken, indent=2))
    html = text_of(signed_in.get("/console/recipes"))
    assert "A reload now would be refused (1 problem(s))" in html and str(path) in html
    line = next(n for n, text in enumerate(path.read_text().splitlines(), 1) if '"timezone"' in text)
    assert marked_lines(html) == [line]
    assert '<code class="pointer">/timezone</code>' in html
    assert "unknown time zone 'Mars/Olympus'" in html
    assert '<span class="label">Fix:</span> use an IANA name such as Europe/Paris' in html
    assert active(app)[BASE] != 9  # shown, not loaded


def test_a_recipe_page_numbers_its_text_and_lists_its_versions(app, signed_in):
    html = text_of(signed_in.get(f"/console/recipes/{BASE}"))
    version = active(app)[BASE]
    assert f"<dt>Active</dt><dd>version {version}</dd>" in html
    body = json.dumps(raw_of(app), indent=2)
    numbered = re.findall(r'<tr id="L(\d+)">', html)
    assert len(numbered) == len(body.splitlines())
    assert '<th scope="row" class="ln">1</th>' in html
    assert re.search(r'<td>\d+ <span class="status st-succeeded">active</span></td><td><time datetime="', html)
    assert "Compare two versions" not in html  # one version: nothing to compare


def save_version(app, signed_in, raw: dict) -> None:
    """Save ``raw`` through the console: upload, then confirm."""
    confirm = submit(signed_in, "upload", json.dumps(raw, indent=2))
    html = confirm.get_data(as_text=True)
    assert confirm.status_code == 200, text_of(confirm)
    fingerprint = re.search(r'name="fingerprint" value="([^"]+)"', html).group(1)
    text = unescape(re.search(r'name="text" value="([^"]*)"', html, re.S).group(1))
    done = signed_in.post(f"/console/recipes/{raw['id']}", data={"csrf": csrf_of(html), "fingerprint": fingerprint,
                                                                 "text": text})
    assert done.status_code == 303 and done.headers["Location"] == f"/console/recipes/{raw['id']}?saved={raw['version']}"


def test_a_diff_between_two_versions_marks_added_and_removed_lines(app, signed_in):
    first = active(app)[BASE]
    save_version(app, signed_in, {**raw_of(app), "version": first + 1, "description": "Now a newer one"})
    page = text_of(signed_in.get(f"/console/recipes/{BASE}"))
    assert "Compare two versions" in page and f'<option value="{first}" selected>' in page
    html = text_of(signed_in.get(f"/console/recipes/{BASE}?from={first}&to={first + 1}"))
    assert '<span class="added">+  "version": ' + str(first + 1) + ",</span>" in html
    assert '<span class="removed">-  "version": ' + str(first) + ",</span>" in html
    assert '<span class="added">+  "description": "Now a newer one",</span>' in html
    assert f'<span class="file">+++ {BASE} version {first + 1}</span>' in html
    alike = text_of(signed_in.get(f"/console/recipes/{BASE}?from={first}&to={first}"))
    assert "read alike" in alike
    wrong = signed_in.get(f"/console/recipes/{BASE}?from=77&to={first}")
    assert wrong.status_code == 400 and "choose two stored versions" in text_of(wrong)


def test_a_valid_recipe_is_validated_with_what_it_would_do_and_nothing_changes(app, signed_in):
    before = active(app)
    fresh = {**raw_of(app), "id": "fresh-copy"}
    html = text_of(submit(signed_in, "check", json.dumps(fresh)))
    assert "Recipe <strong>fresh-copy</strong> version" in html and "is valid" in html
    assert "an event <code>stripe.invoice.paid</code> arrives on stripe" in html
    assert "adds recipe fresh-copy" in html and "fresh-copy.json" in html
    newer = {**raw_of(app), "version": before[BASE] + 1}
    html = text_of(submit(signed_in, "check", file=(json.dumps(newer).encode(), "mine.json")))
    assert f"replaces version {before[BASE]} of {BASE} with version {before[BASE] + 1}" in html
    assert "changes nothing" in text_of(submit(signed_in, "check", json.dumps(raw_of(app))))
    assert active(app) == before and not (registry_of(app).directory / "fresh-copy.json").exists()


def test_every_problem_of_a_pasted_recipe_is_shown_at_its_pointer(app, signed_in):
    bad = raw_of(app)
    bad["steps"][0]["action"] = "quickbooks.create_jurnal_entry"
    bad["timezone"] = "Nowhere/Else"
    text = json.dumps(bad, indent=2)
    answer = submit(signed_in, "check", text)
    html = text_of(answer)
    assert answer.status_code == 422 and "Nothing was changed" in html
    lines = text.splitlines()
    expected = sorted([next(n for n, t in enumerate(lines, 1) if '"timezone"' in t),
                       next(n for n, t in enumerate(lines, 1) if "create_jurnal_entry" in t)])
    assert marked_lines(html) == expected
    assert '<code class="pointer">/steps/0/action</code>' in html and "unknown action" in html
    assert "`ledgerlink connectors` lists the actions" in html


def test_text_that_is_not_json_is_marked_at_its_line(signed_in):
    answer = submit(signed_in, "check", '{\n  "id": "x",\n  "version": 1,,\n}')
    html = text_of(answer)
    assert answer.status_code == 422 and marked_lines(html) == [3]
    assert "not valid JSON at line 3" in html and "fix the syntax there" in html
    empty = submit(signed_in, "check", "   ")
    assert empty.status_code == 400 and "paste a recipe" in text_of(empty)
    latin = submit(signed_in, "check", file=(b'{"id": "caf\xe9"}', "x.json"))
    assert latin.status_code == 400 and "not UTF-8" in text_of(latin)


def test_an_upload_is_confirmed_with_its_change_then_saved_and_loaded(app, signed_in):
    version = active(app)[BASE]
    confirm = submit(signed_in, "upload", file=(json.dumps({**raw_of(app), "version": version + 1}).encode(), "a.json"))
    html = text_of(confirm)
    assert confirm.status_code == 200 and f"Save {BASE}?" in html
    assert f"<strong>changed</strong>: {BASE} version {version} → version {version + 1} (new version)" in html
    assert active(app)[BASE] == version  # a confirmation changes nothing
    save_version(app, signed_in, {**raw_of(app), "version": version + 1})
    assert active(app)[BASE] == version + 1
    assert json.loads((registry_of(app).directory / f"{BASE}.json").read_text())["version"] == version + 1
    shown = text_of(signed_in.get(f"/console/recipes/{BASE}?saved={version + 1}"))
    assert f"Saved version {version + 1}." in shown


def test_an_upload_with_problems_changes_nothing(app, signed_in):
    before = (registry_of(app).directory / f"{BASE}.json").read_bytes()
    same_version = {**raw_of(app), "description": "changed, but not its version"}
    answer = submit(signed_in, "upload", json.dumps(same_version, indent=2))
    html = text_of(answer)
    assert answer.status_code == 422 and '<code class="pointer">/version</code>' in html
    assert 'raise "version" when you change a recipe' in html
    assert (registry_of(app).directory / f"{BASE}.json").read_bytes() == before


def test_a_save_confirmed_on_a_folder_that_changed_since_is_shown_again(app, signed_in):
    version = active(app)[BASE]
    newer = {**raw_of(app), "version": version + 1}
    html = submit(signed_in, "upload", json.dumps(newer)).get_data(as_text=True)
    (registry_of(app).directory / "copy.json").write_text(json.dumps({**raw_of(app, CREDIT), "id": "copy"}))
    again = signed_in.post(f"/console/recipes/{BASE}", data={"csrf": csrf_of(html), "fingerprint": "stale",
                                                            "text": json.dumps(newer)})
    assert again.status_code == 409 and "changed since that confirmation" in text_of(again)
    assert "<strong>added</strong>: copy version" in text_of(again)  # the save would load it too
    assert active(app)[BASE] == version
    other = signed_in.post("/console/recipes/other-id", data={"csrf": csrf_of(html), "text": json.dumps(newer)})
    assert other.status_code == 400


def test_the_folder_is_reloaded_after_its_confirmation(app, signed_in):
    version = active(app)[BASE]
    (registry_of(app).directory / f"{BASE}.json").write_text(json.dumps({**raw_of(app), "version": version + 1}))
    (registry_of(app).directory / f"{CREDIT}.json").unlink()
    confirm = signed_in.get("/console/recipes/reload")
    html = text_of(confirm)
    assert confirm.status_code == 200
    assert f"<strong>changed</strong>: {BASE} version {version} → version {version + 1}" in html
    assert f"<strong>removed</strong>: {CREDIT} version" in html
    assert active(app) == {BASE: version, CREDIT: active(app)[CREDIT]}  # nothing yet
    fingerprint = re.search(r'name="fingerprint" value="([^"]+)"', html).group(1)
    stale = signed_in.post("/console/recipes/reload", data={"csrf": csrf_of(html), "fingerprint": "stale"})
    assert stale.status_code == 409 and active(app)[BASE] == version
    done = signed_in.post("/console/recipes/reload", data={"csrf": csrf_of(html), "fingerprint": fingerprint})
    assert done.status_code == 303 and done.headers["Location"] == "/console/recipes?reloaded=1"
    assert active(app) == {BASE: version + 1}
    assert "Recipe folder reloaded: 1 recipe(s) active." in text_of(signed_in.get(done.headers["Location"]))
    assert f'<a href="/console/recipes/{CREDIT}">{CREDIT}</a>.' in text_of(signed_in.get("/console/recipes"))


def test_a_reload_of_a_broken_folder_is_refused_with_its_problems_and_changes_nothing(app, signed_in):
    before = active(app)
    path = registry_of(app).directory / "broken.json"
    path.write_text('{\n  "id": "broken",\n  "version": 1\n}\n')
    confirm = signed_in.get("/console/recipes/reload")
    html = text_of(confirm)
    assert confirm.status_code == 422 and "A reload now would be refused" in html
    assert "missing required property 'description'" in html and marked_lines(html) == [1]
    assert 'name="fingerprint"' not in html and "Reload the folder</button>" not in html  # nothing to press
    csrf = csrf_of(signed_in.get("/console/recipes").get_data(as_text=True))
    refused = signed_in.post("/console/recipes/reload", data={"csrf": csrf, "fingerprint": "any"})
    assert refused.status_code == 409 and "missing required property" in text_of(refused)
    assert active(app) == before


def test_no_post_of_the_recipes_page_passes_without_its_csrf_token(app, signed_in):
    for path in ("/console/recipes", "/console/recipes/reload", f"/console/recipes/{BASE}"):
        assert signed_in.post(path, data={"text": "{}"}).status_code == 403


def test_no_secret_is_shown_even_when_a_recipe_holds_one(app, signed_in):
    leaky = {**raw_of(app), "description": f"token {QBO_SECRET} pasted by mistake"}
    for answer in (submit(signed_in, "check", json.dumps(leaky)), submit(signed_in, "upload", json.dumps(leaky)),
                   signed_in.get("/console/recipes"), signed_in.get(f"/console/recipes/{BASE}")):
        assert QBO_SECRET not in answer.get_data(as_text=True)
    assert "[REDACTED]" in submit(signed_in, "check", json.dumps(leaky)).get_data(as_text=True)


def test_without_a_recipe_folder_recipes_are_checked_not_saved(tmp_path, monkeypatch):
    monkeypatch.setenv("LL_TEST_WHSEC", "whsec_test_secret")
    monkeypatch.setenv("LL_TEST_QBO_TOKEN", QBO_SECRET)
    app = create_app({"db": migrated_db(tmp_path), "config": str(console_config(tmp_path)),
                      "admin_token": ADMIN_TOKEN})
    try:
        client = app.test_client()
        sign_in(client)
        html = text_of(client.get("/console/recipes"))
        assert "started without a recipe folder" in html and 'value="upload"' not in html
        assert client.get("/console/recipes/reload").status_code == 409
        raw = json.loads((RECIPES / f"{BASE}.json").read_text())
        checked = text_of(submit(client, "check", json.dumps(raw)))
        assert "is valid" in checked and "no recipe folder to save it in" in checked
        assert submit(client, "upload", json.dumps(raw)).status_code == 409
    finally:
        app.config["LEDGERLINK_RUNTIME"].close()


def test_a_valid_recipe_beside_a_broken_file_is_valid_but_cannot_be_saved(app, signed_in):
    (registry_of(app).directory / "broken.json").write_text('{"id": "broken"')
    fresh = json.dumps({**raw_of(app), "id": "fresh-copy"})
    checked = submit(signed_in, "check", fresh)
    html = text_of(checked)
    assert checked.status_code == 200 and "is valid" in html
    assert "is refused while other files of the recipe folder have problems" in html
    assert "broken.json" in html and "not valid JSON at line 1" in html
    upload = submit(signed_in, "upload", fresh)
    assert upload.status_code == 422 and 'name="fingerprint"' not in upload.get_data(as_text=True)
    assert not (registry_of(app).directory / "fresh-copy.json").exists()


def test_the_recipes_pages_need_a_session_and_carry_the_csp(app, signed_in):
    client = app.test_client()
    for path in ("/console/recipes", f"/console/recipes/{BASE}", "/console/recipes/reload"):
        answer = client.get(path)
        assert answer.status_code == 303 and answer.headers["Location"].startswith("/console/login?next=")
        csp = signed_in.get(path).headers["Content-Security-Policy"]
        assert "unsafe-inline" not in csp and "frame-ancestors 'none'" in csp
    for path in ("/console/recipes", "/console/recipes/reload", f"/console/recipes/{BASE}"):
        assert client.post(path, data={"csrf": "x"}).status_code == 401
