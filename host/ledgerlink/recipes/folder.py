"""The recipe folder as the registry loads it: what a reload, or one new recipe file, would
change before it is done, and one file written (or removed) then every recipe reloaded, all
or nothing.

A :class:`FolderPlan` is read, never acted on: every recipe the folder would load compared
with the active ones (added, changed with its versions, removed, unchanged), every problem
that would refuse the reload (with the stored-version rule the store applies: a version that
already ran keeps its body), the text of each file a problem names, so a page can show it at
its pointer, and a fingerprint of the folder, so a change confirmed on one plan is refused
when the folder changed since. :func:`change_recipe_file` is what ``PUT`` and ``DELETE
/api/recipes/<id>`` and the console do; the reload itself is the registry's.
"""

from __future__ import annotations

import hashlib
import os
import re
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ledgerlink import jsonio
from ledgerlink.config import load_schema
from ledgerlink.errors import ConfigError, Problem, RecipeError
from ledgerlink.recipes.recipe import Recipe, check_recipe, validate
from ledgerlink.recipes.registry import Registry

__all__ = ["Change", "FolderPlan", "change_recipe_file", "plan_reload", "plan_write", "recipe_path",
           "recipe_text", "write_recipe"]

_ID = load_schema("recipe.schema.json")["properties"]["id"]
#: a recipe id that may name a file of the folder (the schema's pattern, its reserved id aside)
_FILE_ID = re.compile(_ID["pattern"])


@dataclass(frozen=True)
class Change:
    """What a reload does to one recipe: ``kind`` is added, changed, removed or unchanged."""

    recipe_id: str
    kind: str
    old_version: int | None
    new_version: int | None
    file: str


@dataclass(frozen=True)
class FolderPlan:
    """What the folder would load now, against what is active."""

    changes: list[Change]
    problems: list[Problem]
    #: the text, as written, of each file a problem names (by the problem's ``file``)
    texts: dict[str, str] = field(default_factory=dict)
    #: the folder's files and their bytes, hashed: equal plans of an unchanged folder agree
    fingerprint: str = ""

    @property
    def ok(self) -> bool:
        return not self.problems

    def changed(self) -> list[Change]:
        """The changes that are not ``unchanged``."""
        return [c for c in self.changes if c.kind != "unchanged"]


def recipe_text(raw: Any) -> str:
    """A recipe as the folder keeps it: two-space indents, a final newline."""
    return jsonio.dumps(raw, indent=2) + "\n"


def _files(directory: Path | None) -> list[Path]:
    return sorted(p for p in directory.glob("*.json") if p.is_file()) if directory is not None else []


def _fingerprint(files: list[Path]) -> str:
    digest = hashlib.sha256()
    for path in files:
        digest.update(path.name.encode("utf-8") + b"\0")
        try:
            digest.update(hashlib.sha256(path.read_bytes()).digest())
        except OSError:
            digest.update(b"unreadable")
    return digest.hexdigest()


def _version_problems(registry: Registry, recipes: list[Recipe]) -> list[Problem]:
    """The versions the store would refuse: one that already ran, with another body."""
    problems = []
    for recipe in recipes:
        stored = registry.store.recipe_version(recipe.id, recipe.version)
        if stored is not None and jsonio.loads(stored["body"]) != recipe.raw:
            problems.append(Problem(recipe.file, "/version",
                                    f"recipe {recipe.id!r} version {recipe.version} already ran with a different "
                                    f"body; raise \"version\" when you change a recipe"))
    return problems


def _changes(active: dict[str, Recipe], loaded: list[Recipe]) -> list[Change]:
    changes = []
    for recipe in sorted(loaded, key=lambda r: r.id):
        old = active.get(recipe.id)
        if old is None:
            changes.append(Change(recipe.id, "added", None, recipe.version, recipe.file))
        elif old.version != recipe.version or old.raw != recipe.raw:
            changes.append(Change(recipe.id, "changed", old.version, recipe.version, recipe.file))
        else:
            changes.append(Change(recipe.id, "unchanged", old.version, recipe.version, recipe.file))
    ids = {r.id for r in loaded}
    changes.extend(Change(r.id, "removed", r.version, None, r.file)
                   for r in sorted(active.values(), key=lambda r: r.id) if r.id not in ids)
    return changes


def _texts(problems: list[Problem], given: dict[str, str]) -> dict[str, str]:
    texts = {}
    for problem in problems:
        if problem.file in texts:
            continue
        if problem.file in given:
            texts[problem.file] = given[problem.file]
            continue
        try:
            texts[problem.file] = Path(problem.file).read_text("utf-8")
        except (OSError, UnicodeDecodeError):
            continue
    return texts


