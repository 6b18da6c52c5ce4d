"""Names a package exports that are imported only when first used: a plugin package imported
at every command's start (to register what it offers) stays cheap, and the modules behind a
name (a web framework, a spec, a state) load when something uses it."""

from __future__ import annotations

from collections.abc import Callable, Mapping


def lazy_names(package: str, names: Mapping[str, str]) -> Callable[[str], object]:
    """A package's module-level ``__getattr__`` importing ``names[name]`` (a module of
    ``package``) only when ``name`` is first used, so importing a sandbox package to register
    it stays cheap (Flask, a spec and the state load on first use)."""

    def __getattr__(name: str) -> object:
        module = names.get(name)
        if module is None:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        import importlib
        return getattr(importlib.import_module(f"{package}.{module}"), name)

    return __getattr__


__all__ = ["lazy_names"]
