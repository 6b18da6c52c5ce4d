"""The recipe registry: the active recipes, hot-reloaded, and every version a run may need.

Recipes are read from one folder (:func:`ledgerlink.recipes.recipe.validate`); each version
is stored, so a run planned on one version finishes on it after a newer one is loaded,
in this process or another.
"""

from __future__ import annotations

import threading
from pathlib import Path

from ledgerlink import jsonio
from ledgerlink.config import Config
from ledgerlink.connectors.catalog import Catalog
from ledgerlink.errors import ConfigError, Problem, RecipeError
from ledgerlink.recipes.recipe import Recipe, check_recipe, validate
from ledgerlink.store import Store


class Registry:
    """The active recipes (newest version of each file) and every compiled version seen.

    A reload is atomic: every file valid, or nothing changes. Versions stay compiled, so a
    run planned on version 1 finishes on version 1 after version 2 is loaded.
    """

    def __init__(self, catalog: Catalog, config: Config, store: Store, directory: str | Path | None) -> None:
        self.catalog = catalog
        self.config = config
        self.store = store
        self.directory = Path(directory) if directory else None
        self._lock = threading.Lock()
        self._active: dict[str, Recipe] = {}
        self._by_trigger: dict[str, list[Recipe]] = {}
        self._versions: dict[tuple[str, int], Recipe] = {}
        #: (connection, entity kind) pairs a step of a compiled version writes (``Action.entity``)
        self._written: frozenset[tuple[str, str]] = frozenset()
        self.generation = 0

    def reload(self) -> list[Recipe]:
        """Load every recipe of the directory; RecipeError (with every problem) changes nothing."""
        if self.directory is None:
            return []
        paths = [self.directory] if any(self.directory.glob("*.json")) else []
        recipes, problems = validate(paths, self.catalog, self.config)
        if problems:
            raise RecipeError(problems)
        return self._activate(recipes)

    def _activate(self, recipes: list[Recipe]) -> list[Recipe]:
        saved = self.store.save_recipe_versions(
            (r.id, r.version, jsonio.dumps(r.raw), r.file) for r in recipes)
        if saved:
            raise RecipeError([Problem(p.split(":/")[0], "/version", p.split(": ", 1)[1]) for p in saved])
        written = self.store.written_kinds()
        by_trigger: dict[str, list[Recipe]] = {}
        for recipe in recipes:
            if recipe.enabled:
                by_trigger.setdefault(recipe.trigger.name, []).append(recipe)
        with self._lock:
            for recipe in recipes:
                self._versions[(recipe.id, recipe.version)] = recipe
            # what the recipes write, and what ledgerlink ever wrote (a recipe since removed
            # wrote entities whose webhooks may still come: they are echoes too)
            self._written = self._written | _written_by(recipes) | written
            self._active = {r.id: r for r in recipes}
            self._by_trigger = by_trigger
            self.generation += 1
        return recipes

    def active(self) -> dict[str, Recipe]:
        return dict(self._active)

    def idle_reason(self) -> str | None:
        """Why nothing will run (no active recipe), in words that say what to do; None when
        recipes are loaded."""
        if self._active:
            return None
        if self.directory is None:
            return "no recipes: this process was started without a recipe folder, so no event starts a run"
        return (f"no recipes in {self.directory.resolve()}: no event starts a run until recipe files are "
                f"added there (then POST /api/recipes/reload); `ledgerlink init` writes examples to start from")

    def for_trigger(self, trigger: str) -> list[Recipe]:
        return list(self._by_trigger.get(trigger, ()))

    def version(self, recipe_id: str, version: int) -> Recipe:
        """The compiled recipe of a version, from memory or from its stored body."""
        recipe = self._versions.get((recipe_id, version))
        if recipe is not None:
            return recipe
        row = self.store.recipe_version(recipe_id, version)
        if row is None:
            raise ConfigError(f"recipe {recipe_id!r} version {version} is not in the database")
        recipe, problems = check_recipe(jsonio.loads(row["body"]), row["file"] or recipe_id,
                                        self.catalog, self.config)
        if recipe is None:
            raise RecipeError(problems)
        with self._lock:
            self._versions[(recipe_id, version)] = recipe
            self._written = self._written | _written_by([recipe])
        return recipe

    def may_have_written(self, connection: str, entity: str) -> bool:
        """Whether a step of a recipe version this process compiled writes ``entity`` entities
        on ``connection``, or ledgerlink had written one when the recipes were last loaded (by a
        recipe since removed, whose echoes may still come) — when neither, an event about such
        an entity cannot be ledgerlink's echo and its ``writes`` lookup is skipped
        (:func:`ledgerlink.engine.echo.echo`)."""
        return (connection, entity) in self._written


def _written_by(recipes: list[Recipe]) -> frozenset[tuple[str, str]]:
    """The (connection, entity kind) pairs the steps of ``recipes`` write."""
    return frozenset((step.connection, step.action.entity)
                     for recipe in recipes for step in recipe.steps if step.action.entity)