def plan_reload(registry: Registry) -> FolderPlan:
    """What :meth:`Registry.reload` would do now, done by nothing."""
    files = _files(registry.directory)
    recipes, problems = validate(files, registry.catalog, registry.config)
    problems = problems + _version_problems(registry, recipes)
    return FolderPlan(_changes(registry.active(), recipes) if not problems else [], problems,
                      _texts(problems, {}), _fingerprint(files))


def recipe_path(registry: Registry, recipe_id: Any) -> Path | None:
    """The file a recipe of ``recipe_id`` is written to: the active one's own file, else
    ``<id>.json`` in the folder; None without a folder or when the id cannot name a file."""
    if registry.directory is None or not isinstance(recipe_id, str) or not _FILE_ID.fullmatch(recipe_id) \
            or recipe_id == _ID["not"]["const"]:
        return None
    current = registry.active().get(recipe_id)
    return Path(current.file) if current is not None else registry.directory / f"{recipe_id}.json"


def plan_write(registry: Registry, raw: Any, text: str, name: str = "recipe") -> tuple[Path | None, FolderPlan]:
    """Where ``raw`` (a recipe, as ``text``) would be written and what the reload after it would
    change. Without a folder, ``raw`` is only checked (named ``name``) against the active recipes."""
    path = recipe_path(registry, raw.get("id") if isinstance(raw, dict) else None)
    file = str(path) if path is not None else name
    files = _files(registry.directory)
    others = [p for p in files if path is None or p.resolve() != path.resolve()]
    recipes, problems = validate(others, registry.catalog, registry.config) if others else ([], [])
    recipe, found = check_recipe(raw, file, registry.catalog, registry.config)
    problems.extend(found)
    if recipe is not None:
        twin = next((r for r in recipes if r.id == recipe.id), None)
        if twin is not None:
            problems.append(Problem(file, "/id", f"recipe id {recipe.id!r} is also used by {twin.file}; "
                                                 f"recipe ids must be unique"))
        recipes.append(recipe)
    if path is not None and path.resolve().parent != registry.directory.resolve():
        problems.append(Problem(file, "", "is a link out of the recipes folder; replace it with the file"))
    problems.extend(_version_problems(registry, recipes))
    plan = FolderPlan(_changes(registry.active(), recipes) if not problems else [], problems,
                      _texts(problems, {file: text}), _fingerprint(files))
    return path, plan


#: one change to the recipes folder at a time, so a rollback never undoes another change
_RECIPE_WRITES = threading.Lock()


def _put_file(path: Path, data: bytes | None) -> None:
    """Replace ``path`` with ``data`` atomically (``None`` removes it); no temporary file stays."""
    if data is None:
        path.unlink(missing_ok=True)
        return
    tmp = path.with_name(path.name + ".tmp")
    try:
        tmp.write_bytes(data)
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def change_recipe_file(registry: Registry, path: Path, data: bytes | None) -> list[Recipe]:
    """Write (or remove) one recipe file, then reload every recipe; returns them.

    Any failure, not only a refused recipe, puts the file back as it was before raising: the
    folder never keeps a file that would stop the next reload, or ``serve``, from starting.
    """
    with _RECIPE_WRITES:
        old = path.read_bytes() if path.exists() else None
        try:
            _put_file(path, data)
            return registry.reload()
        except BaseException:
            _put_file(path, old)
            raise


def write_recipe(registry: Registry, raw: Any) -> Recipe:
    """Check ``raw``, write it to its file (:func:`recipe_path`) and reload every recipe; a
    RecipeError (every problem) changes nothing."""
    if registry.directory is None:
        raise ConfigError("this server was started without --recipes; recipes cannot be written")
    path = recipe_path(registry, raw.get("id") if isinstance(raw, dict) else None)
    file = str(path) if path is not None else "recipe"
    recipe, problems = check_recipe(raw, file, registry.catalog, registry.config)
    if problems or path is None:
        raise RecipeError(problems or [Problem(file, "/id", "the id cannot name a recipe file; use lower-case "
                                                            "letters, digits, - and _")])
    if path.resolve().parent != registry.directory.resolve():  # the id names a file; this is a link
        raise RecipeError([Problem(str(path), "", "is a link out of the recipes folder; replace it with the file")])
    loaded = change_recipe_file(registry, path, recipe_text(raw).encode("utf-8"))
    return next(r for r in loaded if r.id == recipe.id)
