"""Recipe versions (``recipe_versions``): every version ever loaded, with its body, so a run
finishes on the version it started with and a version is never reused with another body.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import sqlalchemy as sa

from ledgerlink import jsonio
from ledgerlink.store.base import StoreBase
from ledgerlink.store.database import insert_ignore
from ledgerlink.store.schema import recipe_versions

_INSERT_RECIPE_VERSION = insert_ignore(recipe_versions, "recipe_id", "version")


class RecipeStore(StoreBase):
    """Recording and reading recipe versions."""

    def save_recipe_versions(self, versions: Iterable[tuple[str, int, str, str]], now: float | None = None) -> list[str]:
        """Record ``(recipe_id, version, body, file)``; returns problems for versions reused with another body."""
        now = self._now(now)
        problems = []
        with self.write_transaction() as conn:
            for recipe_id, version, body, file in versions:
                old = conn.execute(sa.select(recipe_versions.c.body).where(
                    recipe_versions.c.recipe_id == recipe_id, recipe_versions.c.version == version)).scalar()
                if old is None:
                    # processes starting together may record the same version at once
                    conn.execute(_INSERT_RECIPE_VERSION[self.engine.dialect.name],
                                 {"recipe_id": recipe_id, "version": version, "body": body, "file": file,
                                  "loaded_at": now})
                    old = conn.execute(sa.select(recipe_versions.c.body).where(
                        recipe_versions.c.recipe_id == recipe_id, recipe_versions.c.version == version)).scalar()
                if jsonio.loads(old) != jsonio.loads(body):
                    problems.append(f"{file}:/version: recipe {recipe_id!r} version {version} already ran "
                                    f"with a different body; raise \"version\" when you change a recipe")
            if problems:
                conn.rollback()
        return problems

    def recipe_version(self, recipe_id: str, version: int) -> dict[str, Any] | None:
        """The stored version of a recipe (its body, file and when it was loaded); None when unknown."""
        with self.engine.connect() as conn:
            row = conn.execute(sa.select(recipe_versions).where(
                recipe_versions.c.recipe_id == recipe_id, recipe_versions.c.version == version)).mappings().first()
        return dict(row) if row else None
