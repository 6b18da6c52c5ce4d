"""Recipes: the declarative JSON an integrator writes, from file to compiled steps.

:mod:`.recipe` loads and validates a recipe against its JSON Schema and the catalog;
:mod:`.paths`, :mod:`.mapping` and :mod:`.matching` compile its expressions, filters and
conditions once; :mod:`.transforms` holds the host's own transforms (``money``, ``date`` …);
:mod:`.registry` keeps the active recipes and their stored versions (hot reload).
"""
