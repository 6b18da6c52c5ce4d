"""The Recipes page in a real browser (headless Chromium, see :mod:`chromium_page`) against
``serve``'s app on loopback: a broken recipe written into the folder is reloaded from the
console and refused, its line highlighted with its pointer and fix; fixed, reloaded, its new
version listed; and the diff between its two versions shown. Each page is saved under
``build/screenshots/`` (recipes, recipe, recipe-error, recipe-diff)."""

from __future__ import annotations

import json

import pytest

from chromium_page import browser_page, shot
from console_helpers import QBO_SECRET, console_config
from ledgerlink.testing.databases import migrated_db
from ledgerlink.web.app import create_app
from ledgerlink.web.servers import background
from runtime_fixtures import ADMIN_TOKEN, recipes_dir

BASE = "stripe-invoice-paid-to-quickbooks-journal"


@pytest.fixture
def served(tmp_path, monkeypatch):
    """``serve``'s app on loopback, over a recipe folder of the test's own."""
    monkeypatch.setenv("LL_TEST_WHSEC", "whsec_test_secret")
    monkeypatch.setenv("LL_TEST_QBO_TOKEN", QBO_SECRET)
    app = create_app({"db": migrated_db(tmp_path), "recipes": recipes_dir(tmp_path),
                      "config": str(console_config(tmp_path)), "admin_token": ADMIN_TOKEN})
    with background(app) as server:
        yield app.config["LEDGERLINK_RUNTIME"].registry, server.url
    app.config["LEDGERLINK_RUNTIME"].close()


def test_a_broken_recipe_reloaded_is_highlighted_then_fixed_listed_and_diffed(served):
    registry, base = served
    path = registry.directory / f"{BASE}.json"
    good = json.loads(path.read_text())
    version = good["version"]
    # 409: a reload confirmed before the folder broke; 422: the folder's problems, shown
    with browser_page(expected_statuses=(409, 422)) as page:
        page.goto(f"{base}/console/login?next=/console/recipes")
        page.fill("#token", ADMIN_TOKEN)
        page.press("#token", "Enter")
        page.wait_for_url(f"{base}/console/recipes")
        assert page.inner_text(f"a[href='/console/recipes/{BASE}']") == BASE
        shot(page, "recipes")
        page.click(f"a[href='/console/recipes/{BASE}']")
        page.wait_for_url(f"**/console/recipes/{BASE}")
        assert page.locator("table.code tr[id^=L]").count() == len(json.dumps(good, indent=2).splitlines())
        shot(page, "recipe")

        # the reload is confirmed on a sound folder; a broken recipe lands before it is pressed
        page.click("nav a[href='/console/recipes']")
        page.click("a[href='/console/recipes/reload']")
        assert "Nothing: the folder reads as the recipes active now." in page.inner_text("main")
        broken = {**good, "version": version + 1,
                  "steps": [{**good["steps"][0], "action": "quickbooks.create_jornal_entry"}, *good["steps"][1:]]}
        text = json.dumps(broken, indent=2)
        path.write_text(text)
        page.click("button.confirm")
        page.wait_for_url(f"{base}/console/recipes/reload")
        bad_line = next(n for n, line in enumerate(text.splitlines(), 1) if "create_jornal_entry" in line)
        marked = page.locator("table.code tr.marked")
        assert marked.count() == 1 and marked.get_attribute("id") == f"L{bad_line}"
        assert "create_jornal_entry" in marked.inner_text()
        note = page.locator(".problem-note")
        assert note.locator("code.pointer").inner_text() == "/steps/0/action"
        assert "unknown action 'quickbooks.create_jornal_entry'" in note.inner_text()
        assert "`ledgerlink connectors` lists the actions" in note.locator(".fix").inner_text()
        assert page.locator("button.confirm").count() == 0  # nothing to confirm: nothing would load
        assert registry.active()[BASE].version == version
        shot(page, "recipe-error")

        # fixed: the reload names the new version, loads it, and the list shows it
        fixed = {**good, "version": version + 1, "description": "Fixed in the console's test"}
        path.write_text(json.dumps(fixed, indent=2))
        page.click("a[href='/console/recipes/reload']")  # "Look again"
        assert f"{BASE} version {version} → version {version + 1} (new version)" in page.inner_text("ul.changes")
        page.keyboard.press("Tab")
        page.focus("button.confirm")
        page.keyboard.press("Enter")  # the keyboard alone confirms
        page.wait_for_url(f"{base}/console/recipes?reloaded=2")
        row = page.locator("table.recipes tr", has=page.locator(f"a[href='/console/recipes/{BASE}']"))
        assert row.locator("td").nth(1).inner_text() == str(version + 1)
        assert registry.active()[BASE].version == version + 1

        # the diff between the two versions
        page.click(f"a[href='/console/recipes/{BASE}']")
        page.select_option("select[name=from]", str(version))
        page.select_option("select[name=to]", str(version + 1))
        page.click("form.filters button[type=submit]")
        page.wait_for_url(f"**/console/recipes/{BASE}?from={version}&to={version + 1}#diff")
        added = page.locator("pre.diff span.added").all_inner_texts()
        removed = page.locator("pre.diff span.removed").all_inner_texts()
        assert f'+  "version": {version + 1},' in added and f'-  "version": {version},' in removed
        assert '+  "description": "Fixed in the console\'s test",' in added
        page.locator("#diff").scroll_into_view_if_needed()
        shot(page, "recipe-diff")


def test_a_recipe_file_is_uploaded_confirmed_and_loaded(served, tmp_path):
    registry, base = served
    good = json.loads((registry.directory / f"{BASE}.json").read_text())
    version = good["version"]
    upload = tmp_path / "newer.json"
    upload.write_text(json.dumps({**good, "version": version + 1, "description": "Uploaded from the console"}))
    with browser_page() as page:
        page.goto(f"{base}/console/login?next=/console/recipes")
        page.fill("#token", ADMIN_TOKEN)
        page.press("#token", "Enter")
        page.wait_for_url(f"{base}/console/recipes")
        page.set_input_files("#file", str(upload))
        page.click("button[value=upload]")
        page.wait_for_url(f"{base}/console/recipes")  # the confirmation answers the form's POST
        assert page.inner_text("h1") == f"Save {BASE}?"
        assert f"{BASE} version {version} → version {version + 1} (new version)" in page.inner_text("ul.changes")
        assert registry.active()[BASE].version == version  # nothing saved yet
        shot(page, "recipe-upload-confirm")
        page.click("button.confirm")
        page.wait_for_url(f"**/console/recipes/{BASE}?saved={version + 1}")
        assert page.inner_text("p.notice") == f"Saved version {version + 1}."
        assert "Uploaded from the console" in page.inner_text("table.code")
        assert registry.active()[BASE].version == version + 1
