"""What a reload of the recipe folder, or one recipe written to it, would change, read before
anything is done: recipes added, changed (with both versions), removed and unchanged; every
problem that would refuse it, with the text of the file it names; a version that already ran
reused with another body; and a fingerprint that moves when the folder does."""

import json

import pytest

from ledgerlink.errors import RecipeError
from ledgerlink.recipes.folder import plan_reload, plan_write, recipe_text, write_recipe
from ledgerlink.recipes.text import pointer_lines
from ledgerlink.web.app import create_app
from runtime_fixtures import ADMIN_TOKEN, recipes_dir, write_config
from ledgerlink.testing.databases import migrated_db

BASE = "stripe-invoice-paid-to-quickbooks-journal"
CREDIT = "stripe-credit-note-to-quickbooks-journal"


@pytest.fixture
def registry(tmp_path, monkeypatch):
    monkeypatch.setenv("LL_TEST_WHSEC", "whsec_test_secret")
    monkeypatch.setenv("LL_TEST_QBO_TOKEN", "qbo-token-never-shown-1234")
    app = create_app({"db": migrated_db(tmp_path), "recipes": recipes_dir(tmp_path),
                      "config": str(write_config(tmp_path)), "admin_token": ADMIN_TOKEN})
    yield app.config["LEDGERLINK_RUNTIME"].registry
    app.config["LEDGERLINK_RUNTIME"].close()


def raw_of(registry, name=BASE) -> dict:
    return json.loads((registry.directory / f"{name}.json").read_text())


def version(registry, name=BASE) -> int:
    return registry.active()[name].version


def kinds(plan) -> dict[str, tuple]:
    return {c.recipe_id: (c.kind, c.old_version, c.new_version) for c in plan.changes}


def test_an_untouched_folder_would_change_nothing(registry):
    plan = plan_reload(registry)
    assert plan.ok and plan.changed() == []
    v, c = version(registry), version(registry, CREDIT)
    assert kinds(plan) == {BASE: ("unchanged", v, v), CREDIT: ("unchanged", c, c)}
    assert plan_reload(registry).fingerprint == plan.fingerprint


def test_a_reload_plan_names_each_recipe_added_changed_and_removed(registry):
    before = plan_reload(registry).fingerprint
    v, c = version(registry), version(registry, CREDIT)
    newer = {**raw_of(registry), "version": v + 1, "description": "a newer one"}
    (registry.directory / f"{BASE}.json").write_text(recipe_text(newer))
    (registry.directory / "copy.json").write_text(recipe_text({**raw_of(registry, CREDIT), "id": "copy"}))
    (registry.directory / f"{CREDIT}.json").unlink()
    plan = plan_reload(registry)
    assert plan.ok and plan.fingerprint != before
    assert kinds(plan) == {BASE: ("changed", v, v + 1), "copy": ("added", None, c), CREDIT: ("removed", c, None)}
    assert {r.id: r.version for r in registry.active().values()} == {BASE: v, CREDIT: c}  # nothing done
    registry.reload()
    assert plan_reload(registry).changed() == []


def test_a_broken_file_is_a_problem_with_its_text_and_changes_nothing(registry):
    broken = {**raw_of(registry), "version": version(registry) + 1}
    broken["steps"][0]["action"] = "quickbooks.no_such_action"
    path = registry.directory / f"{BASE}.json"
    path.write_text(recipe_text(broken))
    plan = plan_reload(registry)
    assert not plan.ok and plan.changes == []
    [problem] = plan.problems
    assert problem.pointer == "/steps/0/action" and "unknown action" in problem.message
    assert plan.texts[str(path)] == path.read_text()
    lines = pointer_lines(plan.texts[str(path)], problem.pointer)
    assert "no_such_action" in path.read_text().splitlines()[lines.first - 1]


def test_a_version_that_already_ran_keeps_its_body(registry):
    same_version = {**raw_of(registry), "description": "changed without a new version"}
    (registry.directory / f"{BASE}.json").write_text(recipe_text(same_version))
    plan = plan_reload(registry)
    assert [(p.pointer, "raise \"version\"" in p.message) for p in plan.problems] == [("/version", True)]
    with pytest.raises(RecipeError):
        registry.reload()  # the plan said what the reload does


def test_a_recipe_written_is_planned_against_the_rest_of_the_folder(registry):
    v, c = version(registry), version(registry, CREDIT)
    newer = {**raw_of(registry), "version": v + 2}
    path, plan = plan_write(registry, newer, recipe_text(newer))
    assert path == registry.directory / f"{BASE}.json" and plan.ok
    assert kinds(plan)[BASE] == ("changed", v, v + 2) and kinds(plan)[CREDIT] == ("unchanged", c, c)
    fresh = {**raw_of(registry), "id": "fresh"}
    path, plan = plan_write(registry, fresh, recipe_text(fresh))
    assert path == registry.directory / "fresh.json" and kinds(plan)["fresh"] == ("added", None, v)
    assert not path.exists()  # planned, not written
    assert write_recipe(registry, newer).version == v + 2
    assert registry.active()[BASE].version == v + 2


def test_a_recipe_with_problems_is_planned_with_its_own_text(registry):
    v = version(registry)
    bad = {**raw_of(registry), "version": v + 1, "timezone": "Mars/Olympus"}
    text = recipe_text(bad)
    path, plan = plan_write(registry, bad, text)
    [problem] = plan.problems
    assert problem.file == str(path) and problem.pointer == "/timezone"
    assert plan.texts[str(path)] == text and not plan.changes
    with pytest.raises(RecipeError):
        write_recipe(registry, bad)
    assert json.loads(path.read_text())["version"] == v  # the folder as it was


def test_without_a_folder_a_recipe_is_only_checked(tmp_path, monkeypatch):
    monkeypatch.setenv("LL_TEST_WHSEC", "whsec_test_secret")
    monkeypatch.setenv("LL_TEST_QBO_TOKEN", "qbo-token-never-shown-1234")
    raw = json.loads((recipes_dir(tmp_path) / f"{BASE}.json").read_text())
    app = create_app({"db": migrated_db(tmp_path), "config": str(write_config(tmp_path)), "admin_token": ADMIN_TOKEN})
    try:
        registry = app.config["LEDGERLINK_RUNTIME"].registry
        path, plan = plan_write(registry, raw, recipe_text(raw), "pasted")
        assert path is None and plan.ok and kinds(plan) == {BASE: ("added", None, raw["version"])}
        path, plan = plan_write(registry, {**raw, "id": "Not An Id"}, "{}", "pasted")
        assert path is None and [p.file for p in plan.problems] == ["pasted"] and plan.texts == {"pasted": "{}"}
    finally:
        app.config["LEDGERLINK_RUNTIME"].close()
