"""The Recipes page: every loaded recipe and the folder's load errors; one recipe's text, its
stored versions and the diff between any two; a recipe checked, uploaded, or the folder
reloaded, each change behind a confirmation that names what it changes.

- ``GET /console/recipes``: the active recipes, those once loaded and no longer, and every
  problem that would refuse a reload of the folder now, shown at its lines;
- ``GET /console/recipes/<id>``: the active (else newest stored) version's text, numbered; the
  stored versions; with ``from`` and ``to``, the diff between two of them;
- ``POST /console/recipes``: a recipe pasted or uploaded, with ``do=check`` (valid, and what
  it would do; or every problem at its pointer) or ``do=upload`` (the confirmation: what saving
  it changes); nothing is changed;
- ``POST /console/recipes/<id>``: save the confirmed recipe to its file and reload;
- ``GET /console/recipes/reload`` (the confirmation) and ``POST /console/recipes/reload``.

A change is made by the host's own calls (:class:`~ledgerlink.web.operator.Operator`, which
the JSON API shares); its confirmation carries the folder's fingerprint, and a folder that
changed since is shown again rather than changed.
"""

from __future__ import annotations

import time
from typing import Any

from flask import Response, redirect, request

from ledgerlink import jsonio
from ledgerlink.errors import Problem, RecipeError
from ledgerlink.recipes.text import pretty, version_diff
from ledgerlink.web.operator import FolderPlan, RunFilter, operator
from ledgerlink_console.blueprint import console
from ledgerlink_console.recipe_text import diff_lines, numbered, problem_files
from ledgerlink_console.render import page

#: the most characters of a recipe the page reads (far more than any recipe needs)
MAX_TEXT = 1_000_000
#: the most characters of a recipe id read from a path or a form
MAX_ID = 200
#: the name a pasted recipe's problems carry
PASTED = "pasted recipe"
#: the list counts each recipe's runs over this many seconds (an index range: cheap)
RECENT = 24 * 3600


def _version(name: str) -> int | None:
    value = request.args.get(name, "")
    return int(value) if value.isascii() and value.isdigit() and 0 < len(value) <= 9 else None


@console.get("/recipes")
def recipes_list() -> Response:
    op = operator()
    active = op.recipes()
    plan = op.plan_reload() if op.recipe_folder() is not None else None
    gone = [rid for rid in op.recipe_ids() if rid not in {r["id"] for r in active}]
    reloaded = request.args.get("reloaded", "")
    saved = request.args.get("saved", "")[:MAX_ID]
    notice = (f"Recipe folder reloaded: {reloaded} recipe(s) active." if reloaded.isdigit()
              else f"Saved {saved} and reloaded the folder." if saved else None)
    since = time.time() - RECENT
    recent = {r["id"]: op.status_counts(RunFilter(recipe_id=r["id"], since=since)) for r in active}
    return page("recipes.html", nav="recipes", recipes=active, gone=gone, folder=op.recipe_folder(), recent=recent,
                plan=plan, files=problem_files(plan.problems, plan.texts) if plan else [], notice=notice)


def _text_of_version(recipe_id: str, version: int) -> str | None:
    body = operator().recipe_body(recipe_id, version)
    return pretty(body) if body is not None else None


@console.get("/recipes/<recipe_id>")
def recipe_page(recipe_id: str) -> Response:
    op = operator()
    recipe_id = recipe_id[:MAX_ID]
    versions = op.recipe_versions(recipe_id)
    active = next((r for r in op.recipes() if r["id"] == recipe_id), None)
    if not versions and active is None:
        return page("recipe_check.html", 404, nav="recipes", title=f"No recipe {recipe_id}", files=[],
                    problem=f"no recipe {recipe_id!r} was ever loaded; the Recipes page lists those that were")
    stored = [v["version"] for v in versions]
    shown = active["version"] if active else stored[0]
    text = _text_of_version(recipe_id, shown) if shown in stored else None
    old, new = _version("from"), _version("to")
    diff, problem = None, None
    if old is not None or new is not None:
        if old not in stored or new not in stored:
            problem = f"choose two stored versions of {recipe_id}: {', '.join(map(str, stored))}"
        else:
            body = op.recipe_body
            diff = diff_lines(version_diff(recipe_id, (old, body(recipe_id, old)), (new, body(recipe_id, new))))
    elif len(stored) > 1:
        old, new = stored[1], stored[0]
    status = 400 if problem else 200
    return page("recipe.html", status, nav="recipes", recipe_id=recipe_id, active=active, versions=versions,
                shown=shown, lines=numbered(text) if text is not None else [], diff=diff, problem=problem,
                old=old, new=new, notice=f"Saved version {request.args['saved'][:9]}."
                if request.args.get("saved", "").isdigit() else None)


def _submitted() -> tuple[str, str | None, str | None]:
    """The recipe of the form: its name, its text, and why there is none."""
    upload = request.files.get("file")
    if upload is not None and upload.filename:
        data = upload.read(MAX_TEXT + 1)
        name = upload.filename[:MAX_ID]
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError:
            return name, None, "the file is not UTF-8 text; save the recipe as UTF-8 JSON"
    else:
        name, text = PASTED, request.form.get("text", "")
    if len(text) > MAX_TEXT:
        return name, None, f"the recipe is longer than {MAX_TEXT} characters; a recipe is far shorter"
    if not text.strip():
        return name, None, "paste a recipe's JSON, or choose its file, then press Validate or Upload"
    return name, text, None


