"""Compiling and evaluating recipe expressions outside a recipe, for tests of mappings and
transforms (a connector's own transforms too: pass a catalog that holds them)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from ledgerlink.connectors.catalog import Catalog
from ledgerlink.errors import Problem
from ledgerlink.recipes import transforms
from ledgerlink.recipes.mapping import Evaluator, compile_mapping
from ledgerlink.recipes.paths import Scope


def core_catalog() -> Catalog:
    """A catalog with only the host's own transforms."""
    catalog = Catalog()
    transforms.ledgerlink_register_transforms(catalog.registrar("transform", "core"))
    return catalog


def compile_expr(template: Any, lookups: Mapping[str, Mapping[str, Any]] | None = None,
                 timezone: str = "UTC", catalog: Catalog | None = None,
                 steps: Iterable[str] = ()) -> tuple[Evaluator, list[Problem]]:
    """Compile ``template`` as the input of step ``s`` of recipe ``r`` (``steps``: the ids of
    earlier steps it may read); returns the evaluator and every problem found."""
    catalog = catalog or core_catalog()
    steps = tuple(steps)
    scope = Scope(file="r.json", recipe_id="r", step_id="s", transforms=catalog.transforms,
                  lookups=dict(lookups or {}), timezone=timezone, earlier_steps=steps,
                  all_steps=steps + ("s",))
    evaluate = compile_mapping(template, "/steps/0/input", scope)
    return evaluate, scope.problems


def evaluate(template: Any, doc: Mapping[str, Any], **options: Any) -> Any:
    """``template`` evaluated on ``doc``; fails the test if it does not compile cleanly.
    ``options`` are those of :func:`compile_expr`."""
    fn, problems = compile_expr(template, **options)
    if problems:
        raise AssertionError("unexpected problems: " + "; ".join(map(str, problems)))
    return fn(doc)