def _parse(name: str, text: str) -> tuple[Any, list[Problem]]:
    try:
        return jsonio.loads(text), []
    except jsonio.JSONDecodeError as exc:
        return None, [Problem(name, "", f"not valid JSON at line {exc.line}, column {exc.column}: {exc.msg}; "
                                        f"fix the syntax there")]
    except ValueError as exc:
        return None, [Problem(name, "", f"not a JSON recipe: {exc}; write plain JSON")]


def _refused(title: str, plan: FolderPlan, status: int = 422, **context: Any) -> Response:
    """The page of a recipe (or folder) with problems: each at its lines; nothing changed."""
    return page("recipe_check.html", status, nav="recipes", title=title, valid=False,
                files=problem_files(plan.problems, plan.texts), **context)


def _about(raw: dict[str, Any]) -> dict[str, Any]:
    """What a valid recipe does, in the words of its own fields."""
    trigger = raw.get("trigger", {})
    return {"id": raw["id"], "version": raw["version"], "description": raw.get("description", ""),
            "trigger": trigger.get("event"), "connection": trigger.get("connection"),
            "enabled": raw.get("enabled", True), "review": raw.get("review", False),
            "steps": [{"id": s.get("id"), "action": s.get("action"), "connection": s.get("connection")}
                      for s in raw.get("steps", [])]}


@console.post("/recipes")
def recipes_submit() -> Response:
    action = request.form.get("do", "check")
    name, text, missing = _submitted()
    if missing is not None or text is None:
        return page("recipe_check.html", 400, nav="recipes", title="Check a recipe", problem=missing, files=[])
    raw, problems = _parse(name, text)
    if problems:
        return _refused("The recipe is not JSON", FolderPlan([], problems, {name: text}))
    op = operator()
    path, plan = op.plan_recipe(raw, text, name)
    if any(p.file == (path or name) for p in plan.problems):
        return _refused("The recipe has problems; nothing was changed", plan)
    if action != "upload" or not plan.ok:  # valid; the rest of the folder may still refuse a save
        change = next((c for c in plan.changes if c.recipe_id == raw["id"]), None)
        return page("recipe_check.html", 200 if action != "upload" else 422, nav="recipes",
                    title="The recipe is valid", valid=True, about=_about(raw), change=change, path=path,
                    folder=op.recipe_folder(), files=problem_files(plan.problems, plan.texts))
    change = next(c for c in plan.changes if c.recipe_id == raw["id"])
    if op.recipe_folder() is None:
        return page("recipe_check.html", 409, nav="recipes", title="Nowhere to save it", valid=True,
                    about=_about(raw), change=change, path=None, folder=None,
                    problem="this server was started without --recipes: recipes cannot be saved here")
    return _confirm_save(raw, text, path, plan)


def _confirm_save(raw: dict[str, Any], text: str, path: str | None, plan: FolderPlan, status: int = 200,
                  notice: str | None = None) -> Response:
    return page("recipe_confirm.html", status, nav="recipes", what="save", recipe_id=raw["id"], path=path,
                changes=plan.changed(), fingerprint=plan.fingerprint, text=text, notice=notice)


@console.post("/recipes/<recipe_id>")
def recipe_save(recipe_id: str) -> Response:
    text = request.form.get("text", "")[:MAX_TEXT + 1]
    raw, problems = _parse(PASTED, text)
    if problems or not isinstance(raw, dict) or raw.get("id") != recipe_id:
        return page("recipe_check.html", 400, nav="recipes", title="Save a recipe", files=[],
                    problem="the form holds no recipe of that id; start again from the Recipes page")
    op = operator()
    path, plan = op.plan_recipe(raw, text, PASTED)
    if not plan.ok:
        return _refused("The recipe has problems; nothing was changed", plan)
    if plan.fingerprint != request.form.get("fingerprint"):
        return _confirm_save(raw, text, path, plan, 409, "The recipe folder changed since that confirmation: "
                                                         "read what saving does now, then confirm again.")
    try:
        saved = op.write_recipe(raw)
    except RecipeError as exc:  # the folder changed between the plan and the write
        return _refused("The recipe was refused; nothing was changed",
                        FolderPlan([], exc.problems, plan.texts))
    return redirect(f"/console/recipes/{saved['id']}?saved={saved['version']}", 303)


@console.get("/recipes/reload")
def reload_confirm() -> Response:
    op = operator()
    if op.recipe_folder() is None:
        return page("recipe_check.html", 409, nav="recipes", title="Reload the recipe folder", files=[],
                    problem="this server was started without --recipes: there is no folder to reload")
    plan = op.plan_reload()
    return page("recipe_confirm.html", 200 if plan.ok else 422, nav="recipes", what="reload",
                folder=op.recipe_folder(), changes=plan.changed(), unchanged=len(plan.changes) - len(plan.changed()),
                fingerprint=plan.fingerprint, files=problem_files(plan.problems, plan.texts))


@console.post("/recipes/reload")
def reload_post() -> Response:
    op = operator()
    if op.recipe_folder() is None:
        return redirect("/console/recipes/reload", 303)
    plan = op.plan_reload()
    if plan.fingerprint != request.form.get("fingerprint") or not plan.ok:
        return page("recipe_confirm.html", 409, nav="recipes", what="reload", folder=op.recipe_folder(),
                    changes=plan.changed(), unchanged=len(plan.changes) - len(plan.changed()),
                    fingerprint=plan.fingerprint, files=problem_files(plan.problems, plan.texts),
                    notice="The recipe folder changed since that confirmation: read what a reload does now.")
    try:
        loaded = op.reload_recipes()
    except RecipeError as exc:  # the folder changed between the plan and the reload
        again = op.plan_reload()
        return _refused("The reload was refused; nothing was changed",
                        again if not again.ok else FolderPlan([], exc.problems, {}))
    return redirect(f"/console/recipes?reloaded={len(loaded)}", 303)
